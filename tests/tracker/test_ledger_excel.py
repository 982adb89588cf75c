"""Excel ledger (整改台账) import and export.

Acceptance: a good ledger, merged problem cells, an unknown unit, a bad date and a
missing required column (each with the exact Chinese message, nothing imported), and the round
trip export → import into an empty ledger. Workbooks are built here with openpyxl.
"""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from tests.tracker.factories import (
    InspectionFactory,
    ProblemFactory,
    ProgressReportFactory,
    TaskFactory,
    UnitFactory,
)
from tracker.errors import ActionForbidden, ImportRejected
from tracker.ledger_excel.columns import column_key
from tracker.ledger_excel.values import CellError, parse_deadline, parse_status, parse_units
from tracker.models import (
    AuditAction,
    AuditEntry,
    Problem,
    ProgressReport,
    Task,
    TaskAction,
    TaskEvent,
    TaskStatus,
    TaskType,
    UnitKind,
)
from tracker.selectors import task_list
from tracker.services.ledger import ledger_export, ledger_import

pytestmark = pytest.mark.django_db

HEADER = [
    "序号", "反馈问题", "整改措施", "责任单位", "责任领导", "完成时限", "整改进展", "完成情况",
]
TITLE = "市委第一巡察组反馈问题整改台账"


def xlsx(rows, *, header=HEADER, title=TITLE, merges=(), extra_header_rows=()) -> bytes:
    """A workbook: an optional title row, the header, then `rows`; `merges` like "A3:A4"."""
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(header)
    for row in extra_header_rows:
        ws.append(row)
    for row in rows:
        ws.append(row)
    for rng in merges:
        ws.merge_cells(rng)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def rejected(inspection, actor, data, filename="台账.xlsx") -> list[str]:
    with pytest.raises(ImportRejected) as info:
        ledger_import(inspection=inspection, actor=actor, data=data, filename=filename)
    return info.value.errors


def assert_nothing_imported():
    assert Problem.objects.count() == 0
    assert Task.objects.count() == 0
    assert TaskEvent.objects.count() == 0
    assert ProgressReport.objects.count() == 0


@pytest.fixture
def inspection(db):
    return InspectionFactory(title="市委第一巡察组对东湖区的常规巡察")


# Rows 3..8 (row 1 is the title, row 2 the header). Problem 1 and problem 3 span two rows each.
GOOD_ROWS = [
    [1, "落实主体责任不到位，专题研究不够。", "制定年度整改工作方案，明确责任分工。", "市教育局",
     "王副局长", dt.date(2026, 6, 30), "已印发工作方案。", "已完成"],
    [None, None, "建立月调度机制，按月通报进展。",
     "牵头单位：东湖区；配合单位：市教育局、湖滨街道", "张区长", "2026年9月底", None, "整改中"],
    [2, "基层监督力量薄弱。", "充实街道纪工委力量，开展业务培训。", "湖滨街道", None,
     "长期坚持", "已完成首轮培训。", "长期坚持"],
    [3, "资金管理不规范。", "全面清理专项资金，逐笔核对。", "市教育局", "李处长",
     "立行立改（2026年3月31日）", None, "基本完成"],
    [None, None, "完善资金管理制度。", "东湖区", None, "2026.12.31", None, "已提交"],
    [4, "干部作风问题整治不彻底。", "开展作风建设专项整治。", "东湖区", None, "2026-10-01",
     None, None],
]
GOOD_MERGES = ("A3:A4", "B3:B4", "A6:A7", "B6:B7")


# --- Acceptance: a good ledger -----------------------------------------------------------------


