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
from tracker.models import Inspection, Role, Unit, User


def snapshot_list(*, user: User) -> QuerySet[RollupSnapshot]:
    """Snapshots the user may read: their own, and for a supervisor every snapshot whose scope
    lies within theirs; an administrator reads all."""
    qs = RollupSnapshot.objects.select_related("created_by")
    if access.sees_everything(user):
        return qs
    own = Q(created_by=user)
    scope = access.scope_unit(user)
    if user.role == Role.SUPERVISOR and scope is not None:
        return qs.filter(
            own | Q(scope_unit__in=Unit.objects.filter(path__startswith=scope.path))
        )
    return qs.filter(own)


def report_list(*, user: User) -> QuerySet[SourceReport]:
    """Report documents the user may read, with their figures and items.

    Administrators and top supervisors read all; another supervisor reads the reports imported
    by someone in their scope and those linked to an inspection they see; officers none (the
    API refuses them before this). Three queries whatever the number of reports: reports,
    figures, items."""
    qs = SourceReport.objects.select_related("imported_by", "inspection").prefetch_related(
        Prefetch(
            "figures", queryset=ExtractedFigure.objects.select_related("reviewed_by")
        ),
        Prefetch("items", queryset=ExtractedItem.objects.select_related("reviewed_by")),
    )
    if not access.is_supervisor_or_admin(user):
        return qs.none()
    scope = access.scope_unit(user)
    if access.sees_everything(user) or (scope is not None and scope.parent_id is None):
        return qs  # an administrator, or a supervisor at the root of the unit tree
    inspections = Inspection.objects.filter(access.visible_inspections_q(user)).values("pk")
    q = Q(imported_by=user) | Q(inspection__in=inspections)
    if scope is not None:
        q |= Q(imported_by__unit__path__startswith=scope.path)
    return qs.filter(q)


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
    return {
        "total": figures.total,
        "completed": figures.completed,
        "basically_completed": figures.basically_completed,
        "long_term": figures.long_term,
        "not_completed": figures.not_completed,
        "in_progress": figures.in_progress + figures.submitted,
    }


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
