"""Problem lists written inside a paragraph, for reports and news items without a 存在的问题
section: the feedback is quoted in running text.

Two shapes, whichever comes first in the text:
- an introduction that speaks of problems, a colon, then numbered items:
  "发现的主要问题：一是…；二是…" / "存在的5类主要问题：一、…；二、…" / "主要是：（一）…（二）…";
  suggestions ("五点整改意见建议：一是…") and pledges are not problems;
- an enumeration with 、 that ends in "等…问题" or "等N个方面": "存在A、B、C等问题",
  "反馈了A、B…等10个方面27条具体问题", or quoted: "反馈的“A”“B”等问题" (one item per quotation;
  a single quotation is split at its 、).
Matching runs on the reading copy (simplified); offsets index the stored text.
"""

import re

from reports.parsing.structure import Item, trimmed_item

_ORDINAL = "[一二三四五六七八九十]{1,3}"
_INTRO_RE = re.compile(r"(?:问题|不足|差距|主要是|主要表现[在为]?)[^。；;\n：:]{0,16}[：:]")
_NOT_PROBLEMS_RE = re.compile(r"意见|建议|要求|措施|打算")
_MARKER_STYLES = (
    re.compile(rf"(?P<ordinal>{_ORDINAL})是"),
    re.compile(rf"(?P<ordinal>{_ORDINAL})[、．.]"),
    re.compile(rf"[（(](?P<ordinal>{_ORDINAL})[）)]"),
    re.compile(r"(?P<ordinal>\d{1,2})[、．.](?!\d)"),
)
# "等问题", "等较为突出问题", "等10个方面", "等三个方面"; not "等方面取得较好成绩".
_LIST_END_RE = re.compile(r"等(?:[^，,。；;、\n]{0,8}?问题|[\d一二三四五六七八九十]+个?方面)")
_LIST_INTRO_RE = re.compile(r"反馈了|存在|指出了?|发现了?|包括|主要是|涉及")
_CLAUSE_MARKS = "，,。；;：:\n"
_MAX_ITEM_LENGTH = 40
_MIN_ITEM_LENGTH = 4  # "巡视巡察、审计等反馈问题": a list of sources, not of problems
_ORDINAL_VALUES = {name: value for value, name in enumerate("一二三四五六七八九十", start=1)}


def inline_problem_items(text: str, reading: str) -> tuple[Item, ...] | None:
    """The first problem list written inside a paragraph, or None when there is none."""
    candidates = [
        found for found in (_numbered_list(text, reading), _enumeration(text, reading)) if found
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda items: items[0].start)


def _numbered_list(text: str, reading: str) -> tuple[Item, ...] | None:
    for intro in _INTRO_RE.finditer(reading):
        sentence_start = max(reading.rfind(mark, 0, intro.start()) for mark in "。\n") + 1
        if _NOT_PROBLEMS_RE.search(reading, sentence_start, intro.end()):
            continue
        line_end = reading.find("\n", intro.end())
        line_end = len(reading) if line_end == -1 else line_end
        for style in _MARKER_STYLES:
            markers = _markers_in_order(style, reading, intro.end(), line_end)
            if len(markers) >= 2:
                return _items_between(text, markers, line_end)
    return None


def _markers_in_order(style: re.Pattern[str], reading: str, start: int, end: int) -> list:
    """Markers numbered 1, 2, 3 … from `start`; the first must follow the colon directly."""
    markers = []
    for match in style.finditer(reading, start, end):
        value = _value(match.group("ordinal"))
        if not markers and match.start() != start:
            return []
        if value == len(markers) + 1:
            markers.append(match)
        elif value == 1:
            break  # numbering starts again: another list (suggestions, pledges)
    return markers


def _value(ordinal: str) -> int:
    if ordinal.isdigit():
        return int(ordinal)
    if len(ordinal) == 1:
        return _ORDINAL_VALUES.get(ordinal, 0)
    tens, _, units = ordinal.partition("十")
    return _ORDINAL_VALUES.get(tens, 1) * 10 + _ORDINAL_VALUES.get(units, 0)


def _items_between(text: str, markers: list, line_end: int) -> tuple[Item, ...]:
    items = []
    for marker, following in zip(markers, [*markers[1:], None], strict=True):
        end = following.start() if following else _sentence_end(text, marker.end(), line_end)
        items.append(_item(text, marker.end(), end))
    return tuple(items)


def _sentence_end(text: str, start: int, line_end: int) -> int:
    stop = text.find("。", start, line_end)
    return line_end if stop == -1 else stop + 1


def _enumeration(text: str, reading: str) -> tuple[Item, ...] | None:
    for end in _LIST_END_RE.finditer(reading):
        list_end = end.start()
        if reading[list_end - 1 : list_end] in '”’"':
            items = _quoted_items(text, reading, list_end)
        else:
            clause_start = max(reading.rfind(mark, 0, list_end) for mark in _CLAUSE_MARKS) + 1
            intros = list(_LIST_INTRO_RE.finditer(reading, clause_start, list_end))
            start = intros[-1].end() if intros else clause_start
            items = _split(text, reading, start, list_end)
        lengths = [len(item.text) for item in items]
        if len(items) >= 2 and _MIN_ITEM_LENGTH <= min(lengths) <= max(lengths) <= _MAX_ITEM_LENGTH:
            return tuple(items)
    return None


def _quoted_items(text: str, reading: str, list_end: int) -> list[Item]:
    """ "“A”“B”等问题": one item per quotation; "“A、B、C”等" is split at its 、."""
    quotes = []
    position = list_end
    while reading[position - 1 : position] in ("”", '"'):
        opening = reading.rfind("“", 0, position - 1)
        if opening == -1 or "\n" in reading[opening:position]:
            break
        quotes.append((opening + 1, position - 1))
        position = opening
    quotes.reverse()
    if len(quotes) == 1:
        return _split(text, reading, *quotes[0])
    return [_item(text, start, end) for start, end in quotes]


def _split(text: str, reading: str, start: int, end: int) -> list[Item]:
    items = []
    for piece in re.finditer(r"[^、]+", reading[start:end]):
        items.append(_item(text, start + piece.start(), start + piece.end()))
    return [item for item in items if item.text]


def _item(text: str, start: int, end: int) -> Item:
    return trimmed_item(text, start, end, also_strip="；;，,")