def test_good_ledger_is_imported_with_units_deadlines_statuses_and_history(
    inspection, chief, bureau, county, town
):
    result = ledger_import(
        inspection=inspection, actor=chief, data=xlsx(GOOD_ROWS, merges=GOOD_MERGES),
        filename="台账.xlsx",
    )

    assert (result.problems_created, result.tasks_created, result.progress_reports_created) == (
        4, 6, 2,
    )
    assert result.message == "导入成功：新建反馈问题4个、整改任务6项（其中填报整改进展2条）。"
    problems = list(inspection.problems.order_by("number").values_list("number", "text"))
    assert problems == [
        (1, "落实主体责任不到位，专题研究不够。"),
        (2, "基层监督力量薄弱。"),
        (3, "资金管理不规范。"),
        (4, "干部作风问题整治不彻底。"),
    ]
    tasks = list(Task.objects.filter(inspection=inspection).order_by("id"))
    got = [
        (t.problem.number, t.lead_unit, set(t.supporting_units.all()), t.task_type, t.deadline,
         t.status, t.responsible_leader)
        for t in tasks
    ]
    assert got == [
        (1, bureau, set(), TaskType.BY_DEADLINE, dt.date(2026, 6, 30), TaskStatus.COMPLETED,
         "王副局长"),
        (1, county, {bureau, town}, TaskType.BY_DEADLINE, dt.date(2026, 9, 30),
         TaskStatus.IN_PROGRESS, "张区长"),
        (2, town, set(), TaskType.LONG_TERM, None, TaskStatus.LONG_TERM, ""),
        (3, bureau, set(), TaskType.IMMEDIATE, dt.date(2026, 3, 31),
         TaskStatus.BASICALLY_COMPLETED, "李处长"),
        (3, county, set(), TaskType.BY_DEADLINE, dt.date(2026, 12, 31), TaskStatus.SUBMITTED, ""),
        (4, county, set(), TaskType.BY_DEADLINE, dt.date(2026, 10, 1), TaskStatus.NOT_STARTED,
         ""),
    ]
    assert tasks[0].measures == "制定年度整改工作方案，明确责任分工。"
    assert tasks[0].title == "制定年度整改工作方案，明确责任分工"
    # Statuses were reached through the transition services: every step is in the history.
    actions = [e.action for e in tasks[0].events.order_by("id")]
    assert actions == [TaskAction.CREATE, TaskAction.PROGRESS, TaskAction.SUBMIT, TaskAction.CLOSE]
    assert all(e.actor == chief for e in TaskEvent.objects.all())
    assert [e.action for e in tasks[3].events.order_by("id")] == [
        TaskAction.CREATE, TaskAction.START, TaskAction.MARK_BASICALLY_COMPLETED,
    ]
    assert [r.note for r in tasks[0].progress_reports.all()] == ["已印发工作方案。"]
    assert [r.note for r in tasks[2].progress_reports.all()] == ["已完成首轮培训。"]


# --- Acceptance: merged problem cells ----------------------------------------------------------


def test_merged_problem_cells_make_one_problem_for_all_their_rows(inspection, chief, bureau):
    rows = [
        [1, "问题甲", "措施一", "市教育局", None, "2026-06-30", None, None],
        [None, None, "措施二", "市教育局", None, "2026-06-30", None, None],
        [None, None, "措施三", "市教育局", None, "2026-06-30", None, None],
        [2, "问题乙", "措施四", "市教育局", None, "2026-06-30", None, None],
        [None, None, "措施五", "市教育局", None, "2026-06-30", None, None],
    ]
    ledger_import(
        inspection=inspection, actor=chief,
        data=xlsx(rows, merges=("A3:A5", "B3:B5", "A6:A7", "B6:B7")),
    )

    grouped = {
        p.number: (p.text, list(p.tasks.order_by("id").values_list("measures", flat=True)))
        for p in inspection.problems.all()
    }
    assert grouped == {
        1: ("问题甲", ["措施一", "措施二", "措施三"]),
        2: ("问题乙", ["措施四", "措施五"]),
    }


def test_merged_problem_cell_groups_rows_even_when_each_row_has_its_own_number(
    inspection, chief, bureau
):
    """Some ledgers number tasks, not problems: the merged 反馈问题 cell decides the grouping
    and the problem takes the 序号 of its first row."""
    rows = [
        [1, "问题甲", "措施一", "市教育局", None, "2026-06-30", None, None],
        [2, None, "措施二", "市教育局", None, "2026-06-30", None, None],
        [3, None, "措施三", "市教育局", None, "2026-06-30", None, None],
        [4, "问题甲", "措施四", "市教育局", None, "2026-06-30", None, None],
        [5, None, "措施五", "市教育局", None, "2026-06-30", None, None],
    ]
    ledger_import(inspection=inspection, actor=chief, data=xlsx(rows, merges=("B3:B5", "B6:B7")))

    grouped = {
        p.number: (p.text, list(p.tasks.order_by("id").values_list("measures", flat=True)))
        for p in inspection.problems.all()
    }
    assert grouped == {
        1: ("问题甲", ["措施一", "措施二", "措施三"]),
        4: ("问题甲", ["措施四", "措施五"]),
    }


def test_error_inside_a_merged_problem_names_its_own_row(inspection, chief, bureau):
    rows = [
        [1, "问题甲", "措施一", "市教育局", None, "2026-06-30", None, None],
        [None, None, "措施二", "市教育局", None, "2026-06-30", None, None],
        [None, None, "措施三", "市教育厅", None, "2026-06-30", None, None],
    ]
    errors = rejected(inspection, chief, xlsx(rows, merges=("A3:A5", "B3:B5")))

    assert errors == ["第5行：责任单位“市教育厅”不存在"]
    assert_nothing_imported()


