"""Exact extraction output for the fixture documents, and the traps around it."""

import pytest

from reports.parsing import Metadata, extract

FIGURE_FIELDS = (
    "kind",
    "body",
    "counting_word",
    "total",
    "completed",
    "basically_completed",
    "long_term",
    "not_completed",
    "in_progress",
    "quote",
)


def figure_rows(extraction):
    return [tuple(getattr(figure, name) for name in FIGURE_FIELDS) for figure in extraction.figures]


def item_texts(items):
    return None if items is None else [item.text for item in items]


def assert_offsets_slice_the_cleaned_text(extraction):
    text = extraction.text
    for figure in extraction.figures:
        assert text[figure.start : figure.end] == figure.quote
    for item in (*(extraction.problems or ()), *(extraction.measures or ())):
        assert text[item.start : item.end] == item.text


def test_jiangyu_work_report(fixture_text):
    extraction = extract(fixture_text("jiangyu_2024_h1_report.txt"))
    assert figure_rows(extraction) == [
        (
            "progress",
            "中央第三巡视组",
            "项",
            26,
            19,
            4,
            None,
            None,
            None,
            "江屿市牵头承担的二十六项整改任务已完成十九项，基本完成四项",
        ),
        (
            "progress",
            "省委第五巡视组",
            "个",
            43,
            35,
            5,
            2,
            1,
            None,
            "细化分解为43个具体问题，已完成整改35个，基本完成整改5个，长期坚持2个，未完成整改1个",
        ),
        (
            "progress",
            "市委第二巡察组",
            "条",
            17,
            12,
            None,
            None,
            None,
            5,
            "市委第二巡察组反馈问题17条，已整改到位12条，正在整改5条",
        ),
        (
            "progress",
            "省委巡视组",
            "件",
            None,
            None,
            None,
            None,
            None,
            None,
            "省委巡视组转交的信访件中涉及我市问题*件，已办结*件",
        ),
        ("progress", None, "个", 58, 58, None, None, None, None, "共发现问题58个，全部完成整改"),
        (
            "progress",
            None,
            "个",
            18,
            18,
            None,
            None,
            None,
            None,
            "发现程序性问题十一个、文书问题七个，现已全部整改到位",
        ),
        (
            "handled",
            None,
            "件",
            204,
            197,
            None,
            None,
            None,
            None,
            "通过“清风热线”共受理群众诉求204件，已办结197件",
        ),
        (
            "progress",
            "自查自纠",
            "个",
            62,
            40,
            None,
            None,
            None,
            None,
            "组织各职能部门自查自纠问题六十二个，现已整改四十个",
        ),
        ("found", None, "个", 96, None, None, None, None, None, "发现问题九十六个"),
    ]
    assert item_texts(extraction.problems) == [
        "部分单位整改标准不高，满足于制度“上墙”，对问题根源挖得不深。",
        "乡镇纪委发现问题能力偏弱，监督检查多停留在查阅资料层面。",
        "整改台账更新不够及时，个别单位仍在月底集中补录进展。",
    ]
    assert item_texts(extraction.measures) == [
        "紧盯剩余整改任务，实行清单管理、挂图作战，逐项明确完成时限。",
        "强化乡镇纪委业务培训，推行“以案代训”，提升发现问题能力。",
        "落实整改台账按月调度制度，对进度滞后的单位及时督办、约谈。",
        "深化整改成果运用，推动建章立制，防止问题反弹回潮。",
    ]
    assert extraction.metadata == Metadata(
        title="江屿市纪委监委2024年上半年工作情况汇报",
        issuing_body="江屿市纪委监委",
        year=2024,
        period="上半年",
        date="2024-07-08",
    )
    assert_offsets_slice_the_cleaned_text(extraction)


def test_qinghe_redacted_report_with_debris(fixture_text):
    extraction = extract(fixture_text("qinghe_redacted_report.txt"))
    assert figure_rows(extraction) == [
        # Clue disposal, redacted: a figure of its own category, its count unknown.
        ("found", None, "件", None, None, None, None, None, None, "全年处置问题线索XX件"),
        (
            "progress",
            "县委第一巡察组",
            "个",
            21,
            18,
            None,
            None,
            3,
            None,
            "县委第一巡察组反馈问题21个，已完成整改18个，未完成整改3个",
        ),
        # Redacted total and outcome: unknown, never a number.
        (
            "progress",
            None,
            "个",
            None,
            None,
            None,
            None,
            None,
            None,
            "督促整改问题XX个，已完成整改X个",
        ),
        # "全部" completes a redacted total: still unknown.
        (
            "progress",
            None,
            "个",
            None,
            None,
            None,
            None,
            None,
            None,
            "发现问题**个，已全部完成整改",
        ),
    ]
    assert item_texts(extraction.problems) == [
        "监督合力还不够强",
        "基层纪检干部专业能力有待提升",
        "以案促改的后半篇文章做得还不够实",
    ]
    assert item_texts(extraction.measures) == [
        "聚焦政治监督，推动上级决策部署在青禾落地落实。",
        "聚焦作风建设，持续纠治文山会海、督查检查过多过频问题。",
        "聚焦队伍建设，分批组织基层纪检干部跟班学习。",
    ]
    assert extraction.metadata == Metadata(
        title="青禾县纪委2023年监督执纪工作情况报告",
        issuing_body="青禾县纪委",
        year=2023,
        period=None,
        date=None,
    )
    for debris in ("##", "密码", "- 2 -", "第3页", "\n4\n", "２"):
        assert debris not in extraction.text
    assert_offsets_slice_the_cleaned_text(extraction)


