"""Read figures, problem lists, planned measures and metadata out of a report's text.

`extract` cleans the text first (see cleaning.py) and keeps the cleaned text on the result:
every offset in the result indexes `Extraction.text`, which is what callers store.

Figures come in three kinds:
- "progress": a total of rectification items followed by at least one outcome
  ("26项整改任务已完成19项", "细化分解为43个具体问题，已完成整改35个，…", "共发现问题58个，
  全部完成整改");
- "handled": a number received and the number resolved ("受理群众诉求204件，已办结197件");
- "found": a number of problems found, nothing said about outcomes ("发现问题96个").
A redacted count is None, never zero; so is a count the text does not state.
"""

import datetime
import re
from dataclasses import dataclass

from reports.parsing.cleaning import clean_text
from reports.parsing.numerals import COUNT_PATTERN, COUNTING_WORDS, parse_count
from reports.parsing.structure import Item, Section, iter_sections, parse_sections, section_items

_COUNT = rf"(?P<count>{COUNT_PATTERN})\s*(?P<word>[{COUNTING_WORDS}])"
_HAN = r"[\u4e00-\u9fff]"
_ORDINAL = r"第(?:[一二三四五六七八九十]{1,3}|\d{1,2})"
_ITEM_NOUN = r"(?:问题|整改任务|任务|整改事项)"
_CLAUSE_MARKS = "，,；;。！？!?\n"
_SENTENCE_MARKS = "。！？!?\n"

# A total: "问题58个" / "整改任务26项" (noun first) or "26项整改任务" / "43个具体问题".
_TOTAL_RE = re.compile(
    rf"{_ITEM_NOUN}(?P<count>{COUNT_PATTERN})\s*(?P<word>[{COUNTING_WORDS}])"
    rf"|(?P<count_first>{COUNT_PATTERN})\s*(?P<word_first>[{COUNTING_WORDS}]){_HAN}{{0,3}}?"
    rf"{_ITEM_NOUN}"
)
# "发现程序性问题11个、文书问题7个": further parts of a total that is a sum.
_TOTAL_PART_RE = re.compile(rf"[、和及]\s*{_HAN}{{0,6}}?{_ITEM_NOUN}{_COUNT}")

_ALL_COMPLETED = "all_completed"
_OUTCOME_LEAD = r"[，,、]?\s*(?:其中[，,：:]?\s*)?(?:截至目前[，,]?\s*|目前|现)?"
_OUTCOME_PATTERNS = (
    ("basically_completed", rf"基本(?:完成整改|整改完成|整改到位|完成){_COUNT}"),
    ("long_term", rf"(?:需要?)?长期坚持(?:整改)?的?{_COUNT}"),
    ("not_completed", rf"(?:尚|仍)?未(?:完成整改|整改完成|整改到位|完成|整改|销号)的?{_COUNT}"),
    ("in_progress", rf"(?:正在整改|整改中|正在推进|推进中)的?{_COUNT}"),
    (_ALL_COMPLETED, r"均?已?经?全部(?:完成整改|整改完成|整改到位|完成|整改|销号|办结)"),
    (
        "completed",
        rf"(?:已经?|均已)?(?:完成整改|整改完成|整改到位|完成|整改|销号|办结)了?"
        rf"(?:任务|问题)?{_COUNT}",
    ),
)
# Tried in this order at one position; "completed" is last because it is the least specific.
_OUTCOME_RES = tuple(
    (name, re.compile(_OUTCOME_LEAD + pattern)) for name, pattern in _OUTCOME_PATTERNS
)

_HANDLED_RE = re.compile(
    rf"受理[^{_CLAUSE_MARKS}]{{0,10}}?(?P<total>{COUNT_PATTERN})\s*(?P<word>[{COUNTING_WORDS}])"
    rf"[，,、]\s*(?:其中)?(?:现已|均已|已)?(?:解决|办结|答复|处理|化解|回复)了?"
    rf"(?P<done>{COUNT_PATTERN})\s*[{COUNTING_WORDS}]"
)
_FOUND_RE = re.compile(
    rf"发现(?:并(?:督促|反馈|推动)?(?:整改|解决|反馈)?)?(?P<filler>[^{_CLAUSE_MARKS}]{{0,14}}?)"
    rf"问题{_COUNT}"
)