# --- Acceptance: unknown unit, bad date, missing column ----------------------------------------


def test_unknown_unit_rejects_the_whole_file(inspection, chief, bureau):
    rows = [
        [1, "问题甲", "措施一", "市教育局", None, "2026-06-30", None, None],
        [2, "问题乙", "措施二", "市教育局", None, "2026-06-30", None, None],
        [3, "问题丙", "措施三", "市教育厅", None, "2026-06-30", None, None],
    ]
    errors = rejected(inspection, chief, xlsx(rows))

    assert errors == ["第5行：责任单位“市教育厅”不存在"]
    assert_nothing_imported()


def test_bad_date_rejects_the_whole_file(inspection, chief, bureau):
    rows = [
        [1, "问题甲", "措施一", "市教育局", None, "2026-06-30", None, None],
        [2, "问题乙", "措施二", "市教育局", None, "2026-06-30", None, None],
        [3, "问题丙", "措施三", "市教育局", None, "2026-06-30", None, None],
        [4, "问题丁", "措施四", "市教育局", None, "2026-06-30", None, None],
        [5, "问题戊", "措施五", "市教育局", None, "2026-13-01", None, None],
    ]
    errors = rejected(inspection, chief, xlsx(rows))

    assert errors == ["第7行：完成时限“2026-13-01”不是有效日期"]
    assert_nothing_imported()


def test_missing_required_column_rejects_the_file(inspection, chief, bureau):
    header = ["序号", "反馈问题", "责任单位", "责任领导", "完成时限", "整改进展", "完成情况"]
    rows = [[1, "问题甲", "市教育局", None, "2026-06-30", None, None]]
    errors = rejected(inspection, chief, xlsx(rows, header=header))

    assert errors == ["缺少必填列：整改措施"]
    assert_nothing_imported()


def test_every_bad_row_is_listed_in_row_order(inspection, chief, bureau):
    rows = [
        [1, "问题甲", "措施一", "市教育厅", None, "2026-02-30", None, "差不多了"],
        [2, "问题乙", "措施二", "市教育局", None, "2026-06-30", None, None],
        [3, "问题丙", None, None, None, None, None, None],
    ]
    errors = rejected(inspection, chief, xlsx(rows))

    assert errors == [
        "第3行：完成时限“2026-02-30”不是有效日期",
        "第3行：完成情况“差不多了”无法识别，可填写：未启动、整改中、已提交、已完成、基本完成、"
        "长期坚持",
        "第3行：责任单位“市教育厅”不存在",
        "第5行：整改措施不能为空",
        "第5行：责任单位不能为空",
        "第5行：完成时限不能为空",
    ]
    assert_nothing_imported()


# --- Units -------------------------------------------------------------------------------------


@pytest.fixture
def two_chengguan(city):
    east = UnitFactory(name="甲县", kind=UnitKind.COUNTY, parent=city)
    west = UnitFactory(name="乙县", kind=UnitKind.COUNTY, parent=city)
    return (
        UnitFactory(name="城关镇", kind=UnitKind.TOWNSHIP, parent=east),
        UnitFactory(name="城关镇", kind=UnitKind.TOWNSHIP, parent=west),
    )


def test_ambiguous_unit_name_is_an_error_naming_the_candidates(inspection, chief, two_chengguan):
    rows = [[1, "问题甲", "措施一", "城关镇", None, "2026-06-30", None, None]]
    errors = rejected(inspection, chief, xlsx(rows))

    assert errors == [
        "第3行：责任单位“城关镇”有多个同名单位：甲县/城关镇、乙县/城关镇，"
        "请写明上级单位，如“甲县/城关镇”"
    ]
    assert_nothing_imported()


def test_unit_qualified_by_parent_and_short_name_are_matched(inspection, chief, two_chengguan):
    finance = UnitFactory(name="江屿市财政局", short_name="市财政局", parent=chief.unit)
    rows = [[1, "问题甲", "措施一", "乙县/城关镇、市财政局", None, "2026-06-30", None, None]]
    ledger_import(inspection=inspection, actor=chief, data=xlsx(rows))

    task = Task.objects.get()
    assert task.lead_unit == two_chengguan[1]
    assert list(task.supporting_units.all()) == [finance]


