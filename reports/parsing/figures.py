"""Progress statements: totals, outcomes, levels and rates, read sentence by sentence.

A sentence is cut into segments at ，、：()和; every count in a segment ("35个具体问题",
"问题58个", "已完成5个", "八个方面") is given a role from the words around it:
- a *level*: 方面, 类, 专项, 项目, "3大方面" — kept, never a total;
- a *total*: a count of problems, tasks, measures, clues or petitions that no outcome word
  governs ("反馈的37个问题"); the finest problem count of a decomposition ("3方面13个问题…细化
  分解为24个分项问题") is the total, the coarser one is kept as a level; measures counted
  after a problem total are kept as other counts;
- an *outcome*: 已完成 / 整改完成 / 销号 / 办结 → completed, 基本完成 / 阶段性完成 → basically
  completed, 长期坚持 → long term, 正在 / 整改中 / 尚在 / 部分整改 → in progress, 未完成 / 剩余 /
  准备着手 → not completed; before or after the count ("41个问题已完成整改"), also in the next
  sentence when it continues the statement ("…24个分项问题。截至…，已完成…5个");
- an *other* count: a named subset that is not an outcome (推动立行立改问题35个, 含…, 已移交…,
  由…牵头负责, 初步解决…).
"全部完成整改" with no count of its own sets completed to the total (to None when the total is
redacted). A percentage in the statement is kept as its rate, never turned into a count.
Counts of anything else (meetings, people, money, units) are never figures.
"""

import re
from bisect import bisect_left
from dataclasses import dataclass, field

from reports.parsing.bodies import DocumentContext, source_and_body
from reports.parsing.numerals import CHINESE_DIGITS, REDACTION_PATTERN, parse_count
from reports.parsing.structure import trimmed_item

_SENTENCE_MARKS = "。！？!?；;\n"
_SENTENCE_RE = re.compile(rf"[^{_SENTENCE_MARKS}]+")
_SEGMENT_RE = re.compile(r"[^，,、：:()（）和]+")
# The leading look-ahead lets the regex engine skip quickly to where a count can start.
_NUMBER = (
    rf"(?=[\d{CHINESE_DIGITS}*＊Xx×若])(?<![\d.第])(?:\d+|[{CHINESE_DIGITS}]+|{REDACTION_PATTERN})"
)
_TOKEN_RE = re.compile(rf"(?P<count>{_NUMBER})\s*(?:(?P<word>[个项条件类])|(?=大|方面))")

# Counted nouns, longest first within a class; the class decides the category.
_MODIFIER = r"(?:具体|分项|立行立改|重点|民生|实际|共性|个性|突出|主要|需整改的?|各类|各项)?"
_NOUN_CLASSES = (
    ("clue", r"问题线索|线索"),
    ("petition", r"信访举报件|信访件|信访事项"),
    ("problem", r"问题"),
    ("task", r"整改任务|任务|工作节点|节点"),
    ("measure", r"具体整改措施|整改措施|整改举措|具体措施|措施|举措"),
    ("matter", r"整改事项"),
    ("level", r"方面|领域|专项|项目|板块|类"),
)
_NOUN = "|".join(f"(?P<{name}>{pattern})" for name, pattern in _NOUN_CLASSES)
_NOUN_AFTER_RE = re.compile(rf"大?(?P<modifier>{_MODIFIER})(?:{_NOUN})")
_NOUN_BEFORE_RE = re.compile(
    rf"(?P<modifier>{_MODIFIER})(?:{_NOUN})(?:整改|的|共计|合计|总计|共有|共)?\s*$"
)
# "反馈问题中，已整改到位26个": a noun with no count names what the outcomes that follow count.
_NOUN_CONTEXT_RE = re.compile(rf"(?P<modifier>{_MODIFIER})(?:{_NOUN})中?$")
_MAX_NOUN_LENGTH = 12  # modifier and noun: only a segment's tail can hold them
_DROPPED_MODIFIERS = ("各类", "各项", "需整改的", "需整改")
# After a count with no noun: punctuation or an outcome word ("4个已经解决", "20项正按照…").
_BARE_AFTER_RE = re.compile(
    r"$|[^\u4e00-\u9fff]|已|己|正|尚|仍|未|均|全|完|整改|销号|办结|阶段|基本|长期|准备"
)

