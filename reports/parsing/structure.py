"""The outline of a cleaned report: numbered sections and the items enumerated inside them.

Section markers at the start of a line, by level:
    1  一、 二、 (also 三． / 三.)      2  （一） (一)      3  1. 1、 1．      4  （1） (1)
Inside a section body, items are enumerated as 一是…二是…三是… (at a paragraph start or
mid-paragraph) or as a "：A；B；C。" list. All offsets index the cleaned text.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_CHINESE_ORDINAL = "[一二三四五六七八九十]{1,3}"
_LEVEL_MARKERS = (
    (1, rf"{_CHINESE_ORDINAL}\s*[、．.]"),
    (2, rf"[（(]\s*{_CHINESE_ORDINAL}\s*[）)]"),
    (3, r"\d{1,2}\s*[.、．](?!\d)"),  # "1." but not the "1.5" of a decimal
    (4, r"[（(]\s*\d{1,2}\s*[）)]"),
)
_HEADING_RE = re.compile(
    "^(?:" + "|".join(f"(?P<level{level}>{pattern})" for level, pattern in _LEVEL_MARKERS) + ")",
    re.MULTILINE,
)
_HEADING_END_RE = re.compile(r"[。！？!?]|$", re.MULTILINE)

# 一是 … 二是 …: an ordinal followed by 是, at a line start or after a clause-ending mark.
_INLINE_ORDINAL_RE = re.compile(
    rf"(?:^|(?<=[。；;：:！？!?]))\s*(?P<ordinal>{_CHINESE_ORDINAL})是", re.MULTILINE
)
_ORDINAL_VALUES = {
    name: value
    for value, name in enumerate(
        ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]
        + [f"十{unit}" for unit in "一二三四五六七八九"],
        start=1,
    )
}
_LIST_SEPARATOR_RE = re.compile(r"[；;]")
_LIST_INTRO_RE = re.compile(r"[：:]")
_TRAILING_STOP = "。.；;"


@dataclass(frozen=True)
class Item:
    """One enumerated item; `text == cleaned_text[start:end]` (marker excluded)."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Section:
    level: int  # marker style, see the module docstring
    marker: str  # as written: "二、", "（一）", "1."
    heading: str  # words after the marker up to the first 。 or the end of the line
    start: int  # offset of the marker
    end: int  # end of the section (exclusive), trailing whitespace excluded
    body_start: int  # first offset after the heading (and its 。 if any)
    children: tuple["Section", ...] = ()


@dataclass
class _OpenSection:
    level: int
    marker: str
    heading: str
    start: int
    body_start: int
    children: list["Section"] = field(default_factory=list)

    def close(self, text: str, end: int) -> Section:
        return Section(
            level=self.level,
            marker=self.marker,
            heading=self.heading,
            start=self.start,
            end=_rstrip_end(text, self.start, end),
            body_start=self.body_start,
            children=tuple(self.children),
        )


def parse_sections(text: str) -> list[Section]:
    """The section tree of a cleaned text: top-level sections, each with nested children."""
    top_level: list[Section] = []
    open_sections: list[_OpenSection] = []

    def close_until(level: int, end: int) -> None:
        while open_sections and open_sections[-1].level >= level:
            closed = open_sections.pop().close(text, end)
            parent_children = open_sections[-1].children if open_sections else top_level
            parent_children.append(closed)

    for match in _HEADING_RE.finditer(text):
        level = int(match.lastgroup.removeprefix("level"))
        close_until(level, match.start())
        open_sections.append(_open_section(text, match, level))
    close_until(0, len(text))
    return top_level


def _open_section(text: str, match: re.Match[str], level: int) -> _OpenSection:
    heading_end = _HEADING_END_RE.search(text, match.end())
    body_start = heading_end.end()
    return _OpenSection(
        level=level,
        marker=match.group(),
        heading=text[match.end() : heading_end.start()].strip(),
        start=match.start(),
        body_start=body_start,
    )


def iter_sections(sections: list[Section] | tuple[Section, ...]) -> Iterator[Section]:
    """Breadth-first: every top-level section before any nested one."""
    queue = list(sections)
    while queue:
        section = queue.pop(0)
        yield section
        queue.extend(section.children)


def section_items(text: str, section: Section) -> list[Item]:
    """The top-level items of a section, by the first enumeration style that applies:
    its sub-sections, then 一是…二是…, then a "；" list, then one item per paragraph."""
    if section.children:
        return [
            trimmed_item(text, child.start + len(child.marker), child.end)
            for child in section.children
        ]
    return split_items(text, section.body_start, section.end)


def split_items(text: str, start: int, end: int) -> list[Item]:
    """Items enumerated in text[start:end] without section markers (see `section_items`)."""
    for splitter in (_ordinal_items, _semicolon_items, _paragraph_items):
        items = splitter(text, start, end)
        if items:
            return items
    return []


def _ordinal_items(text: str, start: int, end: int) -> list[Item]:
    """一是…二是…三是…: markers must run in order from 一; at least two are needed."""
    markers: list[re.Match[str]] = []
    for match in _INLINE_ORDINAL_RE.finditer(text, start, end):
        if _ORDINAL_VALUES.get(match.group("ordinal")) == len(markers) + 1:
            markers.append(match)
    if len(markers) < 2:
        return []
    bounds = [*(marker.start() for marker in markers[1:]), end]
    return [
        trimmed_item(text, marker.end(), bound)
        for marker, bound in zip(markers, bounds, strict=True)
    ]


def _semicolon_items(text: str, start: int, end: int) -> list[Item]:
    """The first paragraph holding a "：A；B；C。" list, split at the semicolons."""
    for line_start, line_end in _lines(text, start, end):
        line = text[line_start:line_end]
        first_separator = _LIST_SEPARATOR_RE.search(line)
        if first_separator is None:
            continue
        intros = list(_LIST_INTRO_RE.finditer(line, 0, first_separator.start()))
        list_start = line_start + (intros[-1].end() if intros else 0)
        pieces = _LIST_SEPARATOR_RE.split(text[list_start:line_end])
        items = []
        for piece in pieces:
            items.append(trimmed_item(text, list_start, list_start + len(piece), _TRAILING_STOP))
            list_start += len(piece) + 1
        return [item for item in items if item.text]
    return []


def _paragraph_items(text: str, start: int, end: int) -> list[Item]:
    return [
        trimmed_item(text, line_start, line_end)
        for line_start, line_end in _lines(text, start, end)
    ]


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line inside text[start:end]."""
    spans = []
    position = start
    for line in text[start:end].split("\n"):
        if line.strip():
            spans.append((position, position + len(line)))
        position += len(line) + 1
    return spans


def trimmed_item(text: str, start: int, end: int, also_strip: str = "") -> Item:
    """An item over text[start:end] without surrounding whitespace (and `also_strip` at the end)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in also_strip):
        end -= 1
    return Item(text[start:end], start, end)


def _rstrip_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end