def test_supervisor_cannot_import_tasks_for_units_outside_their_scope(
    inspection, sam, bureau, town
):
    rows = [
        [1, "问题甲", "措施一", "湖滨街道", None, "2026-06-30", None, None],
        [2, "问题乙", "措施二", "市教育局", None, "2026-06-30", None, None],
    ]
    errors = rejected(inspection, sam, xlsx(rows))

    assert errors == ["第4行：您无权为“市教育局”创建整改任务"]
    assert_nothing_imported()


def test_officer_cannot_import_into_an_inspection_they_do_not_see(inspection, alice, bureau):
    # Officers may import (their rows' status and progress: tests/tracker/ledger/), but only
    # into an inspection where they see tasks; new tasks need a supervisor either way.
    rows = [[1, "问题甲", "措施一", "市教育局", None, "2026-06-30", None, None]]
    with pytest.raises(ActionForbidden, match="您无权导入该巡视巡察的整改台账"):
        ledger_import(inspection=inspection, actor=alice, data=xlsx(rows))
    assert_nothing_imported()


# --- Files that are not ledgers ----------------------------------------------------------------


def test_a_file_that_is_not_xlsx_gets_a_clear_chinese_error(inspection, chief):
    errors = rejected(inspection, chief, "序号,反馈问题\n1,问题甲\n".encode(), "台账.csv")

    assert errors == ["文件不是有效的Excel（.xlsx）文件，请在Excel或WPS中另存为.xlsx格式后重新导入"]
    assert_nothing_imported()


def test_an_old_xls_file_is_asked_to_be_saved_as_xlsx(inspection, chief):
    ole_header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100
    errors = rejected(inspection, chief, ole_header, "台账.xls")

    assert errors == ["暂不支持旧版.xls格式，请在Excel或WPS中另存为.xlsx格式后重新导入"]


def test_a_sheet_without_a_header_is_rejected(inspection, chief):
    errors = rejected(inspection, chief, xlsx([["甲", "乙"]], header=["说明", "备注"]))

    assert errors == ["未找到表头：请确认表格中有“反馈问题”“整改措施”“责任单位”“完成时限”等列名"]


def test_problem_numbers_already_in_the_inspection_with_other_text_are_refused(
    inspection, chief, bureau
):
    ProblemFactory(inspection=inspection, number=2, text="已有问题")
    rows = [
        [1, "问题甲", "措施一", "市教育局", None, "2026-06-30", None, None],
        [2, "问题乙", "措施二", "市教育局", None, "2026-06-30", None, None],
    ]
    errors = rejected(inspection, chief, xlsx(rows))

    assert errors == ["第4行：问题序号“2”在该巡视巡察中已存在，且问题内容不同"]
    assert Task.objects.count() == 0
    assert Problem.objects.count() == 1


def test_a_hand_made_ledger_without_numbers_imported_twice_creates_its_tasks_once(
    inspection, chief, bureau
):
    """Imports are idempotent by content (issue #14): rows without a key whose problem, task,
    measures and lead unit are already the inspection's are those tasks, however the file was
    saved again (spaces, line breaks)."""
    rows = [
        [None, "问题甲", "措施一", "市教育局", None, "2026-06-30", None, None],
        [None, "问题乙", "措施二", "市教育局", None, "2026-06-30", None, None],
    ]
    first = ledger_import(inspection=inspection, actor=chief, data=xlsx(rows),
                          filename="台账.xlsx")
    assert (first.problems_created, first.tasks_created) == (2, 2)

    saved_again = [[None, "问题甲 ", "措施一\n", "市教育局", None, "2026-06-30", None, None],
                   rows[1]]
    second = ledger_import(inspection=inspection, actor=chief, data=xlsx(saved_again),
                           filename="台账（另存）.xlsx")
    assert (second.problems_created, second.tasks_created, second.unchanged) == (0, 0, 2)
    assert (Problem.objects.count(), Task.objects.count()) == (2, 2)

    grown = [*rows, [None, "问题丙", "措施三", "市教育局", None, "2026-06-30", None, None]]
    third = ledger_import(inspection=inspection, actor=chief, data=xlsx(grown),
                          filename="台账（补充）.xlsx")
    assert (third.problems_created, third.tasks_created, third.unchanged) == (1, 1, 2)
    assert sorted(Task.objects.values_list("measures", flat=True)) == ["措施一", "措施三", "措施二"]


# --- Layout variants ---------------------------------------------------------------------------


