"""The fictional city of 江屿市: its units, people and inspections, written for the demo.

Everything here is invented. Deadlines are offsets in days from the day the demo is loaded,
so a fresh demo always has overdue tasks, tasks due this week and tasks due later.
"""

from tracker.models import InspectionKind, InspectionMode, Role, TaskStatus, UnitKind

ROOT = ("江屿市委", UnitKind.PARTY_COMMITTEE)

# (name, kind, children)
UNIT_TREE = [
    ("市纪委监委", UnitKind.DISCIPLINE, []),
    ("市委办公室", UnitKind.CITY_DEPARTMENT, []),
    ("市委组织部", UnitKind.CITY_DEPARTMENT, []),
    ("市委宣传部", UnitKind.CITY_DEPARTMENT, []),
    ("市委政法委", UnitKind.CITY_DEPARTMENT, []),
    ("市政府办公室", UnitKind.CITY_DEPARTMENT, []),
    ("市发展和改革委员会", UnitKind.CITY_DEPARTMENT, []),
    ("市教育局", UnitKind.CITY_DEPARTMENT, []),
    ("市财政局", UnitKind.CITY_DEPARTMENT, []),
    ("市人力资源和社会保障局", UnitKind.CITY_DEPARTMENT, []),
    ("市自然资源和规划局", UnitKind.CITY_DEPARTMENT, []),
    ("市住房和城乡建设局", UnitKind.CITY_DEPARTMENT, []),
    ("市交通运输局", UnitKind.CITY_DEPARTMENT, []),
    ("市农业农村局", UnitKind.CITY_DEPARTMENT, []),
    ("市卫生健康委员会", UnitKind.CITY_DEPARTMENT, []),
    ("市生态环境局", UnitKind.CITY_DEPARTMENT, []),
    ("市应急管理局", UnitKind.CITY_DEPARTMENT, []),
    ("市市场监督管理局", UnitKind.CITY_DEPARTMENT, []),
    ("市审计局", UnitKind.CITY_DEPARTMENT, []),
    ("市国有资产监督管理委员会", UnitKind.CITY_DEPARTMENT, []),
    ("临江区", UnitKind.COUNTY, [
        ("江滨街道", UnitKind.TOWNSHIP, [
            ("滨河社区", UnitKind.VILLAGE, []),
            ("望江社区", UnitKind.VILLAGE, []),
        ]),
        ("望湖街道", UnitKind.TOWNSHIP, []),
        ("柳岸镇", UnitKind.TOWNSHIP, [("柳岸村", UnitKind.VILLAGE, [])]),
    ]),
    ("青山区", UnitKind.COUNTY, [
        ("青山街道", UnitKind.TOWNSHIP, []),
        ("松林镇", UnitKind.TOWNSHIP, []),
        ("石门镇", UnitKind.TOWNSHIP, []),
    ]),
    ("云溪县", UnitKind.COUNTY, [
        ("云溪镇", UnitKind.TOWNSHIP, []),
        ("桃源乡", UnitKind.TOWNSHIP, []),
        ("竹坪乡", UnitKind.TOWNSHIP, []),
    ]),
    ("白沙县", UnitKind.COUNTY, [
        ("白沙镇", UnitKind.TOWNSHIP, []),
        ("北港镇", UnitKind.TOWNSHIP, []),
        ("红岩乡", UnitKind.TOWNSHIP, []),
    ]),
]

DEMO_PASSWORD = "demo12345"

# (username, full name, role, unit, covers subunits, supervision root, description)
USERS = [
    ("admin", "系统管理员", Role.ADMIN, None, False, None, "系统管理员：全部数据与用户、单位"),
    ("zgb", "周整改", Role.SUPERVISOR, "市委办公室", False, "江屿市委",
     "市委巡视整改办：督导全市任务、审核销号"),
    ("jiwei", "纪监督", Role.SUPERVISOR, "市纪委监委", False, "江屿市委",
     "市纪委监委督导组：督导全市任务"),
    ("linjiang_db", "林督办", Role.SUPERVISOR, "临江区", False, None,
     "临江区整改办：督导临江区及所辖街道、镇"),
    ("jiaoyu", "陈联络", Role.OFFICER, "市教育局", False, None, "市教育局联络员"),
    ("zhujian", "张联络", Role.OFFICER, "市住房和城乡建设局", False, None, "市住建局联络员"),
    ("nongye", "赵联络", Role.OFFICER, "市农业农村局", False, None, "市农业农村局联络员"),
    ("caizheng", "钱联络", Role.OFFICER, "市财政局", False, None, "市财政局联络员"),
    ("linjiang", "孙联络", Role.OFFICER, "临江区", True, None,
     "临江区联络员：可查看所辖街道、镇的任务"),
    ("jiangbin", "吴联络", Role.OFFICER, "江滨街道", False, None, "江滨街道联络员"),
]

S = TaskStatus