CATEGORY_BY_CLASS = {
    "problem": "rectification",
    "task": "rectification",
    "measure": "rectification",
    "matter": "rectification",
    "clue": "clue_disposal",
    "petition": "other",
}
_ALL_DONE_RE = re.compile(r"全部(?:完成|整改|办结|销号|解决|到位)|均已(?:完成|整改|办结|销号)")
_OUTCOME_RES = tuple(
    (bucket, re.compile(pattern))
    for bucket, pattern in (
        ("other", r"初步(?:解决|完成)"),
        ("long_term", r"长期坚持|长期整改|持续整改"),
        ("basically_completed", r"基本(?:完成|整改到位|到位)|阶段性(?:完成|整改)"),
        ("in_progress", r"正在|整改中|推进中|尚在|部分整改|正[^，,]{0,6}推进|有序推进"),
        ("not_completed", r"未(?:完成|整改|销号|到位)|尚未|没有完成|不够?到位|准备[着著]手|剩余"),
        (
            "completed",
            r"已经?(?:完成|整改|销号|办结|解决|落实)|完成整改|整改完成|整改到位|销号|办结"
            r"|得到解决|解决了|如期完成|完成",
        ),
    )
)
# Mappings a person should look at twice (the corpus conventions call them judgement calls).
_UNSURE_OUTCOME_RE = re.compile(
    r"并需要?长期坚持|部分整改|准备[着著]手|剩余|其余|不够到位|长期整改"
)
_SUBSET_BEFORE_RE = re.compile(r"推动|含|其中有|中有|由")
_SUBSET_AFTER_RE = re.compile(r"^由")
_BARE_SUBSET_RE = re.compile(r"已|其中|含|推动")
# What may stand before the outcome that continues the previous sentence's statement.
_CONTINUATION_LEAD_RE = re.compile(r"^(?:截[至止][^，,]{0,16}|目前|至今|其中|现)?[，,]?\s*$")
_MAX_CONTINUATION_LEAD = 8  # "已完成", "剩余": the outcome opens its sentence
_HANDLED_RE = re.compile(r"受理")
_DECOMPOSITION_RE = re.compile(r"细化|分解|梳理")
_RATE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_RATE_WORDS_RE = re.compile(r"率|占")
_OUTCOME_BUCKETS = (
    "completed",
    "basically_completed",
    "long_term",
    "in_progress",
    "not_completed",
)


@dataclass(frozen=True)
class Count:
    """A labelled count kept with a figure: a level ("方面") or another count ("整改措施")."""

    label: str
    count: int | None


@dataclass(frozen=True)
class Figure:
    kind: str  # "progress", "found" (a total, no outcome), "outcome" (no total), "handled"
    body: str | None  # 中央巡视组, 省委第五巡视组, 市委第二巡察组, 自查自纠 …; None if none
    counting_word: str  # 项, 个, 条 or 件 after the total ("" when none is written)
    total: int | None
    completed: int | None
    basically_completed: int | None
    long_term: int | None
    not_completed: int | None
    in_progress: int | None
    quote: str  # == Extraction.text[start:end]
    start: int
    end: int
    counted_noun: str | None = None  # 问题, 具体问题, 整改任务, 整改措施, 问题线索, 信访件 …
    category: str = "rectification"  # rectification, clue_disposal, organisation, other
    source: str | None = None  # inspection, self_check, audit, supervision, theme_education
    rate: str | None = None  # a stated percentage, as written: "85.6%"
    levels: tuple[Count, ...] = ()  # coarser levels: 方面 4, 大类 3 …
    other_counts: tuple[Count, ...] = ()  # measures, named subsets …
    adds_up: bool | None = None  # outcomes sum to the total; None when that cannot be told
    confidence: str = "high"  # "high" or "low" (flagged for the supervisor, never dropped)


@dataclass
class _Token:
    start: int
    end: int  # after the noun when the noun follows the count
    value: int | None
    word: str
    noun: str | None
    noun_class: str | None
    before: str
    after: str


@dataclass
class _Statement:
    start: int
    end: int
    window_end: int  # the body is read from the sentence start up to here
    sentence_start: int
    token: _Token  # the total, or the first outcome of a statement that states none
    total_stated: bool = True
    total: int | None = None
    buckets: dict = field(default_factory=dict)
    levels: list = field(default_factory=list)
    others: list = field(default_factory=list)
    rate: str | None = None
    all_done: bool = False
    unsure: bool = False

    @property
    def noun_class(self) -> str | None:
        return self.token.noun_class

    def extend(self, end: int) -> None:
        self.end = max(self.end, end)


