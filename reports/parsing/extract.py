"""Read figures, problem lists, planned measures and metadata out of a report's text.

`extract` cleans the text first (see cleaning.py) and keeps the cleaned text on the result:
every offset in the result indexes `Extraction.text`, which is what callers store. The readers
match a same-length simplified reading copy of it (normalise.py), so a traditional-character
report is read like a simplified one and quoted as written.

Figures (figures.py) come in four kinds:
- "progress": a total of rectification items and at least one outcome
  ("26项整改任务已完成19项", "44个具体问题中，41个问题已完成整改，3个问题尚在整改中");
- "found": a total with no outcome stated ("反馈的4个方面62个问题", "发现问题96个");
- "outcome": outcomes with no total ("完成问题整改40个，整改完成率90%");
- "handled": a number received and the number resolved ("受理群众诉求204件，已办结197件").
A redacted count is None, never zero; so is a count the text does not state.
"""

import datetime
import re
from dataclasses import dataclass

from reports.parsing.bodies import DocumentContext, source_and_body
from reports.parsing.cleaning import clean_text
from reports.parsing.figures import Count, Figure, read_statements, sentence_start
from reports.parsing.normalise import reading_copy
from reports.parsing.numerals import COUNT_PATTERN, COUNTING_WORDS, parse_count
from reports.parsing.problem_lists import inline_problem_items
from reports.parsing.structure import Item, Section, iter_sections, parse_sections, section_items

__all__ = ["Count", "Extraction", "Figure", "Metadata", "extract"]

_HAN = r"[\u4e00-\u9fff]"
_CLAUSE_MARKS = "，,；;。！？!?\n"
_HANDLED_RE = re.compile(
    rf"受理[^{_CLAUSE_MARKS}]{{0,10}}?(?P<total>{COUNT_PATTERN})\s*(?P<word>[{COUNTING_WORDS}])"
    rf"[，,、]\s*(?:其中)?(?:现已|均已|已)?(?:解决|办结|答复|处理|化解|回复)了?"
    rf"(?P<done>{COUNT_PATTERN})\s*[{COUNTING_WORDS}]"
)

_PROBLEMS_HEADING_RE = re.compile(
    r"存在的?(?:主要)?(?:问题|不足)|(?:问题|困难)(?:和|与|及)不足|不足(?:和|与|及)问题"
    r"|困难(?:和|与)问题|短板(?:和|与)不足|主要问题"
)
_MEASURES_HEADING_RE = re.compile(
    r"下一?步(?:的)?(?:工作)?(?:打算|安排|计划|思路|举措|重点)|下一?步工作"
    r"|工作(?:谋划|打算|安排|计划|思路)|今后(?:工作)?(?:打算|努力方向)|努力方向"
)
_MAX_HEADING_LENGTH = 40  # a longer "heading" is a paragraph that happens to start with 一、

_ISSUER_RE = re.compile(
    rf"(?:(?<!{_HAN}){_HAN}{{2,4}}?|[Xx×*＊]{{1,3}})?[市县区](?:纪委监委|纪委|委员会|委)"
    r"(?!第|巡)"  # "区委第三巡察组" names a patrol team, not the issuer
)
_YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年")
_PERIOD_RE = re.compile(
    r"(?:上半年|下半年|前三季度|第[一二三四1-4]季度|\d{1,2}\s*[-－—至]\s*\d{1,2}月)"
    r"(?!工作安排|工作打算|工作计划|工作谋划|安排|打算|计划)"
)
_DATE_RE = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_OPENING_LENGTH = 300  # metadata is read from the title and the opening of the report
_CLOSING_LINES = 5  # a signature date sits in the last lines


@dataclass(frozen=True)
class Metadata:
    title: str | None  # the first non-empty line
    issuing_body: str | None  # "X市纪委", "市委", "江屿市纪委监委" …
    year: int | None
    period: str | None  # "上半年", "第一季度", "1-4月" …
    date: str | None  # ISO "2024-01-15"


@dataclass(frozen=True)
class Extraction:
    text: str  # the cleaned text; every offset below indexes it
    figures: tuple[Figure, ...]
    problems: tuple[Item, ...] | None  # None: the report has no 存在的问题 section
    measures: tuple[Item, ...] | None  # None: the report has no 下步打算 section
    metadata: Metadata


def extract(text: str) -> Extraction:
    """Clean `text` and read everything the report states (see the module docstring)."""
    cleaned = clean_text(text)
    reading = reading_copy(cleaned)
    sections = parse_sections(cleaned)
    problems = _items_under(cleaned, sections, _PROBLEMS_HEADING_RE)
    return Extraction(
        text=cleaned,
        figures=tuple(extract_figures(cleaned, reading)),
        problems=problems if problems is not None else inline_problem_items(cleaned, reading),
        measures=_items_under(cleaned, sections, _MEASURES_HEADING_RE),
        metadata=extract_metadata(cleaned),
    )