def test_header_variants_title_rows_split_unit_columns_and_aspect_headings(
    inspection, chief, bureau, county, town
):
    header = ["编号", "存在问题", "具体措施", "牵头单位", "配合单位", "分管领导", "责任人",
              "整改时限", "进展情况", "整改状态", "备注"]
    rows = [
        ["一、落实全面从严治党主体责任方面"] + [None] * 10,
        [1, "问题甲", "1.召开专题会议。\n2.制定方案。", "东湖区", "湖滨街道", "张区长", "刘科长",
         "2026年6月30日前", "会议已召开。", "正在整改", "无"],
        [None, None, "完善制度", "东湖区", None, "张区长", None, "2026年底", None, "未开始", None],
        ["二、干部队伍建设方面"] + [None] * 10,
        [2, "问题乙", "开展培训", "市教育局", None, None, None, dt.datetime(2026, 8, 15),
         None, "已销号", None],
    ]
    data = xlsx(rows, header=header, merges=("A3:K3", "A4:A5", "B4:B5", "A6:K6"))
    ledger_import(inspection=inspection, actor=chief, data=data)

    problems = {p.number: p for p in inspection.problems.all()}
    assert problems[1].aspect == "落实全面从严治党主体责任方面"
    assert problems[2].aspect == "干部队伍建设方面"
    first, second, third = Task.objects.order_by("id")
    assert (first.lead_unit, list(first.supporting_units.all())) == (county, [town])
    assert first.title == "召开专题会议"
    assert (first.responsible_person, first.deadline, first.status) == (
        "刘科长", dt.date(2026, 6, 30), TaskStatus.IN_PROGRESS,
    )
    assert (second.deadline, second.status) == (dt.date(2026, 12, 31), TaskStatus.NOT_STARTED)
    assert (third.problem.number, third.deadline, third.status) == (
        2, dt.date(2026, 8, 15), TaskStatus.COMPLETED,
    )


def test_two_row_header_with_lead_and_supporting_units_under_one_cell(
    inspection, chief, county, town
):
    wb = Workbook()
    ws = wb.active
    ws.append(["序号", "问题", "整改措施", "责任单位", None, "完成时限"])
    ws.append([None, None, None, "牵头单位", "配合单位", None])
    ws.append([1, "问题甲", "措施一", "东湖区", "湖滨街道", "2026/6/30"])
    for rng in ("A1:A2", "B1:B2", "C1:C2", "D1:E1", "F1:F2"):
        ws.merge_cells(rng)
    out = io.BytesIO()
    wb.save(out)

    ledger_import(inspection=inspection, actor=chief, data=out.getvalue())

    task = Task.objects.get()
    assert (task.lead_unit, list(task.supporting_units.all())) == (county, [town])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.date(2026, 6, 30), (TaskType.BY_DEADLINE, dt.date(2026, 6, 30))),
        (dt.datetime(2026, 6, 30, 0, 0), (TaskType.BY_DEADLINE, dt.date(2026, 6, 30))),
        (46203, (TaskType.BY_DEADLINE, dt.date(2026, 6, 30))),  # an unformatted Excel date
        ("2026年6月30日", (TaskType.BY_DEADLINE, dt.date(2026, 6, 30))),
        ("2026-06-30", (TaskType.BY_DEADLINE, dt.date(2026, 6, 30))),
        ("2026.6.30", (TaskType.BY_DEADLINE, dt.date(2026, 6, 30))),
        ("2026/6/30", (TaskType.BY_DEADLINE, dt.date(2026, 6, 30))),
        ("2026年6月底", (TaskType.BY_DEADLINE, dt.date(2026, 6, 30))),
        ("2026年6月", (TaskType.BY_DEADLINE, dt.date(2026, 6, 30))),
        ("2026年2月底前", (TaskType.BY_DEADLINE, dt.date(2026, 2, 28))),
        ("2026年底", (TaskType.BY_DEADLINE, dt.date(2026, 12, 31))),
        ("2026年上半年", (TaskType.BY_DEADLINE, dt.date(2026, 6, 30))),
        ("长期坚持", (TaskType.LONG_TERM, None)),
        ("持续推进", (TaskType.LONG_TERM, None)),
        ("立行立改", (TaskType.IMMEDIATE, None)),
        ("立行立改，2026年3月31日前完成", (TaskType.IMMEDIATE, dt.date(2026, 3, 31))),
        ("立行立改（2026年3月31日）", (TaskType.IMMEDIATE, dt.date(2026, 3, 31))),
    ],
)
def test_deadline_forms(value, expected):
    deadline = parse_deadline(value)
    assert (deadline.task_type, deadline.date) == expected


@pytest.mark.parametrize("value", ["2026-13-01", "2026年6月32日", "下个月", "6月30日"])
def test_deadline_not_a_date(value):
    with pytest.raises(CellError) as info:
        parse_deadline(value)
    assert info.value.reason == f"完成时限“{value}”不是有效日期"


