"""Acceptance: the reconciliation lists the planted disagreements in a test
ledger, as of each report's date, and nothing else."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from reports.models import ReviewState
from reports.selectors import reconciliation
from tests.reports.factories import (
    ExtractedFigureFactory,
    SourceReportFactory,
    build_reconciliation_ledger,
)
from tests.tracker.factories import ProblemFactory
from tracker.services import tasks as services

pytestmark = pytest.mark.django_db
LOCAL = ZoneInfo("Asia/Shanghai")


def at(day: int) -> dt.datetime:
    return dt.datetime(2026, 5, day, 10, tzinfo=LOCAL)


@pytest.fixture
def ledger(chief, bureau):
    """10 tasks created on 5-1; by 5-5, 6 closed and 1 basically completed."""
    return build_reconciliation_ledger(actor=chief, lead_unit=bureau).inspection


def reported(inspection, day, **numbers):
    report = SourceReportFactory(report_date=dt.date(2026, 5, day))
    return ExtractedFigureFactory(report=report, inspection=inspection,
                                  review_state=ReviewState.CONFIRMED, counting_word="个",
                                  **{"total": None, "completed": None, **numbers})


def test_reconciliation_lists_the_planted_disagreements_and_nothing_else(chief, ledger):
    reported(ledger, 2, total=10, completed=0)  # true on 5-2
    reported(ledger, 5, total=10, completed=7, basically_completed=1, not_completed=2)
    ExtractedFigureFactory(inspection=None, total=99, completed=1)  # never confirmed

    results = reconciliation(user=chief, inspection=ledger)

    assert [(r.as_of.day, r.ledger["completed"]) for r in results] == [(2, 0), (5, 6)]
    assert [d.message for r in results for d in r.disagreements] == [
        "报告称已完成整改7个，台账截至2026年5月5日已销号6个",
        "报告称未完成整改2个，台账截至2026年5月5日未完成整改3个",
    ]


def test_a_report_without_a_date_is_compared_as_of_its_import_day(chief, ledger):
    figure = reported(ledger, 5, total=10, completed=6)
    figure.report.report_date = None
    figure.report.imported_at = at(3)
    figure.report.save(update_fields=["report_date", "imported_at"])

    (result,) = reconciliation(user=chief, inspection=ledger)

    assert result.as_of == dt.date(2026, 5, 3)
    assert [d.message for d in result.disagreements] == [
        "报告称已完成整改6个，台账截至2026年5月3日已销号0个"
    ]


def test_as_of_on_time_follows_the_local_deadline_day(chief, bureau):
    """Closed at 23:30 Beijing time on the deadline day is on time; 00:30 the next day is
    late, even though both are the same UTC date."""
    from tracker.figures.rollups import RollupFilters, rollup

    local = ZoneInfo("Asia/Shanghai")
    problem = ProblemFactory()
    closings = [dt.datetime(2026, 5, 10, 23, 30, tzinfo=local),
                dt.datetime(2026, 5, 11, 0, 30, tzinfo=local)]
    for i, closed_at in enumerate(closings):
        task = services.task_create(problem=problem, actor=chief, title=f"任务{i}",
                                    lead_unit=bureau, deadline=dt.date(2026, 5, 10), now=at(1))
        services.task_start(task=task, actor=chief, now=at(2))
        services.task_submit(task=task, actor=chief, now=at(3))
        services.task_close(task=task, actor=chief, now=closed_at)

    figures = rollup(
        user=chief,
        filters=RollupFilters(inspection_id=problem.inspection_id, as_of=dt.date(2026, 5, 12)),
    ).total

    assert (figures.completed, figures.closed_on_time, figures.on_time_rate) == (2, 1, "50.0")