# ---------------------------------------------------------------------------------------------
# Figures


def extract_figures(text: str, reading: str | None = None) -> list[Figure]:
    """All figures in a cleaned text, in reading order; a span is claimed by one figure only,
    statements first, then "受理…已办结…" counts that no statement covers. `reading` is the
    text's reading copy when the caller has made it already."""
    reading = reading_copy(text) if reading is None else reading
    document = DocumentContext.of(reading)
    figures = read_statements(text, reading, document)
    for figure in _handled_figures(text, reading, document):
        if not any(_overlaps(figure, kept) for kept in figures):
            figures.append(figure)
    return sorted(figures, key=lambda figure: figure.start)


def _overlaps(first: Figure, second: Figure) -> bool:
    return first.start < second.end and second.start < first.end


def _handled_figures(text: str, reading: str, document: DocumentContext) -> list[Figure]:
    figures = []
    for match in _HANDLED_RE.finditer(reading):
        start = _clause_start(reading, match.start())
        source, body = source_and_body(reading, sentence_start(reading, start), start, document)
        total, done = parse_count(match.group("total")), parse_count(match.group("done"))
        figures.append(
            Figure(
                kind="handled", body=body, counting_word=match.group("word"), total=total,
                completed=done, basically_completed=None, long_term=None, not_completed=None,
                in_progress=None, quote=text[start : match.end()], start=start,
                end=match.end(), category="other", source=source,
                adds_up=None if total is None or done is None else total == done,
            )
        )
    return figures


def _clause_start(text: str, position: int) -> int:
    return max(text.rfind(mark, 0, position) for mark in _CLAUSE_MARKS) + 1


# ---------------------------------------------------------------------------------------------
# Problems and measures


def _items_under(
    text: str, sections: list[Section], heading_re: re.Pattern[str]
) -> tuple[Item, ...] | None:
    section = _find_section(sections, heading_re)
    return None if section is None else tuple(section_items(text, section))


def _find_section(sections: list[Section], heading_re: re.Pattern[str]) -> Section | None:
    for section in iter_sections(sections):
        if len(section.heading) <= _MAX_HEADING_LENGTH and heading_re.search(section.heading):
            return section
    return None


# ---------------------------------------------------------------------------------------------
# Metadata


def extract_metadata(text: str) -> Metadata:
    lines = text.split("\n")
    title = lines[0] if lines and lines[0] else None
    # A first line ending in "：" greets the addressee ("市委办公室："): not the issuer.
    addressee = title is not None and title.endswith(("：", ":"))
    opening = text[len(title or "") : len(title or "") + _OPENING_LENGTH]
    places = [opening] if addressee or title is None else [title, opening]
    return Metadata(
        title=title,
        issuing_body=_first_match(_ISSUER_RE, places),
        year=_first_year(places),
        period=_first_match(_PERIOD_RE, places),
        date=_report_date(lines),
    )


# A title line is short and is not a sentence: no full stop inside, no clause or greeting
# ("市委办公室：") at its end. Longer or punctuated first lines are the opening paragraph.
_TITLE_MAX_LENGTH = 80
_NOT_IN_TITLE = re.compile(r"[。！？；!?;]")
_NOT_AT_TITLE_END = ("，", "、", "：", ":", ",")


def report_title(title: str | None, filename: str) -> str:
    """The name a stored report goes by: its title line, or, when the text has none (it starts
    with a paragraph or an addressee), the file name without its extension."""
    line = (title or "").strip()
    if (line and len(line) <= _TITLE_MAX_LENGTH and not _NOT_IN_TITLE.search(line)
            and not line.endswith(_NOT_AT_TITLE_END)):
        return line
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return stem.strip() or line[:_TITLE_MAX_LENGTH]


def _first_match(pattern: re.Pattern[str], places: list[str]) -> str | None:
    for place in places:
        match = pattern.search(place)
        if match:
            return match.group()
    return None


def _first_year(places: list[str]) -> int | None:
    year = _first_match(_YEAR_RE, places)
    return int(_YEAR_RE.match(year).group(1)) if year else None


def _report_date(lines: list[str]) -> str | None:
    """A date in the title or a short line under it, else the last date in the closing lines
    (where the signature and date of a report sit)."""
    heading_lines = [line for line in lines[:2] if len(line) <= _MAX_HEADING_LENGTH]
    for candidates in (heading_lines, list(reversed(lines[-_CLOSING_LINES:]))):
        for line in candidates:
            for match in reversed(list(_DATE_RE.finditer(line))):
                parsed = _valid_date(*(int(group) for group in match.groups()))
                if parsed:
                    return parsed
    return None


def _valid_date(year: int, month: int, day: int) -> str | None:
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None
