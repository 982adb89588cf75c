"""Reported figures against the ledger: every disagreement, in Chinese.

A ledger that disagrees with the figures sent upward is the first sign of fake rectification
(虚假整改), so each stated number is compared with the ledger's count as of the report's date.
Pure: a reported figure and the ledger's counts in, sentences out.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

# (field, how the report phrases it, how the ledger phrases it)
COMPARED = [
    ("total", "整改问题（任务）共", "共有整改任务"),
    ("completed", "已完成整改", "已销号"),
    ("basically_completed", "基本完成整改", "基本完成整改"),
    ("long_term", "长期坚持", "长期坚持"),
    ("not_completed", "未完成整改", "未完成整改"),
    ("in_progress", "正在整改", "整改中（含待审核）"),
]


@dataclass(frozen=True)
class Disagreement:
    field: str
    reported: int
    ledger: int
    message: str


def reported_numbers(figure) -> dict[str, int]:
    """The numbers a figure states; redacted or unstated ones (None) are not compared."""
    return {
        field: value
        for field, *_ in COMPARED
        if (value := getattr(figure, field, None)) is not None
    }


def reconcile(
    *, reported: Mapping[str, int], ledger: Mapping[str, int], as_of: dt.date,
    counting_word: str = "个",
) -> list[Disagreement]:
    """Every stated number that the ledger does not bear out, as of the report's date."""
    day = f"{as_of.year}年{as_of.month}月{as_of.day}日"
    found = []
    for field, report_phrase, ledger_phrase in COMPARED:
        if field not in reported or reported[field] == ledger[field]:
            continue
        found.append(
            Disagreement(
                field=field,
                reported=reported[field],
                ledger=ledger[field],
                message=(
                    f"报告称{report_phrase}{reported[field]}{counting_word}，"
                    f"台账截至{day}{ledger_phrase}{ledger[field]}{counting_word}"
                ),
            )
        )
    return found
