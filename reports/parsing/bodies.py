"""Who fed the problems back (the body) and what kind of rectification a figure belongs to.

Read from the reading copy (simplified, see normalise.py). A figure's own sentence decides
first; a sentence that says only "巡察反馈的…" or names nobody takes the team the document is
about, when the document is about one inspection (its title or opening names 巡视/巡察 and
the document names one team). Audit (审计), supervision by other organs (环保督察, 耕地保护督察)
and theme-education self-examination (主题教育, 检视) are sources of their own: their figures
carry no inspection body, so a supervisor never mistakes them for inspection rectification.
"""

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import cached_property

_LEVEL = r"中央|省委|自治区党委|市委|州委|盟委|县委|区委|旗委|委党组|党委|党组"
_MODE = r"专项|机动|提级|交叉|联动|常规"
_NUMERAL = r"(?:[一二三四五六七八九十]{1,3}|\d{1,2}|[Xx×*]{1,3})"
# A team is found from its 巡视/巡察: what stands right before it (committee, topic, ordinal,
# mode) is read backwards from the word, what follows it (ordinal, 组) forwards. Anchoring at
# the word is much faster than trying a team pattern at every offset of the text.
_KIND_RE = re.compile(r"巡[视察]")
_LEVELS = frozenset(_LEVEL.split("|"))
_LEVEL_LENGTHS = sorted({len(level) for level in _LEVELS}, reverse=True)  # 委党组 before 党组
_MODES = frozenset(_MODE.split("|"))
_ORDINAL_TAIL_RE = re.compile(rf"第{_NUMERAL}$")
_ROUND_TAIL_RE = re.compile(rf"(?:第|前|后)?{_NUMERAL}轮$")  # "第四轮巡察", "前三轮巡察"
_TEAMS_TAIL_RE = re.compile(r"\d+个$")  # "县委7个巡察组": the teams of a committee
# a topic between committee and mode: "县委经济发展领域作风建设专项巡察二组"
_TOPIC_TAIL_RE = re.compile(rf"(?P<level>{_LEVEL})(?!第)[\u4e00-\u9fff]{{2,12}}$")
_SUFFIX_RE = re.compile(
    rf"(?P<suffix>{_NUMERAL}(?=组))?(?P<group>组)?"
    r"(?!整改|工作领导小组|领导小组|办|机构)"  # "市委巡视整改工作领导小组" inspects nobody
)
# The last character of anything _prefix can read: a committee, ordinal, round, count, mode.
_PREFIX_ENDINGS = frozenset("央委组轮个项动级叉规一二三四五六七八九十0123456789Xx×*")
_MAX_PREFIX = 24  # committee, topic, ordinal and mode before 巡视/巡察
_UNUSUAL_LEVELS = ("委党组", "党委", "党组")

SOURCE_INSPECTION = "inspection"
SOURCE_SELF_CHECK = "self_check"
_SOURCE_RE = re.compile(
    r"(?P<inspection>巡视|巡察)|(?P<self_check>自查自纠)|(?P<audit>审计)"
    r"|(?P<supervision>督察)|(?P<theme_education>主题教育|检视)"
)
_OPENING_LENGTH = 1000
_HEADER_LINES = 6
_MAX_HEADER_LENGTH = 60
_ANNOUNCEMENT_RE = re.compile(
    r"将[^。]{0,10}整改[^。]{0,10}(?:予以公布|公布|通报|报告如下|汇报如下)"
)


@dataclass(frozen=True)
class Team:
    name: str  # normalised: "市委第二巡察组", "县委专项巡察二组", "省委巡视组", "巡察组"
    level: str  # "" when the text names no committee
    kind: str  # 巡视 or 巡察
    specificity: int  # 3 numbered, 2 round/unusual/mode, 1 committee only, 0 just the word
    is_round: bool = False  # "市委第四轮巡察": an inspection round, not a team


def _teams(reading: str) -> tuple[list[int], list[Team]]:
    """Every team named in the text: (offsets of their 巡视/巡察, teams), in order."""
    positions, teams = [], []
    for kind in _KIND_RE.finditer(reading):
        suffix = _SUFFIX_RE.match(reading, kind.end())
        if suffix is None:
            continue
        if reading[kind.start() - 1 : kind.start()] in _PREFIX_ENDINGS:
            before = reading[max(0, kind.start() - _MAX_PREFIX) : kind.start()]
            level, round_, ordinal, mode = _prefix(before)
        else:
            level = round_ = ordinal = mode = ""  # "开展巡察", "对巡察…": nothing before it
        number = suffix.group("suffix") or ""
        if ordinal or number:
            specificity = 3
        elif round_ or ((mode or level in _UNUSUAL_LEVELS) and suffix.group("group")):
            specificity = 2
        else:
            specificity = 1 if level else 0
        # A round is not a team: "市委第四轮巡察" is named as written.
        team = "" if round_ and not number else "组"
        name = f"{level}{round_}{ordinal}{mode}{kind.group()}{number}{team}"
        positions.append(kind.start())
        teams.append(Team(name, level, kind.group(), specificity, bool(team == "")))
    return positions, teams


