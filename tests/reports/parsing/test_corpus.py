"""The reader measured on the development corpus: real public excerpts, hand-read statements.

The corpus lives outside the project (../shared/corpus from the project root, or $CORPUS_DIR),
next to the seeds; EXPECTED.json holds what a careful reader finds in each file (conventions in
its `_meta`). Like the seed tests these skip when the folder is absent and fail instead when
CI sets TRACKER_REQUIRE_SEEDS=1, so the measurement can never silently vanish from a run.

Scoring, on the *required* statements (category rectification, not unsure):
- an expected statement is matched by the figure whose span overlaps the quote's place in the
  cleaned text (several figures may share one quote: the one with the same total wins);
- per field (the six counts, body, counted noun, category): recall = right values / values
  expected; precision = right values / values emitted, where every value of a rectification
  figure that matches no expected statement at all counts as emitted and wrong;
- a statement is right when all six counts are; overall = the fields pooled.
Figures that match an unsure or non-rectification statement are neither rewarded nor counted
against precision (the mapping is a judgement call there).
"""

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reports.parsing import clean_text, extract, parse_count, read_document
from reports.parsing.numerals import CHINESE_DIGITS

PROJECT_ROOT = Path(__file__).resolve().parents[3]
CORPUS_DIR = Path(os.environ.get("CORPUS_DIR") or PROJECT_ROOT / ".." / "shared" / "corpus")
EXPECTED_FILE = CORPUS_DIR / "EXPECTED.json"
REQUIRE_CORPUS = os.environ.get("TRACKER_REQUIRE_SEEDS") == "1"

COUNT_FIELDS = (
    "total",
    "completed",
    "basically_completed",
    "long_term",
    "in_progress",
    "not_completed",
)
# expected field -> Figure attribute
TEXT_FIELDS = {"inspection_body": "body", "unit_of_count": "counted_noun", "category": "category"}
FIELDS = (*COUNT_FIELDS, *TEXT_FIELDS)

MIN_RECALL = 0.95
MIN_PRECISION = 0.95
MIN_PROBLEM_COUNTS_EXACT = 0.90
NUMERAL_RE = re.compile(rf"\d+|[{CHINESE_DIGITS}]+")

pytestmark = pytest.mark.seeds


@pytest.fixture(scope="module", autouse=True)
def corpus_present():
    if not EXPECTED_FILE.is_file():
        if REQUIRE_CORPUS:
            pytest.fail(f"TRACKER_REQUIRE_SEEDS=1 but the corpus is missing: {CORPUS_DIR}")
        pytest.skip(f"no corpus at {CORPUS_DIR}")


def expected_files() -> dict:
    if not EXPECTED_FILE.is_file():
        return {}
    return json.loads(EXPECTED_FILE.read_text(encoding="utf-8"))["files"]


def corpus_extraction(name: str):
    document = read_document((CORPUS_DIR / name).read_bytes(), name)
    return extract(document.text)


def is_required(statement: dict) -> bool:
    return statement["category"] == "rectification" and not statement["unsure"]


def figure_value(figure, name: str):
    return getattr(figure, TEXT_FIELDS.get(name, name), None)


def is_rectification(figure) -> bool:
    return figure_value(figure, "category") == "rectification"


def is_inspection(figure) -> bool:
    return getattr(figure, "source", None) == "inspection"


@dataclass
class Score:
    expected: dict = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    emitted: dict = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    right: dict = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    required: int = 0
    statements_right: int = 0
    statements_emitted: int = 0
    misses: list = field(default_factory=list)
    false_figures: list = field(default_factory=list)
    problem_files: int = 0
    problem_counts_exact: int = 0
    problem_misses: list = field(default_factory=list)

    def add_pair(self, name: str, statement: dict, figure) -> None:
        """One required statement and the figure matched to it (or None)."""
        self.required += 1
        wrong = []
        for field_name in FIELDS:
            want = statement[field_name]
            got = None if figure is None else figure_value(figure, field_name)
            self.expected[field_name] += want is not None
            self.emitted[field_name] += got is not None
            if want is not None and got == want:
                self.right[field_name] += 1
            elif want != got:
                wrong.append(f"{field_name}: {got!r} ≠ {want!r}")
        if figure is not None:
            self.statements_emitted += 1
        counts_right = figure is not None and all(
            figure_value(figure, name) == statement[name] for name in COUNT_FIELDS
        )
        self.statements_right += counts_right
        if wrong:
            shown = "not found" if figure is None else "; ".join(wrong)
            self.misses.append(f"{name} 「{statement['quote']}」 {shown}")

    def add_false_figure(self, name: str, figure) -> None:
        self.statements_emitted += 1
        for field_name in FIELDS:
            self.emitted[field_name] += figure_value(figure, field_name) is not None
        self.false_figures.append(f"{name} 「{figure.quote}」")

    def recall(self, names=FIELDS) -> float:
        return _ratio(sum(self.right[n] for n in names), sum(self.expected[n] for n in names))

    def precision(self, names=FIELDS) -> float:
        return _ratio(sum(self.right[n] for n in names), sum(self.emitted[n] for n in names))

    def report(self) -> str:
        lines = ["", "corpus: required statements (category rectification, not unsure)"]
        lines.append(f"{'field':<22}{'recall':>8}{'precision':>11}{'expected':>10}")
        for name in FIELDS:
            lines.append(
                f"{name:<22}{self.recall((name,)):>8.3f}{self.precision((name,)):>11.3f}"
                f"{self.expected[name]:>10}"
            )
        lines.append(
            f"{'overall (fields)':<22}{self.recall():>8.3f}{self.precision():>11.3f}"
            f"{sum(self.expected.values()):>10}"
        )
        lines.append(
            f"{'statements (counts)':<22}{_ratio(self.statements_right, self.required):>8.3f}"
            f"{_ratio(self.statements_right, self.statements_emitted):>11.3f}{self.required:>10}"
        )
        lines.append(
            f"problem counts exact: {self.problem_counts_exact}/{self.problem_files} = "
            f"{_ratio(self.problem_counts_exact, self.problem_files):.3f}"
        )
        lines += ["misses:", *(f"  {miss}" for miss in self.misses)]
        lines += ["figures matching no statement:", *(f"  {f}" for f in self.false_figures)]
        lines += ["problem counts:", *(f"  {miss}" for miss in self.problem_misses)]
        return "\n".join(lines)


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0