_BODY_RE = re.compile(
    rf"中央(?:{_ORDINAL})?巡视组?|省委(?:{_ORDINAL})?巡视组?|[市县区]委(?:{_ORDINAL})?巡察组?"
    r"|自查自纠"
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
class Figure:
    kind: str  # "progress", "handled" or "found"
    body: str | None  # 中央巡视组, 省委第七巡视组, 市委巡察, 自查自纠 …; None when not stated
    counting_word: str  # 项, 个, 条 or 件, as written after the total
    total: int | None
    completed: int | None
    basically_completed: int | None
    long_term: int | None
    not_completed: int | None
    in_progress: int | None
    quote: str  # == Extraction.text[start:end]
    start: int
    end: int


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
    sections = parse_sections(cleaned)
    return Extraction(
        text=cleaned,
        figures=tuple(extract_figures(cleaned)),
        problems=_items_under(cleaned, sections, _PROBLEMS_HEADING_RE),
        measures=_items_under(cleaned, sections, _MEASURES_HEADING_RE),
        metadata=extract_metadata(cleaned),
    )


# ---------------------------------------------------------------------------------------------
# Figures


def extract_figures(text: str) -> list[Figure]:
    """All figures in a cleaned text, in reading order; a span is claimed by one figure only,
    progress first, so "发现问题58个，全部完成整改" is one progress figure, not also a finding."""
    figures: list[Figure] = []
    for finder in (_progress_figures, _handled_figures, _found_figures):
        for figure in finder(text):
            if not any(_overlaps(figure, kept) for kept in figures):
                figures.append(figure)
    return sorted(figures, key=lambda figure: figure.start)


def _overlaps(first: Figure, second: Figure) -> bool:
    return first.start < second.end and second.start < first.end


def _progress_figures(text: str) -> list[Figure]:
    figures = []
    for match in _TOTAL_RE.finditer(text):
        total_token = match.group("count") or match.group("count_first")
        counting_word = match.group("word") or match.group("word_first")
        total, total_end = _sum_total_parts(text, parse_count(total_token), match.end())
        outcomes, end = _read_outcomes(text, total_end)
        if not outcomes:
            continue
        if _ALL_COMPLETED in outcomes:
            del outcomes[_ALL_COMPLETED]
            outcomes["completed"] = total
        start = _clause_start(text, match.start())
        figures.append(
            _figure(text, "progress", counting_word, start, end, total=total, **outcomes)
        )
    return figures


def _sum_total_parts(text: str, total: int | None, position: int) -> tuple[int | None, int]:
    """Add "、文书问题7个"-style parts to a total; a redacted part makes the sum unknown."""
    while part := _TOTAL_PART_RE.match(text, position):
        value = parse_count(part.group("count"))
        total = None if total is None or value is None else total + value
        position = part.end()
    return total, position


def _read_outcomes(text: str, position: int) -> tuple[dict[str, int | None], int]:
    """The run of outcome clauses directly after a total; each outcome may appear once.
    "全部完成整改" is recorded under _ALL_COMPLETED: it states no count of its own."""
    outcomes: dict[str, int | None] = {}
    while True:
        found = _match_outcome(text, position)
        if found is None or found[0] in outcomes:
            return outcomes, position
        name, match = found
        outcomes[name] = None if name == _ALL_COMPLETED else parse_count(match.group("count"))
        position = match.end()


def _match_outcome(text: str, position: int) -> tuple[str, re.Match[str]] | None:
    for name, pattern in _OUTCOME_RES:
        match = pattern.match(text, position)
        if match:
            return name, match
    return None


def _handled_figures(text: str) -> list[Figure]:
    return [
        _figure(
            text,
            "handled",
            match.group("word"),
            _clause_start(text, match.start()),
            match.end(),
            total=parse_count(match.group("total")),
            completed=parse_count(match.group("done")),
        )
        for match in _HANDLED_RE.finditer(text)
    ]


def _found_figures(text: str) -> list[Figure]:
    return [
        _figure(
            text,
            "found",
            match.group("word"),
            match.start(),
            match.end(),
            total=parse_count(match.group("count")),
        )
        for match in _FOUND_RE.finditer(text)
        # "发现未按期整改问题2个" counts unfinished problems, not problems found.
        if "未" not in match.group("filler")
    ]


def _figure(
    text: str, kind: str, counting_word: str, start: int, end: int, **counts: int | None
) -> Figure:
    return Figure(
        kind=kind,
        body=_body_before(text, start),
        counting_word=counting_word,
        total=counts.get("total"),
        completed=counts.get("completed"),
        basically_completed=counts.get("basically_completed"),
        long_term=counts.get("long_term"),
        not_completed=counts.get("not_completed"),
        in_progress=counts.get("in_progress"),
        quote=text[start:end],
        start=start,
        end=end,
    )


def _clause_start(text: str, position: int) -> int:
    return _last_mark_before(text, position, _CLAUSE_MARKS)


def _last_mark_before(text: str, position: int, marks: str) -> int:
    """Offset just after the last of `marks` before `position` (0 if none)."""
    return max(text.rfind(mark, 0, position) for mark in marks) + 1


def _body_before(text: str, start: int) -> str | None:
    """The team named latest in the sentence up to the figure, or in the figure's own clause:
    "省委第五巡视反馈问题…，细化分解为43个…" belongs to 省委第七巡视组."""
    sentence_start = _last_mark_before(text, start, _SENTENCE_MARKS)
    clause_end = _next_mark_after(text, start, _CLAUSE_MARKS)
    mentions = list(_BODY_RE.finditer(text, sentence_start, clause_end))
    return normalise_body(mentions[-1].group()) if mentions else None


def _next_mark_after(text: str, position: int, marks: str) -> int:
    found = [index for mark in marks if (index := text.find(mark, position)) != -1]
    return min(found, default=len(text))


def normalise_body(mention: str) -> str:
    """ "省委第七巡视" → "省委第七巡视组"; an unnumbered "市委巡察" stays as the reports say it."""
    if mention.endswith("巡视") or (mention.endswith("巡察") and "第" in mention):
        return mention + "组"
    return mention


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
