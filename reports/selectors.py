"""Reads of the reports app other than the rollup aggregates (those are tracker.figures.rollups)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from reports.models import (
    ExtractedFigure,
    ExtractedItem,
    FigureKind,
    ReviewState,
    RollupSnapshot,
    SourceReport,
)
from reports.reconcile import Disagreement, reconcile, reported_numbers
from tracker import access
from tracker.figures.rollups import Figures, RollupFilters, rollup
from tracker.models import Inspection, Unit, User


def snapshot_list(*, user: User) -> QuerySet[RollupSnapshot]:
    """Snapshots the user may read: their own, and for a supervisor every snapshot whose scope
    lies within theirs; an administrator reads all."""
    qs = RollupSnapshot.objects.select_related("created_by")
    if access.sees_everything(user):
        return qs
    managed = Unit.objects.filter(access.managed_units_q(user))
    return qs.filter(Q(created_by=user) | Q(scope_unit__in=managed))


def report_list(*, user: User) -> QuerySet[SourceReport]:
    """Report documents the user may read (tracker.access.visible_reports_q: supervisors and
    administrators only), with their figures and items. The API and the pages both start here.

    Three queries whatever the number of reports: reports, figures, items."""
    return (
        SourceReport.objects.filter(access.visible_reports_q(user))
        .select_related("imported_by", "inspection")
        .prefetch_related(
            Prefetch("figures", queryset=ExtractedFigure.objects.select_related("reviewed_by")),
            Prefetch("items", queryset=ExtractedItem.objects.select_related("reviewed_by")),
        )
    )


@dataclass(frozen=True)
class ReconciledFigure:
    """A confirmed reported figure next to the ledger as it stood on the report's date."""

    figure: ExtractedFigure
    as_of: dt.date
    ledger: dict[str, int]
    disagreements: list[Disagreement]


def report_date(report: SourceReport) -> dt.date:
    """The date a report speaks for: as stated in it (or set by a supervisor), else the day
    it was imported."""
    return report.report_date or timezone.localdate(report.imported_at)


def ledger_counts(figures: Figures) -> dict[str, int]:
    # A report's 正在整改 covers every working state, submissions awaiting 销号 included.
    return {**figures.report_buckets(), "in_progress": figures.in_progress + figures.submitted}


def reconciliation(*, user: User, inspection: Inspection) -> list[ReconciledFigure]:
    """Every confirmed progress figure reported for the inspection, compared with the ledger's
    rollup as of its report's date. One rollup per distinct report date (figures sharing a
    date share it), plus one query for the figures."""
    figures = list(
        ExtractedFigure.objects.filter(
            inspection=inspection, kind=FigureKind.PROGRESS, review_state=ReviewState.CONFIRMED
        )
        .select_related("report")
        .order_by("report__report_date", "report_id", "start")
    )
    by_date: dict[dt.date, dict[str, int]] = {}
    results = []
    for figure in figures:
        day = report_date(figure.report)
        if day not in by_date:
            ledger = rollup(
                user=user, filters=RollupFilters(inspection_id=inspection.pk, as_of=day)
            )
            by_date[day] = ledger_counts(ledger.total)
        results.append(
            ReconciledFigure(
                figure=figure,
                as_of=day,
                ledger=by_date[day],
                disagreements=reconcile(
                    reported=reported_numbers(figure), ledger=by_date[day], as_of=day,
                    counting_word=figure.counting_word or "个",
                ),
            )
        )
    return results
