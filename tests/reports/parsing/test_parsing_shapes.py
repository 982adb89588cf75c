"""The shapes real reports use for progress figures and problem lists, one test per shape.

Every sentence here is written for these tests (fictional places and numbers); the real texts
are measured in test_corpus.py.
"""

import pytest

from reports.parsing import Count, clean_text, extract

COUNTS = ("total", "completed", "basically_completed", "long_term", "in_progress", "not_completed")


def counts(figure) -> tuple:
    return tuple(getattr(figure, name) for name in COUNTS)


def only_figure(text: str):
    (figure,) = extract(text).figures
    return figure


# ---------------------------------------------------------------------------------------------
# Outcomes around the total


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        # outcomes in clauses after 其中
        ("巡察组指出问题58个，其中51个已整改，7个正在整改。", (58, 51, None, None, 7, None)),
        # outcome before its count, total with levels
        ("围绕5个方面27个问题逐项整改，已整改到位25个。", (27, 25, None, None, None, None)),
        # "N个…中，M个问题已…": outcome after the count, with its noun
        (
            "反馈的6个方面40个具体问题中，36个问题已完成整改，4个问题尚在整改中。",
            (40, 36, None, None, 4, None),
        ),
        # counts written with spaces
        ("区委第四巡察组反馈问题 32 个，已完成整改 30 个。", (32, 30, None, None, None, None)),
        # 阶段性完成 partitions the total like 基本完成
        ("巡察反馈19个具体问题，整改完成15个，阶段性完成4个。", (19, 15, 4, None, None, None)),
        # Chinese numerals, 均已全部 for the whole total
        ("对照反馈的七个方面二十项整改任务，均已全部完成整改。", (20, 20, None, None, None, None)),
        # "问题共计N个"
        ("区委巡察组反馈的问题共计27个，目前已全部整改完成。", (27, 27, None, None, None, None)),
        # several outcomes listed with 、
        (
            "班子查摆出的30个问题中，9个已经解决、15个正在解决、6个尚未解决。",
            (30, 9, None, None, 15, 6),
        ),
    ],
)
def test_outcomes_before_after_and_inside_qizhong_clauses(sentence, expected):
    assert counts(only_figure(sentence)) == expected


def test_outcomes_may_continue_in_the_next_sentence():
    figure = only_figure(
        "反馈意见细化分解为31个分项问题。截至2025年3月底，已完成分项问题整改26个，整改中的5个。"
    )
    assert counts(figure) == (31, 26, None, None, 5, None)
    assert figure.confidence == "low"  # read across a sentence: the supervisor looks twice


def test_an_outcome_deep_in_the_next_sentence_does_not_continue_the_statement():
    first, second = extract("巡察反馈问题10个，已整改8个。受理并协调解决群众反映问题4件。").figures
    assert (counts(first), first.quote) == (
        (10, 8, None, None, None, None),
        "巡察反馈问题10个，已整改8个",
    )
    assert second.kind == "handled"


def test_an_outcome_stated_twice_ends_the_statement():
    figure = only_figure("反馈问题12个，已完成整改8个，已完成整改3个，立案2件。")
    assert (figure.total, figure.completed, figure.quote) == (12, 8, "反馈问题12个，已完成整改8个")


def test_a_subset_that_is_not_an_outcome_is_kept_apart():
    figure = only_figure("在巡视反馈的35个问题中有9个问题由市政府主要领导牵头负责整改。")
    assert counts(figure) == (35, None, None, None, None, None)
    assert figure.other_counts == (Count("问题由市政府主要领导牵头负责整改", 9),)


def test_named_subsets_go_to_other_counts():
    figure = only_figure(
        "巡察反馈的3个方面26个问题，已整改完成24个(含立行立改问题3个)，阶段性完成整改2个。"
    )
    assert counts(figure) == (26, 24, 2, None, None, None)
    assert figure.levels == (Count("方面", 3),)
    assert figure.other_counts == (Count("含立行立改问题", 3),)
    assert figure.adds_up is True


def test_all_done_with_a_count_is_that_count_not_the_total():
    figure = only_figure("18个需整改问题，我县已全部完成5个问题的整改和3个问题的部分整改工作。")
    assert counts(figure) == (18, 5, None, None, 3, None)
    assert figure.adds_up is False