# Each task: (title, measures, lead unit, supporting units, deadline offset in days or None
# for long term, the status to drive it to, responsible leader, responsible person)
INSPECTIONS = [
    {
        "title": "省委第三巡视组巡视江屿市委反馈意见整改",
        "kind": InspectionKind.PROVINCIAL_INSPECTION,
        "mode": InspectionMode.REGULAR,
        "team": "省委第三巡视组",
        "target": "江屿市委",
        "target_unit": "江屿市委",
        "feedback_days_ago": 300,
        "deadline_offset": 30,
        "problems": [
            ("贯彻落实党中央决策部署方面", "推动重点产业项目落地跟踪问效不够，部分签约项目长期未开工。", [
                ("建立签约项目全周期跟踪台账", "对近三年签约项目逐一建档，明确责任领导和开工节点，按月通报进度。",
                 "市发展和改革委员会", ["市自然资源和规划局"], -120, S.COMPLETED, "刘副市长", "发改委项目科"),
                ("清理长期未开工项目并分类处置", "对超过一年未开工项目逐个约谈业主，确需退出的依法收回用地。",
                 "市自然资源和规划局", ["市发展和改革委员会", "市财政局"], -25, S.IN_PROGRESS, "刘副市长", "自然资源局用地科"),
            ]),
            ("贯彻落实党中央决策部署方面", "义务教育阶段课后服务覆盖不均衡，农村学校开展不足。", [
                ("推动农村学校课后服务全覆盖", "统筹城区教师走教，按学期考核课后服务开展率。",
                 "市教育局", ["云溪县", "白沙县"], -40, S.COMPLETED, "何副市长", "教育局基教科"),
                ("规范课后服务收费与经费保障", "制定课后服务经费保障办法，杜绝变相收费。",
                 "市教育局", ["市财政局"], 4, S.IN_PROGRESS, "何副市长", "教育局财务科"),
            ]),
            ("落实全面从严治党责任方面", "部分单位“三重一大”决策制度执行不严格，会议记录不完整。", [
                ("开展“三重一大”制度执行专项检查", "对市直单位近两年党组会议记录逐一核查，形成问题清单。",
                 "市纪委监委", [], -60, S.COMPLETED, "市纪委书记", "党风政风监督室"),
                ("修订完善议事规则", "指导各单位修订党组（党委）议事规则，报市委办公室备案。",
                 "市委办公室", [], -10, S.SUBMITTED, "市委秘书长", "市委办综合科"),
                ("建立决策事项常态化抽查机制", "每半年随机抽取不少于十家单位开展决策程序抽查。",
                 "市纪委监委", ["市委办公室"], None, S.LONG_TERM, "市纪委书记", "党风政风监督室"),
            ]),
            ("落实全面从严治党责任方面", "基层小微权力监督存在薄弱环节，村级财务公开不及时。", [
                ("推行村级财务每月公开", "统一公开模板，乡镇纪委每季度抽查公开情况。",
                 "临江区", ["江滨街道", "柳岸镇"], -30, S.BASICALLY_COMPLETED, "临江区委书记", "临江区纪委"),
                ("整治村级工程项目不规范问题", "对近三年村级工程开展审计抽查，问题线索移交纪检监察机关。",
                 "市审计局", ["临江区", "青山区"], -5, S.IN_PROGRESS, "市审计局局长", "审计局投资审计科"),
            ]),
        ],
    },
    {
        "title": "市委第二巡察组巡察市住房和城乡建设局反馈意见整改",
        "kind": InspectionKind.CITY_PATROL,
        "mode": InspectionMode.REGULAR,
        "team": "市委第二巡察组",
        "target": "市住房和城乡建设局党组",
        "target_unit": "市住房和城乡建设局",
        "feedback_days_ago": 150,
        "deadline_offset": 60,
        "problems": [
            ("落实监管职责方面", "老旧小区改造工程质量监管不到位，部分项目竣工验收走过场。", [
                ("开展老旧小区改造工程质量回头看", "对已竣工项目逐一复查，发现问题限期返工。",
                 "市住房和城乡建设局", ["临江区", "青山区"], -15, S.IN_PROGRESS, "住建局局长", "质量安全科"),
                ("完善竣工验收监督办法", "引入第三方质量检测，验收结果向居民公示。",
                 "市住房和城乡建设局", [], 2, S.NOT_STARTED, "住建局局长", "建管科"),
            ]),
            ("落实监管职责方面", "建筑市场违法分包、挂靠问题查处不力。", [
                ("开展建筑市场专项整治", "联合市场监管部门开展专项检查，查处结果按月通报。",
                 "市住房和城乡建设局", ["市市场监督管理局"], 10, S.IN_PROGRESS, "住建局分管副局长", "建筑市场科"),
                ("建立信用惩戒机制", "对查实违法分包企业纳入信用黑名单，限制参与政府投资项目。",
                 "市住房和城乡建设局", ["市发展和改革委员会"], 45, S.NOT_STARTED, "住建局分管副局长", "建筑市场科"),
            ]),
            ("干部队伍建设方面", "年轻干部培养使用不够，部分科室干部长期未轮岗。", [
                ("制定干部交流轮岗计划", "对在同一岗位满五年的干部全部纳入轮岗计划。",
                 "市住房和城乡建设局", ["市委组织部"], -3, S.SUBMITTED, "住建局党组书记", "人事科"),
                ("加强年轻干部实践锻炼", "选派年轻干部到项目一线和信访岗位锻炼。",
                 "市住房和城乡建设局", [], None, S.LONG_TERM, "住建局党组书记", "人事科"),
            ]),
        ],
    },
    {
        "title": "市委第一巡察组乡村振兴领域专项巡察反馈意见整改",
        "kind": InspectionKind.CITY_PATROL,
        "mode": InspectionMode.SPECIAL,
        "team": "市委第一巡察组",
        "target": "乡村振兴领域（市农业农村局及有关县区）",
        "target_unit": "市农业农村局",
        "feedback_days_ago": 90,
        "deadline_offset": 120,
        "problems": [
            ("资金使用管理方面", "衔接推进乡村振兴补助资金拨付滞后，部分资金闲置。", [
                ("清理盘活闲置资金", "逐笔核查结余资金，按规定调整用途或收回统筹。",
                 "市财政局", ["市农业农村局"], -8, S.IN_PROGRESS, "常务副市长", "财政局农业科"),
                ("建立资金拨付进度预警", "拨付进度低于序时进度的项目每月预警通报。",
                 "市农业农村局", ["市财政局"], 6, S.IN_PROGRESS, "分管副市长", "农业农村局计财科"),
            ]),
            ("项目建设管理方面", "部分产业帮扶项目建成后运营不善，带农增收效果不明显。", [
                ("逐个评估帮扶项目运营效益", "对帮扶项目开展绩效评价，效益差的制定盘活方案。",
                 "市农业农村局", ["云溪县", "白沙县"], 30, S.NOT_STARTED, "分管副市长", "农业农村局发展规划科"),
                ("完善联农带农利益联结机制", "推广“公司+合作社+农户”模式，明确分红比例。",
                 "云溪县", ["桃源乡", "竹坪乡"], 75, S.NOT_STARTED, "云溪县县长", "云溪县农业农村局"),
                ("规范村集体经济组织财务管理", "统一使用农村集体资产管理平台，实现账务网上公开。",
                 "白沙县", ["白沙镇", "北港镇", "红岩乡"], 1, S.IN_PROGRESS, "白沙县县长", "白沙县农经站"),
            ]),
        ],
    },
    {
        "title": "中央第十一巡视组反馈意见涉及江屿市整改任务",
        "kind": InspectionKind.CENTRAL_INSPECTION,
        "mode": InspectionMode.REGULAR,
        "team": "中央第十一巡视组",
        "target": "江屿市（省级分解任务）",
        "target_unit": "江屿市委",
        "feedback_days_ago": 400,
        "deadline_offset": -30,
        "problems": [
            ("防范化解重大风险方面", "地方政府隐性债务风险管控不够有力。", [
                ("制定隐性债务化解方案", "摸清存量，按年度制定化解计划并报省财政厅备案。",
                 "市财政局", ["市国有资产监督管理委员会"], -200, S.COMPLETED, "常务副市长", "财政局债务科"),
                ("严禁新增隐性债务", "建立政府投资项目资金来源审核制度，严控新增。",
                 "市财政局", ["市发展和改革委员会"], None, S.LONG_TERM, "常务副市长", "财政局债务科"),
            ]),
            ("生态环境保护方面", "流域水污染治理进度滞后，个别断面水质不达标。", [
                ("推进流域截污纳管工程", "完成沿江截污管网建设，月度监测水质。",
                 "市生态环境局", ["市住房和城乡建设局", "临江区"], -90, S.COMPLETED, "分管副市长", "生态环境局水科"),
                ("整治沿江养殖污染", "关停或改造沿江规模养殖场，建立长效巡查机制。",
                 "市生态环境局", ["市农业农村局", "柳岸镇"], -45, S.BASICALLY_COMPLETED, "分管副市长", "生态环境局水科"),
            ]),
        ],
    },
    {
        "title": "2026年度安全生产领域自查自纠问题整改",
        "kind": InspectionKind.SELF_CHECK,
        "mode": InspectionMode.REGULAR,
        "team": "",
        "target": "市应急管理局及有关单位",
        "target_unit": "市应急管理局",
        "feedback_days_ago": 60,
        "deadline_offset": 90,
        "problems": [
            ("安全监管方面", "危险化学品企业安全检查存在漏项，隐患整改闭环不及时。", [
                ("建立隐患整改闭环台账", "检查发现隐患逐条登记，整改到位后拍照销号。",
                 "市应急管理局", [], -2, S.IN_PROGRESS, "应急管理局局长", "危化品监管科"),
                ("开展危化品企业全覆盖检查", "聘请第三方专家对全市危化品企业开展全覆盖检查。",
                 "市应急管理局", ["青山区", "白沙县"], 20, S.IN_PROGRESS, "应急管理局局长", "危化品监管科"),
                ("加强基层应急能力建设", "为乡镇（街道）配备专职安全员，按季度开展培训。",
                 "青山区", ["青山街道", "松林镇", "石门镇"], 3, S.NOT_STARTED, "青山区区长", "青山区应急管理局"),
            ]),
        ],
    },
]