def locate(text: str, quote: str) -> tuple[int, int]:
    cleaned = clean_text(quote)
    start = text.find(cleaned)
    assert start != -1, f"expected quote not in the cleaned text: {quote}"
    return start, start + len(cleaned)


def match_statements(extraction, statements: list[dict]) -> list:
    """The figure matched to each statement (or None), each figure used once."""
    used: set[int] = set()
    matched = []
    for statement in statements:
        start, end = locate(extraction.text, statement["quote"])
        candidates = [
            index
            for index, figure in enumerate(extraction.figures)
            if index not in used and figure.start < end and start < figure.end
        ]
        candidates.sort(key=lambda index: extraction.figures[index].total != statement["total"])
        matched.append(extraction.figures[candidates[0]] if candidates else None)
        used.update(candidates[:1])
    return matched


def problem_count(extraction) -> int | None:
    return None if extraction.problems is None else len(extraction.problems)


@pytest.fixture(scope="module")
def corpus():
    """name -> (extraction, expected entry), every corpus file read once."""
    return {name: (corpus_extraction(name), entry) for name, entry in expected_files().items()}


@pytest.fixture(scope="module")
def score(corpus) -> Score:
    score = Score()
    for name, (extraction, entry) in corpus.items():
        statements = entry["statements"]
        matched = match_statements(extraction, statements)
        for statement, figure in zip(statements, matched, strict=True):
            if is_required(statement):
                score.add_pair(name, statement, figure)
        claimed = {id(figure) for figure in matched if figure is not None}
        for figure in extraction.figures:
            if id(figure) not in claimed and is_rectification(figure):
                score.add_false_figure(name, figure)
        if entry["problems_count"] is not None:
            score.problem_files += 1
            found = problem_count(extraction)
            score.problem_counts_exact += found == entry["problems_count"]
            if found != entry["problems_count"]:
                score.problem_misses.append(f"{name}: {found} ≠ {entry['problems_count']}")
    return score


def test_corpus_recall_and_precision(score, capsys):
    with capsys.disabled():
        print(score.report())
    assert score.recall() >= MIN_RECALL
    assert score.precision() >= MIN_PRECISION


def test_corpus_problem_counts(score):
    exact = _ratio(score.problem_counts_exact, score.problem_files)
    assert exact >= MIN_PROBLEM_COUNTS_EXACT, score.problem_misses


def numerals_in(quote: str) -> set[int]:
    values = set()
    for token in NUMERAL_RE.findall(quote):
        try:
            values.add(parse_count(token))
        except ValueError:
            continue
    return values


def test_corpus_numbers_come_from_the_quote_never_from_a_redaction(corpus):
    """Every count a figure carries is written in its quote (or is its total, for 全部):
    a redacted count is never turned into a number, nothing is guessed."""
    for name, (extraction, _entry) in corpus.items():
        for figure in extraction.figures:
            allowed = numerals_in(figure.quote) | {figure.total}
            for count_field in COUNT_FIELDS:
                value = getattr(figure, count_field)
                assert value is None or value in allowed, (name, figure)


def test_corpus_redacted_file_emits_no_number(corpus):
    extraction, _entry = corpus["25_wenke99-xx-redacted-biaotai.txt"]
    for figure in extraction.figures:
        assert all(getattr(figure, name) is None for name in COUNT_FIELDS), figure


def test_corpus_distractors_are_never_inspection_rectification(corpus):
    for name, (extraction, entry) in corpus.items():
        not_inspection = [s for s in entry["statements"] if s["inspection_body"] is None]
        for statement, figure in zip(
            not_inspection, match_statements(extraction, not_inspection), strict=True
        ):
            assert figure is None or not is_inspection(figure), (name, statement["quote"])
        if "distractor" in name:
            for figure in extraction.figures:
                assert not (is_rectification(figure) and is_inspection(figure)), (name, figure)


def test_corpus_offsets_slice_the_cleaned_text(corpus):
    for extraction, _entry in corpus.values():
        for figure in extraction.figures:
            assert extraction.text[figure.start : figure.end] == figure.quote
        for item in extraction.problems or ():
            assert extraction.text[item.start : item.end] == item.text
