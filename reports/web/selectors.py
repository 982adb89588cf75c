"""Reads for the report pages, scoped to the reader.

Report documents are read by supervisors. A top supervisor (at the root of the unit tree) and an
administrator see every report; another supervisor sees the reports imported by someone in
their scope and the reports with a figure confirmed to an inspection they see. The choices the
confirm forms offer are bounded the same way the services' rules are: an inspection the reader
sees for a figure, one aimed at their scope for a new problem, units in their scope for a task.
"""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from reports.models import ExtractedFigure, ExtractedItem, FigureKind, ReviewState, SourceReport
from tracker import access
from tracker.models import Inspection, Problem, Unit, User


def _sees_all_reports(user: User) -> bool:
    scope = access.scope_unit(user)
    return access.sees_everything(user) or (
        access.is_supervisor_or_admin(user) and scope is not None and scope.parent_id is None
    )


def visible_inspections(*, user: User) -> QuerySet[Inspection]:
    return Inspection.objects.filter(access.visible_inspections_q(user)).order_by(
        "-feedback_date", "id"
    )


def report_list(*, user: User) -> QuerySet[SourceReport]:
    if not access.is_supervisor_or_admin(user):
        return SourceReport.objects.none()
    qs = SourceReport.objects.select_related("imported_by").annotate(
        figure_count=Count("figures", distinct=True),
        proposed_figures=Count(
            "figures", filter=Q(figures__review_state=ReviewState.PROPOSED), distinct=True
        ),
        item_count=Count("items", distinct=True),
        proposed_items=Count(
            "items", filter=Q(items__review_state=ReviewState.PROPOSED), distinct=True
        ),
    ).order_by("-imported_at", "-id")
    if _sees_all_reports(user):
        return qs
    scope = access.scope_unit(user)
    inspections = Inspection.objects.filter(access.visible_inspections_q(user))
    linked = ExtractedFigure.objects.filter(report=OuterRef("pk"), inspection__in=inspections)
    return qs.filter(
        Q(imported_by__unit__path__startswith=scope.path)
        | Q(inspection__in=inspections)
        | Q(Exists(linked))
    )


def report_detail(*, user: User, pk: int) -> SourceReport | None:
    """One visible report with its figures and items (and what they were confirmed into)."""
    return (
        report_list(user=user)
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


def figure_for_review(*, user: User, pk: int) -> ExtractedFigure | None:
    figure = ExtractedFigure.objects.filter(pk=pk).first()
    if figure is None or not report_list(user=user).filter(pk=figure.report_id).exists():
        return None
    return figure


def item_for_review(*, user: User, pk: int) -> ExtractedItem | None:
    item = ExtractedItem.objects.filter(pk=pk).first()
    if item is None or not report_list(user=user).filter(pk=item.report_id).exists():
        return None
    return item


def inspections_for_problems(*, user: User) -> QuerySet[Inspection]:
    """Inspections the reader may add a problem to: those aimed at their scope."""
    qs = Inspection.objects.select_related("target_unit").order_by("-feedback_date", "id")
    if _sees_all_reports(user):
        return qs
    scope = access.scope_unit(user)
    if scope is None or not access.is_supervisor_or_admin(user):
        return qs.none()
    return qs.filter(target_unit__path__startswith=scope.path)


def problems_for_tasks(*, user: User) -> QuerySet[Problem]:
    return (
        Problem.objects.filter(access.visible_problems_q(user))
        .select_related("inspection")
        .order_by("-inspection__feedback_date", "inspection_id", "number")
    )


def units_for_tasks(*, user: User) -> QuerySet[Unit]:
    qs = Unit.objects.order_by("path")
    if access.sees_everything(user):
        return qs
    scope = access.scope_unit(user)
    if scope is None or not access.is_supervisor_or_admin(user):
        return qs.none()
    return qs.filter(path__startswith=scope.path)


def inspections_with_findings(*, user: User) -> QuerySet[Inspection]:
    """Visible inspections with at least one confirmed progress figure to reconcile."""
    confirmed = ExtractedFigure.objects.filter(
        inspection=OuterRef("pk"), kind=FigureKind.PROGRESS,
        review_state=ReviewState.CONFIRMED,
    )
    return visible_inspections(user=user).filter(Exists(confirmed))