def read_statements(text: str, reading: str, document: DocumentContext) -> list[Figure]:
    """Every progress statement of a cleaned text; `reading` is its reading copy."""
    statements: list[_Statement] = []
    previous: _Statement | None = None
    counts = [match.start() for match in _TOKEN_RE.finditer(reading)]
    position = 0
    for count in counts:
        if count < position:
            continue  # in the sentence just read
        # Only sentences holding a count are read: the others state nothing and continue nothing.
        sentence = _SENTENCE_RE.match(reading, sentence_start(reading, count))
        found, previous = _read_sentence(reading, sentence, previous, counts)
        statements.extend(found)
        position = sentence.end()
    figures = [_figure(text, reading, statement, document) for statement in statements]
    return _without_restatements([figure for figure in figures if figure is not None])


def _read_sentence(
    reading: str, sentence: re.Match[str], previous: _Statement | None, counts: list[int]
) -> tuple[list[_Statement], _Statement | None]:
    """The statements of one sentence, and the one the next sentence may continue; `counts`
    are the sorted offsets where a count starts in the whole text."""
    if previous is not None and reading[previous.end : sentence.start()].strip("。！？!? ") != "":
        previous = None  # only the directly following sentence continues a statement
    found: list[_Statement] = []
    open_: list[_Statement] = []
    levels: list[tuple[Count, int]] = []
    context: tuple[str, str] | None = None  # (noun, class) named without a count
    for segment in _SEGMENT_RE.finditer(reading, sentence.start(), sentence.end()):
        first = bisect_left(counts, segment.start())
        has_count = first < len(counts) and counts[first] < segment.end()
        tokens = _tokens(reading, segment) if has_count else []
        if not tokens:
            if noun := _NOUN_CONTEXT_RE.search(segment.group()[-_MAX_NOUN_LENGTH:]):
                context = (_noun_text(noun), noun.lastgroup)
            _read_wordy_segment(reading, segment, open_)
            levels = []  # a level belongs to a total in its own run of counted segments
            continue
        for token in tokens:
            role, label = _role(token, has_next=token is not tokens[-1])
            if role == "level":
                levels.append((Count(label, token.value), segment.start()))
            elif role == "total":
                open_ = _add_total(reading, segment, token, open_, found, levels)
                levels = []
            elif role == "other":
                if open_ and (token.noun or _BARE_SUBSET_RE.search(token.before)):
                    open_[-1].others.append(Count(label, token.value))
                    open_[-1].extend(segment.end())
                else:
                    open_ = []  # "立案3件": the statement has ended
            else:
                target = open_[-1] if open_ else None
                if target is not None and role in target.buckets:
                    open_ = []  # an outcome stated twice: the statement has ended
                    continue
                if target is None and _continues(reading, previous, sentence, segment, token, role):
                    target, open_ = previous, [previous]
                    target.unsure = True
                if target is not None and token.noun and _head(token) != _head(target.token):
                    target = None
                if target is None:
                    if token.noun is None and context is not None:
                        token.noun, token.noun_class = context
                    if token.noun is None:
                        continue  # "解决一个、销号一个": no statement to belong to
                    target = _Statement(
                        segment.start(),
                        segment.end(),
                        segment.end(),
                        sentence.start(),
                        token,
                        total_stated=False,
                        unsure=True,
                    )
                    found.append(target)
                    open_ = [target]
                target.buckets.setdefault(role, token.value)
                target.unsure |= _UNSURE_OUTCOME_RE.search(token.before + token.after) is not None
                target.extend(segment.end())
    return found, (found[-1] if found else previous)


def _continues(
    reading: str,
    previous: _Statement | None,
    sentence: re.Match[str],
    segment: re.Match[str],
    token: _Token,
    bucket: str,
) -> bool:
    """An outcome opening a sentence ("截至目前，已完成…5个") continues the statement that
    ended the sentence before, unless that statement already has this outcome."""
    return (
        previous is not None
        and len(token.before) <= _MAX_CONTINUATION_LEAD
        and bucket not in previous.buckets
        and not (bucket == "completed" and previous.all_done)
        and _CONTINUATION_LEAD_RE.match(reading[sentence.start() : segment.start()]) is not None
    )