# ---------------------------------------------------------------------------------------------
# Rates, nouns, levels


def test_a_rate_stays_a_rate_and_the_total_stays_empty():
    figure = only_figure("完成问题整改40个，整改完成率90%。")
    assert (figure.kind, figure.total, figure.completed, figure.rate) == (
        "outcome",
        None,
        40,
        "90%",
    )
    assert figure.confidence == "low"


def test_outcomes_after_a_noun_with_no_count_count_that_noun():
    figure = only_figure("反馈问题中，已整改到位26个，正在推进4个。")
    assert (figure.kind, figure.counted_noun) == ("outcome", "问题")
    assert counts(figure) == (None, 26, None, None, 4, None)


def test_a_share_of_the_total_is_a_rate():
    figure = only_figure(
        "该局制定了88项整改措施，共计完成整改措施80项，占全部整改措施的90.9%，其余8项正按计划推进。"
    )
    assert counts(figure) == (88, 80, None, None, 8, None)
    assert (figure.counted_noun, figure.rate, figure.adds_up) == ("整改措施", "90.9%", True)


@pytest.mark.parametrize(
    ("sentence", "noun", "category"),
    [
        ("制定整改措施86项，已落实79项。", "整改措施", "rectification"),
        ("分解工作节点24个，已完成21个。", "工作节点", "rectification"),
        ("交办整改事项15件，已办结13件。", "整改事项", "rectification"),
        ("梳理出具体问题40条，已整改到位38条。", "具体问题", "rectification"),
        ("处置问题线索18条，已办结15条。", "问题线索", "clue_disposal"),
        ("转办的9件信访件，均已全部办结。", "信访件", "other"),
        ("交办信访事项12件，已办结12件。", "信访事项", "other"),
    ],
)
def test_other_counted_nouns(sentence, noun, category):
    figure = only_figure(sentence)
    assert (figure.counted_noun, figure.category, figure.kind) == (noun, category, "progress")


def test_measures_proposed_are_a_total_not_an_outcome():
    figure = only_figure("提出解决措施67项。")
    assert (figure.kind, figure.total, figure.completed, figure.counted_noun) == (
        "found",
        67,
        None,
        "措施",
    )


def test_nested_levels_keep_the_finest_as_the_total():
    figure = only_figure("反馈的3大类11个方面19个问题，已完成整改17个。")
    assert figure.levels == (Count("大类", 3), Count("方面", 11))
    assert (figure.total, figure.completed, figure.counted_noun) == (19, 17, "问题")


def test_a_decomposition_makes_the_finer_count_the_total():
    figure = only_figure("指出存在4方面15个问题，局党组细化分解为33个分项问题。")
    assert (figure.total, figure.counted_noun) == (33, "分项问题")
    assert figure.levels == (Count("方面", 4), Count("问题", 15))


def test_measures_after_a_problem_total_are_kept_not_counted_as_problems():
    figure = only_figure("针对反馈的21个问题，制定整改措施64项，明确责任单位9个。")
    assert (figure.kind, figure.total, figure.counted_noun) == ("found", 21, "问题")
    assert figure.other_counts == (Count("整改措施", 64),)


def test_parts_of_a_total_add_up():
    figure = only_figure("发现程序问题8个、文书问题5个，现已全部整改到位。")
    assert counts(figure) == (13, 13, None, None, None, None)


def test_two_streams_completed_together_are_two_figures():
    first, second = extract("移交的4个立行立改问题和11件信访件，均已全部办结。").figures
    assert (first.counted_noun, first.total, first.completed, first.category) == (
        "立行立改问题",
        4,
        4,
        "rectification",
    )
    assert (second.counted_noun, second.total, second.completed, second.category) == (
        "信访件",
        11,
        11,
        "other",
    )