def test_lanxi_bulletin_without_problem_or_measure_sections(fixture_text):
    extraction = extract(fixture_text("lanxi_rectification_bulletin.txt"))
    assert figure_rows(extraction) == [
        (
            "progress",
            "区委第三巡察组",
            "项",
            34,
            20,
            None,
            None,
            None,
            14,
            "区委第三巡察组反馈的三十四项整改任务已完成二十项，正在推进十四项",
        ),
        (
            "progress",
            "区委第四巡察组",
            "个",
            2,
            2,
            None,
            None,
            None,
            None,
            "区委第四巡察组反馈问题两个，均已全部完成整改",
        ),
    ]
    assert extraction.problems is None
    assert extraction.measures is None
    assert extraction.metadata == Metadata(
        title="兰溪区巡察整改进展情况的通报",
        issuing_body=None,  # a patrol team named in the text is not the issuer
        year=2024,
        period=None,
        date="2024-06-12",
    )
    assert_offsets_slice_the_cleaned_text(extraction)


@pytest.mark.parametrize(
    "sentence",
    [
        "江屿市委理论学习中心组开展集中研讨19次，组织专题调研64次。",
        "召开书记专题会议11次、审议重大事项128个，听取专题汇报9个。",
        "移交问题线索37个、来信来访事项22件。",
        "梳理4个方面27项重点任务，按季度督办推进。",
        "涉及问题线索*件，立案审查*件，督促纠正问题*个，建立制度*项。",
        "整改完成率达到91.7%，满意度为96%。",
    ],
)
def test_unrelated_numbers_make_no_progress_figure(sentence):
    assert [figure for figure in extract(sentence).figures if figure.kind == "progress"] == []


@pytest.mark.parametrize(
    ("sentence", "body"),
    [
        ("中央巡视组反馈的12项整改任务已完成3项。", "中央巡视组"),
        ("对照中央第七巡视组反馈意见，分解的12项整改任务已完成3项。", "中央第七巡视组"),
        ("省委第二巡视反馈意见整改中，细化为12个问题，已完成整改3个。", "省委第二巡视组"),
        ("市委巡察反馈问题12个，已完成整改3个。", "市委巡察组"),
        ("市委第一巡察反馈问题12个，已完成整改3个。", "市委第一巡察组"),
        ("各部门自查自纠问题12个，已整改3个。", "自查自纠"),
        ("开展案件评查，发现问题12个，已完成整改3个。", None),
    ],
)
def test_bodies_are_named_as_the_tracker_names_them(sentence, body):
    (figure,) = extract(sentence).figures
    assert (figure.kind, figure.body, figure.total, figure.completed) == ("progress", body, 12, 3)


def test_each_outcome_is_read_once_and_the_run_stops_at_other_clauses():
    (figure,) = extract("反馈问题10个，已完成整改6个，已完成整改2个，立案3件。").figures
    assert (figure.total, figure.completed, figure.quote) == (10, 6, "反馈问题10个，已完成整改6个")


def test_figure_offsets_index_the_cleaned_text_not_the_raw_one():
    raw = "　　##paid##标题\n\n- 1 -\n反馈问题１０个，已完成整改６个。"
    extraction = extract(raw)
    (figure,) = extraction.figures
    assert extraction.text == "标题\n反馈问题10个，已完成整改6个。"
    assert (
        extraction.text[figure.start : figure.end] == figure.quote == "反馈问题10个，已完成整改6个"
    )
    assert extract(extraction.text) == extraction


def test_problem_section_as_a_second_level_heading():
    text = (
        "一、总体情况\n（一）工作进展。略。\n"
        "（二）存在的不足。一是统筹不够。二是督办不力。\n二、其他"
    )
    extraction = extract(text)
    assert item_texts(extraction.problems) == ["统筹不够。", "督办不力。"]
    assert extraction.measures is None