def _level_at_end(words: str) -> str:
    return next((words[-n:] for n in _LEVEL_LENGTHS if words[-n:] in _LEVELS), "")


def _prefix(before: str) -> tuple[str, str, str, str]:
    """(committee, round, ordinal, mode) written right before 巡视/巡察, read from the end."""
    mode = before[-2:] if before[-2:] in _MODES else ""
    before = before[: len(before) - len(mode)]
    ordinal = round_ = ""
    # The regexes run only where their last character says they can match (much cheaper).
    if "第" in before[-5:] and (match := _ORDINAL_TAIL_RE.search(before)):
        ordinal, before = match.group(), before[: match.start()]
    elif before.endswith("轮") and (match := _ROUND_TAIL_RE.search(before)):
        round_, before = match.group(), before[: match.start()]
    elif before.endswith("个") and (match := _TEAMS_TAIL_RE.search(before)):
        before = before[: match.start()]
    level = _level_at_end(before)
    if not level and mode and not ordinal and (topic := _TOPIC_TAIL_RE.search(before)):
        level = topic.group("level")
    return level, round_, ordinal, mode


class DocumentContext:
    """What the whole document says about who inspected (read once per document; the team
    only when a figure needs it)."""

    def __init__(self, reading: str) -> None:
        self.reading = reading
        self.source = _opening_source(reading)  # the source the title and opening speak of

    @classmethod
    def of(cls, reading: str) -> "DocumentContext":
        return cls(reading)

    @cached_property
    def mentions(self) -> tuple[list[int], list[Team]]:
        """Every team the document names, with the offset of each (read once)."""
        return _teams(self.reading)

    def teams_between(self, start: int, end: int) -> list[Team]:
        positions, teams = self.mentions
        return teams[bisect_left(positions, start) : bisect_left(positions, end)]

    @cached_property
    def team(self) -> Team | None:
        """The one team a document about one inspection names in its opening (the most
        specific naming of it)."""
        if self.source != SOURCE_INSPECTION:
            return None
        opening = self.teams_between(0, _OPENING_LENGTH)
        teams = [team for team in opening if not team.is_round]
        best = max((team.specificity for team in teams), default=0)
        names = {team.name: team for team in teams if team.specificity == best}
        return next(iter(names.values())) if len(names) == 1 and best > 0 else None


def _opening_source(reading: str) -> str | None:
    """The source a document is about: the one a short line at the top names (title, header,
    breadcrumb), else the one named in an opening sentence that announces the rectification
    ("根据巡察工作有关要求，现将整改进展情况予以公布"). A work report that merely has a
    paragraph on 巡察整改 is about no single source."""
    for line in reading.split("\n", _HEADER_LINES)[:_HEADER_LINES]:
        if "。" in line:
            break  # the body of the text has begun: a short paragraph there is no header
        if len(line) <= _MAX_HEADER_LENGTH and (match := _SOURCE_RE.search(line)):
            return match.lastgroup
    for sentence in re.split("[。\n]", reading[:_OPENING_LENGTH]):
        if _ANNOUNCEMENT_RE.search(sentence) and (match := _SOURCE_RE.search(sentence)):
            return match.lastgroup
    return None


def source_and_body(
    reading: str, start: int, end: int, document: DocumentContext
) -> tuple[str | None, str | None]:
    """(source, body) for a figure whose sentence runs from `start`, read up to `end`."""
    sources = list(_SOURCE_RE.finditer(reading, start, end))
    if not sources:
        if document.source == SOURCE_INSPECTION and document.team:
            return SOURCE_INSPECTION, document.team.name
        return document.source, None
    source = sources[-1].lastgroup
    if source == SOURCE_SELF_CHECK:
        return source, "自查自纠"
    if source != SOURCE_INSPECTION:
        return source, None
    teams = document.teams_between(start, end)
    if document.team and all(team.is_round for team in teams):
        teams = []  # "…第六轮巡察反馈问题的整改方案" in a document about one team: that team
    named = [team for team in teams if team.specificity > 0] or teams
    if not named:  # only "巡察整改…": the team is the one the document is about, if any
        return source, document.team.name if document.team else None
    return source, _completed(named[-1], document).name


def _completed(team: Team, document: DocumentContext) -> Team:
    """ "省委巡视" in a document about 省委第五巡视组 is that team; a bare "巡察" too."""
    known = document.team
    if (
        known is None
        or team.specificity >= 2
        or known.kind != team.kind
        or team.level not in ("", known.level)
    ):
        return team
    return known