# ---------------------------------------------------------------------------------------------
# Bodies


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        pytest.param(
            "中央第五巡视组反馈的整改任务30项已完成28项，省委第二巡视组反馈的整改任务22项已完成20项。",
            [("中央第五巡视组", 30, 28), ("省委第二巡视组", 22, 20)],
            id="two teams",
        ),
        pytest.param(
            "市委前三轮巡察共反馈问题120个，已整改到位110个；第四轮巡察反馈问题45个，已整改到位30个。",
            [("市委前三轮巡察", 120, 110), ("第四轮巡察", 45, 30)],
            id="two rounds",
        ),
    ],
)
def test_several_bodies_in_one_sentence(sentence, expected):
    figures = extract(sentence).figures
    assert [(figure.body, figure.total, figure.completed) for figure in figures] == expected


def test_a_notice_about_one_inspection_names_its_team_where_a_sentence_does_not():
    text = (
        "关于区委第三巡察组反馈意见整改进展情况的通报\n"
        "根据区委统一部署，区委第三巡察组对我局开展了巡察。\n"
        "截至目前，巡察反馈的12个问题，已完成整改10个。\n"
        "针对反馈问题，制定整改措施41项。"
    )
    figures = extract(text).figures
    assert [(figure.body, figure.total) for figure in figures] == [
        ("区委第三巡察组", 12),
        ("区委第三巡察组", 41),
    ]
    assert {figure.source for figure in figures} == {"inspection"}


def test_a_work_report_lends_no_team_to_sentences_that_name_none():
    text = (
        "东川县纪委2025年工作情况报告\n"
        "（一）巡察整改。县委第二巡察组反馈问题16个，已完成整改12个。\n"
        "（二）专项治理。发现问题9个，已全部完成整改。"
    )
    first, second = extract(text).figures
    assert (first.body, second.body) == ("县委第二巡察组", None)


def test_an_unnumbered_committee_is_completed_from_the_document_team():
    text = (
        "关于省委巡视整改进展情况的通报\n"
        "省委第六巡视组于2024年对我市开展了巡视。\n"
        "围绕省委巡视反馈的5个方面48个问题，制定整改措施150项。"
    )
    (figure,) = extract(text).figures
    assert (figure.body, figure.total) == ("省委第六巡视组", 48)


def test_a_topic_between_committee_and_mode_is_not_part_of_the_team():
    figure = only_figure("县委营商环境专项巡察一组反馈问题14个，已完成9个。")
    assert figure.body == "县委专项巡察一组"


# ---------------------------------------------------------------------------------------------
# Distractors and numbers that are not figures


@pytest.mark.parametrize(
    ("sentence", "source"),
    [
        ("区审计局对审计发现的问题15个进行复核，已整改12个。", "audit"),
        ("第二轮中央环保督察反馈的9个问题已完成整改9个。", "supervision"),
        ("主题教育中班子检视出的14个问题，已经解决10个。", "theme_education"),
    ],
)
def test_distractors_are_read_but_never_inspection_rectification(sentence, source):
    figure = only_figure(sentence)
    assert (figure.source, figure.body) == (source, None)


@pytest.mark.parametrize(
    "sentence",
    [
        "召开专题会议12次，追缴资金300万元，处分8人。",
        "对18个单位党组织开展巡察，访谈干部120人次。",
        "整改完成率达到95%，群众满意度为98%。",
        "坚持解决一个、销号一个、巩固一个。",
        "集体研究讨论事项234个。",
        "围绕党建、业务等方面取得较好成绩。",
    ],
)
def test_numbers_that_are_not_progress_figures_make_no_figure(sentence):
    assert extract(sentence).figures == ()


# ---------------------------------------------------------------------------------------------
# Redactions


@pytest.mark.parametrize(
    "sentence",
    ["反馈问题XX个，已整改X个。", "反馈问题××个，已整改××个。", "反馈问题**个，已全部完成整改。"],
)
def test_a_redacted_count_is_unknown_never_zero(sentence):
    figure = only_figure(sentence)
    assert counts(figure) == (None, None, None, None, None, None)
    assert (figure.adds_up, figure.confidence) == (None, "low")


def test_a_redacted_team_number_is_no_count():
    assert extract("今天，市委第xx巡察组正式进驻我局开展巡察工作。").figures == ()


# ---------------------------------------------------------------------------------------------
# Traditional characters and mirror debris


def test_traditional_characters_are_read_and_quoted_as_written():
    figure = only_figure("市委第三巡察組反饋問題20個，已完成整改18個，正在整改2個。")
    assert counts(figure) == (20, 18, None, None, 2, None)
    assert figure.body == "市委第三巡察组"  # normalised to simplified
    assert figure.quote == "市委第三巡察組反饋問題20個，已完成整改18個，正在整改2個"