def test_immediate_without_a_date_is_an_error(inspection, chief, bureau):
    rows = [[1, "问题甲", "措施一", "市教育局", None, "立行立改", None, None]]
    errors = rejected(inspection, chief, xlsx(rows))

    assert errors == ["第3行：完成时限为“立行立改”时须注明日期，如“立行立改（2026年3月31日）”"]


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("已完成", TaskStatus.COMPLETED), ("已销号", TaskStatus.COMPLETED),
        ("基本完成", TaskStatus.BASICALLY_COMPLETED), ("长期坚持", TaskStatus.LONG_TERM),
        ("整改中", TaskStatus.IN_PROGRESS), ("正在整改", TaskStatus.IN_PROGRESS),
        ("推进中", TaskStatus.IN_PROGRESS), ("已提交", TaskStatus.SUBMITTED),
        ("待审核", TaskStatus.SUBMITTED), ("未启动", TaskStatus.NOT_STARTED),
        ("未开始", TaskStatus.NOT_STARTED), (None, TaskStatus.NOT_STARTED),
        (" 已完成 ", TaskStatus.COMPLETED),
        *[(str(s.label), s) for s in TaskStatus],
    ],
)
def test_status_words(value, status):
    assert parse_status(value) == status


@pytest.mark.parametrize(
    ("lead", "supporting", "expected"),
    [
        ("市教育局", None, ("市教育局", [])),
        (
            "市教育局、市财政局,东湖区；湖滨街道", None,
            ("市教育局", ["市财政局", "东湖区", "湖滨街道"]),
        ),
        (
            "牵头单位：市教育局；配合单位：市财政局, 东湖区", None,
            ("市教育局", ["市财政局", "东湖区"]),
        ),
        ("市财政局、市教育局（牵头）", None, ("市教育局", ["市财政局"])),
        ("牵头单位：市教育局（牵头）；配合单位：东湖区（配合）", None, ("市教育局", ["东湖区"])),
        ("市教育局", "市财政局、市教育局", ("市教育局", ["市财政局"])),
    ],
)
def test_unit_cells(lead, supporting, expected):
    assert parse_units(lead, supporting) == expected


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("问题", "problem"), ("反馈问题", "problem"), ("存在问题", "problem"),
        ("整改措施", "measures"), ("具体措施", "measures"), ("责任单位", "lead_unit"),
        ("牵头单位", "lead_unit"), ("责任领导", "leader"), ("分管领导", "leader"),
        ("完成时限", "deadline"), ("整改时限", "deadline"), ("完成时间", "deadline"),
        ("完成时限\n（年月日）", "deadline"), ("整改进展", "progress"), ("进展情况", "progress"),
        ("完成情况", "status"), ("整改状态", "status"), ("状态", "status"), ("方面", "aspect"),
        ("备注", None),
    ],
)
def test_header_variants(header, key):
    assert column_key(header) == key


# --- Export and the round trip -----------------------------------------------------------------


def _snapshot(inspection):
    """Everything a ledger row carries, in ledger order, with units by id."""
    problems = list(inspection.problems.order_by("number").values_list("number", "aspect", "text"))
    tasks = [
        (
            t.problem.number, t.title, t.measures, t.task_type, t.lead_unit_id,
            sorted(u.pk for u in t.supporting_units.all()), t.responsible_leader,
            t.responsible_person, t.deadline, t.status,
            next(iter(r.note for r in t.progress_reports.all()), ""),
        )
        for t in Task.objects.filter(inspection=inspection).order_by("problem__number", "id")
    ]
    return problems, tasks


