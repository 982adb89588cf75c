"""Reconciling a reported figure with the ledger: every disagreement listed, nothing else."""

import datetime as dt

from reports.parsing import extract
from reports.reconcile import reconcile, reported_numbers

DAY = dt.date(2026, 6, 30)
LEDGER = {"total": 76, "completed": 58, "basically_completed": 12, "long_term": 2,
          "not_completed": 4, "in_progress": 3}


def figure_of(sentence: str):
    (figure,) = [f for f in extract(sentence).figures if f.kind == "progress"]
    return figure


def test_every_disagreement_is_listed_in_chinese():
    figure = figure_of(
        "细化分解为76个具体问题，已完成整改61个，基本完成整改10个，长期坚持2个，未完成整改3个。"
    )
    found = reconcile(reported=reported_numbers(figure), ledger=LEDGER, as_of=DAY)
    assert [d.message for d in found] == [
        "报告称已完成整改61个，台账截至2026年6月30日已销号58个",
        "报告称基本完成整改10个，台账截至2026年6月30日基本完成整改12个",
        "报告称未完成整改3个，台账截至2026年6月30日未完成整改4个",
    ]


def test_agreeing_figures_give_nothing():
    figure = figure_of("共有整改任务76项，已完成58项。")
    assert reconcile(reported=reported_numbers(figure), ledger=LEDGER, as_of=DAY) == []


def test_redacted_numbers_are_not_compared():
    figure = figure_of("省委巡视组反馈的76项整改任务已完成*项。")
    assert figure.completed is None
    assert reported_numbers(figure) == {"total": 76}
    assert reconcile(reported=reported_numbers(figure), ledger=LEDGER, as_of=DAY) == []


def test_counting_word_follows_the_report():
    found = reconcile(reported={"total": 80}, ledger=LEDGER, as_of=DAY, counting_word="项")
    assert [d.message for d in found] == [
        "报告称整改问题（任务）共80项，台账截至2026年6月30日共有整改任务76项"
    ]