def test_inserted_pinyin_and_stray_entities_are_cleaned():
    text = clean_text(
        "中央環(huán)保督察?ldquo;回頭看?rdquo;反饋的12個(gè)問題已完成整改10個(gè)。"
    )
    assert text == "中央環保督察“回頭看”反饋的12個問題已完成整改10個。"
    assert clean_text(text) == text
    assert clean_text("面积(a)与图(b)") == "面积(a)与图(b)"  # no tone mark: not pinyin


def test_a_mistyped_already_reads_as_already():
    figure = only_figure("对反馈的六个方面16项整改任务己全部整改到位。")
    assert counts(figure) == (16, 16, None, None, None, None)


# ---------------------------------------------------------------------------------------------
# Restatements and confidence


def test_a_lead_restating_a_fuller_statement_is_dropped():
    text = (
        "截至目前，反馈的40个问题已销号38个。\n"
        "据统计，截至目前，反馈的40个问题已销号38个，剩余2个正在组织验收。"
    )
    (figure,) = extract(text).figures
    assert counts(figure) == (40, 38, None, None, 2, None)


def test_equal_numbers_from_different_bodies_are_not_restatements():
    text = "市委第二巡察组反馈问题20个，已完成整改18个。各部门自查自纠问题20个，现已整改18个。"
    assert [figure.body for figure in extract(text).figures] == ["市委第二巡察组", "自查自纠"]


def test_confidence_is_high_when_the_statement_is_plain():
    figure = only_figure("市委第一巡察组反馈问题20个，已完成整改16个，基本完成整改4个。")
    assert (figure.adds_up, figure.confidence) == (True, "high")


# ---------------------------------------------------------------------------------------------
# Problem lists written inside a paragraph


def item_texts(text: str) -> list[str] | None:
    problems = extract(text).problems
    return None if problems is None else [item.text for item in problems]


@pytest.mark.parametrize(
    ("text", "items"),
    [
        pytest.param(
            "巡察组指出了发现的主要问题：一是落实上级部署有差距；二是作风建设韧劲不足；"
            "三是干部队伍建设有短板。同时提出三点整改意见：一是提高站位；二是压实责任。",
            ["落实上级部署有差距", "作风建设韧劲不足", "干部队伍建设有短板。"],
            id="numbered after an introduction, suggestions after it left out",
        ),
        pytest.param(
            "反馈了社区存在的3类主要问题：一、党建工作不扎实；二、财务管理不规范；三、服务意识不强。",
            ["党建工作不扎实", "财务管理不规范", "服务意识不强。"],
            id="chinese ordinals inside a paragraph",
        ),
        pytest.param(
            "巡察发现，部分村党支部存在政治站位不高、组织建设薄弱、财务管理混乱等问题。",
            ["政治站位不高", "组织建设薄弱", "财务管理混乱"],
            id="enumeration ending in 等问题",
        ),
        pytest.param(
            "组长向集团党委反馈了党委把方向不够有力、风险防控意识不强、选人用人不够规范"
            "等3个方面12条具体问题。",
            ["党委把方向不够有力", "风险防控意识不强", "选人用人不够规范"],
            id="enumeration ending in 等N个方面",
        ),
        pytest.param(
            "针对巡视反馈的“学风建设有短板，管理松散”“科研经费管理不严”等问题，学校作出了整改。",
            ["学风建设有短板，管理松散", "科研经费管理不严"],
            id="one item per quotation",
        ),
    ],
)
def test_problem_lists_inside_a_paragraph(text, items):
    assert item_texts(text) == items


def test_suggestions_are_not_problems():
    assert item_texts("巡察组提出三点意见建议：一是加强学习；二是完善制度；三是严肃纪律。") is None


def test_a_problems_section_still_comes_first():
    text = (
        "一、工作情况\n会上指出存在学习不深、落实不力等问题。\n"
        "二、存在的问题\n1.整改标准不高。\n2.台账更新滞后。"
    )
    assert item_texts(text) == ["整改标准不高。", "台账更新滞后。"]
