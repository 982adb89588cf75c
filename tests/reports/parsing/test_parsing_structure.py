from reports.parsing import Item, clean_text, parse_sections
from reports.parsing.structure import iter_sections, section_items, split_items

OUTLINE = clean_text(
    """江屿市工作报告
一、工作情况
（一）监督检查。开展检查3次。
1.日常监督。完成。
2.专项监督。完成。
（二）案件查办。立案2件，比上年多1.5倍。
二、存在的问题
一是整改不深。二是台账滞后。
三．下步打算
各单位要做到：压实责任；加强调度；严格销号。
"""
)


def outline(sections):
    return [
        (
            section.level,
            section.marker,
            section.heading,
            [child.heading for child in section.children],
        )
        for section in iter_sections(sections)
    ]


def test_section_tree_levels_markers_and_headings():
    assert outline(parse_sections(OUTLINE)) == [
        (1, "一、", "工作情况", ["监督检查", "案件查办"]),
        (1, "二、", "存在的问题", []),
        (1, "三．", "下步打算", []),
        (2, "（一）", "监督检查", ["日常监督", "专项监督"]),
        (2, "（二）", "案件查办", []),
        (3, "1.", "日常监督", []),
        (3, "2.", "专项监督", []),
    ]


def test_section_offsets_slice_the_cleaned_text():
    first, second, third = parse_sections(OUTLINE)
    assert OUTLINE[first.start : first.end].startswith("一、工作情况")
    assert OUTLINE[first.start : first.end].endswith("比上年多1.5倍。")
    assert OUTLINE[second.start : second.end] == "二、存在的问题\n一是整改不深。二是台账滞后。"
    assert third.end == len(OUTLINE)


def test_items_are_sub_sections_when_there_are_any():
    work = parse_sections(OUTLINE)[0]
    assert [item.text for item in section_items(OUTLINE, work)] == [
        "监督检查。开展检查3次。\n1.日常监督。完成。\n2.专项监督。完成。",
        "案件查办。立案2件，比上年多1.5倍。",
    ]


def test_inline_ordinal_items():
    problems = parse_sections(OUTLINE)[1]
    assert section_items(OUTLINE, problems) == [
        Item("整改不深。", OUTLINE.index("整改不深"), OUTLINE.index("整改不深") + 5),
        Item("台账滞后。", OUTLINE.index("台账滞后"), OUTLINE.index("台账滞后") + 5),
    ]


def test_semicolon_list_items_after_the_colon():
    plans = parse_sections(OUTLINE)[2]
    assert [item.text for item in section_items(OUTLINE, plans)] == [
        "压实责任",
        "加强调度",
        "严格销号",
    ]


def test_ordinals_must_run_in_order_and_belong_to_no_word():
    text = "统一是前提。二是后续。"
    assert [item.text for item in split_items(text, 0, len(text))] == [text]


def test_every_item_slices_back_to_its_text():
    for section in iter_sections(parse_sections(OUTLINE)):
        for item in section_items(OUTLINE, section):
            assert OUTLINE[item.start : item.end] == item.text