@pytest.fixture
def rich_ledger(city, bureau, county, town, two_chengguan):
    """One inspection with every status and task type, ambiguous unit names, supporting units,
    multi-line measures, aspects and several progress notes on one task."""
    inspection = InspectionFactory(title="省委第三巡视组反馈意见")
    east, west = two_chengguan
    p1 = ProblemFactory(inspection=inspection, number=1, aspect="政治建设方面", text="问题一")
    p2 = ProblemFactory(inspection=inspection, number=2, aspect="政治建设方面", text="问题二\n续")
    p5 = ProblemFactory(inspection=inspection, number=5, aspect="", text="问题五")
    specs = [
        (p1, bureau, [county], TaskType.BY_DEADLINE, dt.date(2026, 6, 30), TaskStatus.COMPLETED),
        (p1, east, [west, town], TaskType.IMMEDIATE, dt.date(2026, 3, 31),
         TaskStatus.IN_PROGRESS),
        (p1, west, [], TaskType.LONG_TERM, None, TaskStatus.LONG_TERM),
        (p2, county, [], TaskType.BY_DEADLINE, dt.date(2026, 9, 30), TaskStatus.SUBMITTED),
        (p2, town, [bureau], TaskType.BY_DEADLINE, dt.date(2026, 12, 31),
         TaskStatus.BASICALLY_COMPLETED),
        (p5, bureau, [], TaskType.BY_DEADLINE, dt.date(2027, 1, 15), TaskStatus.NOT_STARTED),
        (p5, county, [], TaskType.LONG_TERM, None, TaskStatus.NOT_STARTED),
    ]
    for i, (problem, lead, supporting, task_type, deadline, status) in enumerate(specs):
        task = TaskFactory(
            problem=problem, title=f"任务{i}" if i else "=SUM(1,2)",  # text, not a formula
            measures=f"第一步{i}。\n第二步{i}。",
            lead_unit=lead, supporting_units=supporting, task_type=task_type,
            deadline=deadline, original_deadline=deadline, status=status,
            responsible_leader="" if i % 2 else f"领导{i}",
        )
        if status not in (TaskStatus.NOT_STARTED,):
            ProgressReportFactory(
                task=task, note="较早的进展", created_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
            )
            ProgressReportFactory(
                task=task, note=f"最新进展{i}", created_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
            )
    return inspection