def _tokens(reading: str, segment: re.Match[str]) -> list[_Token]:
    """The counts of a segment, each with its noun (after or before it) and its context."""
    start, end = segment.span()
    raw = []
    searched_from = start
    for match in _TOKEN_RE.finditer(reading, start, end):
        noun = _NOUN_AFTER_RE.match(reading, match.end(), end)
        token_end = noun.end() if noun else match.end()
        if noun is None:
            window = max(searched_from, match.start() - _MAX_NOUN_LENGTH - 4)  # + 共计…
            noun = _NOUN_BEFORE_RE.search(reading, window, match.start())
            if noun is None and not _BARE_AFTER_RE.match(reading, match.end(), end):
                continue  # "4家", "3个月", "两个维护": counts of something else
            noun_start = noun.start() if noun else match.start()
        else:
            noun_start = match.start()
        searched_from = token_end
        try:
            value = parse_count(match.group("count"))
        except ValueError:
            continue
        raw.append((match, noun, noun_start, token_end, value))
    tokens = []
    for index, (match, noun, noun_start, token_end, value) in enumerate(raw):
        previous_end = raw[index - 1][3] if index else start
        next_start = raw[index + 1][2] if index + 1 < len(raw) else end
        noun_class = noun.lastgroup if noun else None
        big = noun is not None and noun.group().startswith("大") and not match.group("word")
        tokens.append(
            _Token(
                start=noun_start,
                end=token_end,
                value=value,
                word="大" if big else (match.group("word") or ""),
                noun=_noun_text(noun) if noun else None,
                noun_class=noun_class,
                before=reading[previous_end:noun_start],
                after=reading[token_end:next_start],
            )
        )
    return tokens


def _noun_text(noun: re.Match[str]) -> str:
    text = noun.group().removeprefix("大")
    for modifier in _DROPPED_MODIFIERS:
        text = text.removeprefix(modifier)
    return re.sub(r"\s+|(?:整改|的|共计|合计|总计|共有|共|中)$", "", text) or text


def _head(token: _Token | None) -> str | None:
    if token is None or token.noun_class is None:
        return None
    return "problem" if token.noun_class in ("problem", "task", "matter") else token.noun_class


def _role(token: _Token, *, has_next: bool) -> tuple[str, str]:
    """("level" | "total" | "other" | an outcome bucket, label for levels and others)."""
    label = token.noun or ""
    if token.word in ("类", "大") or token.noun_class == "level":
        return "level", f"{token.word}{label}" if token.word in ("类", "大") else label
    if token.noun is not None:
        if _ALL_DONE_RE.search(token.after) and not _SUBSET_BEFORE_RE.search(token.before):
            return "total", label
        if has_next:
            return "total", label
        if _SUBSET_BEFORE_RE.search(token.before) or _SUBSET_AFTER_RE.search(token.after):
            return "other", _other_label(token)
        bucket = _bucket(token.before) or _bucket(token.after)
        return (bucket, _other_label(token)) if bucket else ("total", label)
    bucket = _bucket(token.before + token.after)
    return (bucket, _other_label(token)) if bucket else ("other", _other_label(token))


def _bucket(context: str) -> str | None:
    for bucket, pattern in _OUTCOME_RES:
        if pattern.search(context):
            return bucket
    return None


def _other_label(token: _Token) -> str:
    words = re.sub(r"^(?:其中|中有|中)", "", (token.before + (token.noun or "") + token.after))
    return words.strip(" 的") or (token.noun or "")


def _add_total(
    reading: str,
    segment: re.Match[str],
    token: _Token,
    open_: list[_Statement],
    found: list[_Statement],
    levels: list[tuple[Count, int]],
) -> list[_Statement]:
    """Attach a total to the open statement (a sum part, a finer level, a measure count) or
    start a new statement; returns the statements now open."""
    last = open_[-1] if open_ else None
    joined = reading[segment.start() - 1 : segment.start()] in ("、", "和", "及")
    if last is not None and not last.buckets and not last.all_done:
        same_head = _head(token) == _head(last.token)
        if same_head and joined and _is_modifier(token.before):
            # "共性问题26个、个性问题13个": parts of one total
            last.total = (
                None if last.total is None or token.value is None else last.total + token.value
            )
            last.extend(segment.end())
            return open_
        if last.noun_class in ("problem", "task", "measure") and token.noun_class == "measure":
            last.others.append(Count(token.noun, token.value))
            last.extend(segment.end())
            return open_
        if same_head and _DECOMPOSITION_RE.search(token.before):
            last.levels.append(Count(last.token.noun, last.total))
            last.token, last.total = token, token.value
            last.extend(segment.end())
            return open_
    statement = _Statement(
        start=min([segment.start(), *(start for _count, start in levels)]),
        end=segment.end(),
        window_end=segment.end(),
        sentence_start=sentence_start(reading, segment.start()),
        token=token,
        total=token.value,
        levels=[count for count, _start in levels],
    )
    statement.all_done = _ALL_DONE_RE.search(token.after) is not None
    found.append(statement)
    keep_open = (
        last is not None and joined and not last.buckets and _head(token) != _head(last.token)
    )
    return [*open_, statement] if keep_open else [statement]


