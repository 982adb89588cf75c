"""Reads for the report pages, scoped to the reader.

Which reports a reader sees is tracker.access.visible_reports_q, through the one reports
selector the API uses too. The choices the confirm forms offer are bounded by the rules the
services apply: an inspection the reader sees for a figure, one they may edit for a new
problem, units they manage for a task.
"""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from reports import selectors as report_selectors
from reports.models import ExtractedFigure, ExtractedItem, FigureKind, ReviewState, SourceReport
from tracker import access
from tracker import selectors as tracker_selectors
from tracker.models import Inspection, Problem, Unit, User


def visible_inspections(*, user: User) -> QuerySet[Inspection]:
    return Inspection.objects.filter(access.visible_inspections_q(user)).order_by(
        "-feedback_date", "id"
    )


def report_list(*, user: User) -> QuerySet[SourceReport]:
    """The reports selector (the API's too), with the counts the list page shows."""
    return report_selectors.report_list(user=user).prefetch_related(None).annotate(
        figure_count=Count("figures", distinct=True),
        proposed_figures=Count(
            "figures", filter=Q(figures__review_state=ReviewState.PROPOSED), distinct=True
        ),
        item_count=Count("items", distinct=True),
        proposed_items=Count(
            "items", filter=Q(items__review_state=ReviewState.PROPOSED), distinct=True
        ),
    ).order_by("-imported_at", "-id")


def report_detail(*, user: User, pk: int) -> SourceReport | None:
    """One visible report with its figures and items (and what they were confirmed into)."""
    return (
        report_selectors.report_list(user=user)
        .prefetch_related(None)
        .prefetch_related(
            Prefetch("figures", queryset=ExtractedFigure.objects.select_related(
                "inspection", "reviewed_by").order_by("start", "id")),
            Prefetch("items", queryset=ExtractedItem.objects.select_related(
                "problem", "problem__inspection", "task", "reviewed_by",
            ).order_by("kind", "position")),
        )
        .filter(pk=pk)
        .first()
    )


def _visible_reports(user: User) -> QuerySet[SourceReport]:
    return SourceReport.objects.filter(access.visible_reports_q(user))


def figure_for_review(*, user: User, pk: int) -> ExtractedFigure | None:
    return ExtractedFigure.objects.filter(pk=pk, report__in=_visible_reports(user)).first()


def item_for_review(*, user: User, pk: int) -> ExtractedItem | None:
    return ExtractedItem.objects.filter(pk=pk, report__in=_visible_reports(user)).first()


def inspections_for_problems(*, user: User) -> QuerySet[Inspection]:
    """Inspections the reader may add a problem to (tracker.access.can_edit_inspection):
    those aimed at a unit they manage; one aimed at no unit, for a top supervisor."""
    qs = Inspection.objects.select_related("target_unit").order_by("-feedback_date", "id")
    if access.sees_everything(user):
        return qs
    aimed = Q(target_unit__in=Unit.objects.filter(access.managed_units_q(user)))
    if access.may_manage_unit(user, None):
        aimed |= Q(target_unit__isnull=True)
    return qs.filter(aimed)


def problems_for_tasks(*, user: User) -> QuerySet[Problem]:
    return tracker_selectors.problems_for_tasks(user=user)


def inspections_with_findings(*, user: User) -> QuerySet[Inspection]:
    """Visible inspections with at least one confirmed progress figure to reconcile."""
    confirmed = ExtractedFigure.objects.filter(
        inspection=OuterRef("pk"), kind=FigureKind.PROGRESS,
        review_state=ReviewState.CONFIRMED,
    )
    return visible_inspections(user=user).filter(Exists(confirmed))