def _without_keys(data: bytes) -> bytes:
    """An export with its hidden 系统编号 column blanked: a copy of the ledger for another
    inspection (rows without a key are new tasks)."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    key_col = [c.value for c in ws[2]].index("系统编号（请勿修改）") + 1
    for r in range(3, ws.max_row + 1):
        ws.cell(r, key_col).value = None
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_round_trip_export_then_import_into_an_empty_ledger_gives_the_same_ledger(
    rich_ledger, chief
):
    data = _without_keys(ledger_export(tasks=Task.objects.filter(inspection=rich_ledger)))
    fresh = InspectionFactory(title="导入测试")
    ledger_import(inspection=fresh, actor=chief, data=data, filename="导出.xlsx")

    before, after = _snapshot(rich_ledger), _snapshot(fresh)
    assert after == before
    assert len(after[1]) == 7


def test_export_layout_title_frozen_header_merged_problems_real_dates(rich_ledger):
    data = ledger_export(tasks=Task.objects.filter(inspection=rich_ledger))
    ws = load_workbook(io.BytesIO(data)).active

    assert ws["A1"].value == "省委第三巡视组反馈意见反馈问题整改台账"
    assert [c.value for c in ws[2]] == [
        "序号", "方面", "反馈问题", "整改任务", "整改措施", "责任单位", "配合单位", "责任领导",
        "责任人", "完成时限", "整改进展", "完成情况", "重点任务", "优先级", "灯色", "时限提醒",
        "签收情况", "系统编号（请勿修改）",
    ]
    assert ws.column_dimensions["R"].hidden
    assert ws.freeze_panes == "A3"
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A3:A5", "C3:C5", "A6:A7", "C6:C7", "A8:A9", "C8:C9", "B3:B7"} <= merged
    assert ws["J3"].is_date
    assert ws["J3"].value.date() == dt.date(2026, 6, 30)
    assert ws["J4"].value == "立行立改（2026年3月31日）"
    assert ws["J5"].value == "长期坚持"
    assert ws["F4"].value == "甲县/城关镇"
    assert ws["G4"].value == "湖滨街道、乙县/城关镇"  # in unit tree order
    assert ws["K3"].value == "最新进展0"
    assert ws["L3"].value == "已完成整改（已销号）"
    assert ws.column_dimensions["E"].width == 48


def test_exported_rows_keep_borders_alignment_and_light_colours(rich_ledger):
    # The data rows are written as sheet XML text (tracker/ledger_excel/writing.py): the
    # cells must carry the same styles as openpyxl's own cells did.
    ws = load_workbook(io.BytesIO(ledger_export(tasks=Task.objects.filter(
        inspection=rich_ledger)))).active

    assert ws["A4"].border.left.style == "thin"  # inside the merged A3:A5, bordered
    assert ws["A4"].value is None
    assert ws["E3"].border.bottom.style == "thin"
    assert ws["E3"].alignment.wrap_text
    assert ws["E3"].alignment.vertical == "center"
    assert ws["J3"].alignment.horizontal == "center"
    assert ws["J3"].number_format == 'yyyy"年"m"月"d"日"'
    colours = {"红灯": "C62828", "黄灯": "F9A825", "绿灯": "2E7D32"}
    lights = [c for (c,) in ws.iter_rows(min_row=3, min_col=15, max_col=15)
              if c.value in colours]
    assert lights
    for cell in lights:
        assert cell.font.bold
        assert cell.font.color.rgb.endswith(colours[cell.value])
    assert ws.max_row == 2 + Task.objects.filter(inspection=rich_ledger).count()


def test_export_writes_formula_like_text_as_text_and_drops_control_characters(bureau):
    TaskFactory(lead_unit=bureau, title="=1+1", measures="从Word粘贴\x0b的措施")
    ws = load_workbook(io.BytesIO(ledger_export(tasks=Task.objects.all()))).active

    assert ws["D3"].data_type == "s"
    assert ws["D3"].value == "=1+1"
    assert ws["E3"].value == "从Word粘贴的措施"


def test_export_of_any_filter_is_scoped_to_the_user(rich_ledger, sam):
    data = ledger_export(tasks=task_list(user=sam).filter(status=TaskStatus.SUBMITTED))
    ws = load_workbook(io.BytesIO(data)).active

    assert [row[5] for row in ws.iter_rows(min_row=3, values_only=True)] == ["东湖区"]


def test_export_of_several_inspections_adds_an_inspection_column(rich_ledger, bureau):
    TaskFactory(problem=ProblemFactory(inspection=InspectionFactory(title="另一轮巡察")),
                lead_unit=bureau)
    ws = load_workbook(io.BytesIO(ledger_export(tasks=Task.objects.all()))).active

    assert ws["A1"].value == "整改台账"
    assert ws["A2"].value == "巡视巡察"
    assert ws.max_row == 2 + 8


def _ledger_of(n: int, units) -> object:
    inspection = InspectionFactory()
    for i in range(n):
        task = TaskFactory(
            problem=ProblemFactory(inspection=inspection, number=i + 1),
            lead_unit=units[i % 2], supporting_units=[units[(i + 1) % 2]],
            status=TaskStatus.IN_PROGRESS,
        )
        ProgressReportFactory(task=task)
    return inspection


def test_export_query_count_does_not_grow_with_the_ledger(
    django_assert_num_queries, bureau, county
):
    small, large = _ledger_of(3, [bureau, county]), _ledger_of(30, [bureau, county])
    # 1. tasks joined with problem, inspection, lead unit, latest progress note (subquery)
    # 2. their supporting units (prefetch)
    # 3. the unit tree, for unambiguous unit names
    with django_assert_num_queries(3):
        ledger_export(tasks=Task.objects.filter(inspection=small))
    with django_assert_num_queries(3):
        data = ledger_export(tasks=Task.objects.filter(inspection=large))
    assert load_workbook(io.BytesIO(data)).active.max_row == 2 + 30


# --- Commands ----------------------------------------------------------------------------------


def test_import_and_export_commands(tmp_path, inspection, chief, bureau, county, town):
    source = tmp_path / "台账.xlsx"
    source.write_bytes(xlsx(GOOD_ROWS, merges=GOOD_MERGES))
    out = io.StringIO()
    call_command(
        "import_ledger", str(source), "--inspection", str(inspection.pk), "--user", "chief",
        stdout=out,
    )
    assert out.getvalue().strip() == (
        "“市委第一巡察组对东湖区的常规巡察”导入成功：新建反馈问题4个、整改任务6项"
        "（其中填报整改进展2条）。"
    )

    target = tmp_path / "导出.xlsx"
    out = io.StringIO()
    call_command("export_ledger", str(target), "--inspection", str(inspection.pk), stdout=out)
    assert out.getvalue().strip() == (
        f"已导出“市委第一巡察组对东湖区的常规巡察”整改任务6项：{target}"
    )
    assert load_workbook(target).active.max_row == 2 + 6
    exported = AuditEntry.objects.get(action=AuditAction.LEDGER_EXPORT)
    assert (exported.actor, exported.target_id, exported.note) == (None, inspection.pk,
                                                                   "6项（命令行导出）")


def test_import_command_prints_every_error_and_fails(tmp_path, inspection, chief, bureau):
    source = tmp_path / "台账.xlsx"
    source.write_bytes(xlsx([[1, "问题甲", "措施一", "市教育厅", None, "2026-13-01", None, None]]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="整改台账有2处错误，未导入任何内容"):
        call_command(
            "import_ledger", str(source), "--inspection", str(inspection.pk), "--user", "chief",
            stderr=err,
        )
    assert err.getvalue().splitlines() == [
        "第3行：完成时限“2026-13-01”不是有效日期",
        "第3行：责任单位“市教育厅”不存在",
    ]
    assert_nothing_imported()