def _is_modifier(words: str) -> bool:
    """ "文书" in "、文书问题7个": a part of the total, not a new statement."""
    words = words.strip()
    return len(words) <= 6 and not (_bucket(words) or _DECOMPOSITION_RE.search(words))


def sentence_start(reading: str, position: int) -> int:
    return max(reading.rfind(mark, 0, position) for mark in _SENTENCE_MARKS) + 1


def _read_wordy_segment(reading: str, segment: re.Match[str], open_: list[_Statement]) -> None:
    """A segment without counts: "均已全部办结" completes every open statement; "整改完成率
    90%" / "占全部整改措施的85.6%" is the rate of the last one."""
    if not open_:
        return
    words = segment.group()
    rate = _RATE_RE.search(words)
    if rate and _RATE_WORDS_RE.search(words):
        open_[-1].rate = rate.group(1) + "%"
        open_[-1].extend(segment.end())
    elif _ALL_DONE_RE.search(words):
        for statement in open_:
            if "completed" not in statement.buckets:
                statement.all_done = True
                statement.extend(segment.end())


def _figure(
    text: str, reading: str, statement: _Statement, document: DocumentContext
) -> Figure | None:
    token = statement.token
    buckets = dict(statement.buckets)
    buckets.pop("other", None)
    if statement.all_done and "completed" not in buckets:
        buckets["completed"] = statement.total
    category = CATEGORY_BY_CLASS.get(token.noun_class or "problem", "rectification")
    if not statement.total_stated:
        kind = "outcome"
    elif _HANDLED_RE.search(token.before):
        kind, category = "handled", "other"  # "受理问题311个，已解决268个": received, resolved
    else:
        kind = "progress" if buckets else "found"
    if not buckets and kind == "outcome":
        return None
    quote = trimmed_item(text, statement.start, statement.end)
    source, body = source_and_body(
        reading, statement.sentence_start, statement.window_end, document
    )
    outcomes = [buckets.get(name) for name in _OUTCOME_BUCKETS if name in buckets]
    adds_up = None
    if statement.total is not None and outcomes and None not in outcomes:
        adds_up = sum(outcomes) == statement.total
    low = (
        statement.unsure
        or statement.total is None
        or None in outcomes
        or (adds_up is False and sum(outcomes) > (statement.total or 0))
    )
    return Figure(
        kind=kind,
        body=body,
        counting_word=token.word if statement.total_stated else "",
        total=statement.total,
        completed=buckets.get("completed"),
        basically_completed=buckets.get("basically_completed"),
        long_term=buckets.get("long_term"),
        not_completed=buckets.get("not_completed"),
        in_progress=buckets.get("in_progress"),
        quote=quote.text,
        start=quote.start,
        end=quote.end,
        counted_noun=token.noun,
        category=category,
        source=source,
        rate=statement.rate,
        levels=tuple(statement.levels),
        other_counts=tuple(statement.others),
        adds_up=adds_up,
        confidence="low" if low else "high",
    )


def _without_restatements(figures: list[Figure]) -> list[Figure]:
    """Drop a figure that a fuller one in the same document restates: same total, category,
    body and source, every count it states equal ("第一轮…144个问题验收销号143个" in the
    lead, the full statement below); of two equal ones the first is kept."""
    groups: dict[tuple, list[tuple[int, dict]]] = {}
    for index, figure in enumerate(figures):
        if figure.total is not None:
            key = (figure.total, figure.category, figure.body, figure.source)
            groups.setdefault(key, []).append((index, _stated(figure)))
    dropped = set()
    for members in groups.values():
        for index, mine in members:
            if any(
                other_index != index
                and mine.items() <= theirs.items()
                and (len(theirs) > len(mine) or other_index < index)
                for other_index, theirs in members
            ):
                dropped.add(index)
    return [figure for index, figure in enumerate(figures) if index not in dropped]


def _stated(figure: Figure) -> dict:
    return {
        name: getattr(figure, name)
        for name in ("total", *_OUTCOME_BUCKETS)
        if getattr(figure, name) is not None
    }
