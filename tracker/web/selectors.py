"""Reads for the pages. Every query starts from tracker.selectors.task_list(user=...), so a
page never shows a task its reader may not see."""

import datetime as dt

from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When

from tracker import access
from tracker.models import (
    CLOSED_STATUSES,
    DeadlineExtension,
    Evidence,
    ExtensionStatus,
    Inspection,
    Notification,
    ProgressReport,
    Task,
    TaskEvent,
    TaskStatus,
    Unit,
    User,
)
from tracker.selectors import task_list

OVERDUE = "overdue"  # the status filter's extra choice: derived, never stored


def task_list_for_page(
    *,
    user: User,
    today: dt.date,
    inspection_id: int | None = None,
    status: str = "",
    unit: Unit | None = None,
) -> QuerySet[Task]:
    """我的任务: open tasks with a deadline first, earliest deadline (so the overdue, then the
    due-soon) on top; then open tasks without a deadline; closed tasks last."""
    qs = task_list(user=user)
    if inspection_id:
        qs = qs.filter(inspection_id=inspection_id)
    if status == OVERDUE:
        qs = qs.overdue(today)
    elif status:
        qs = qs.filter(status=status)
    if unit is not None:
        qs = qs.filter(lead_unit__path__startswith=unit.path)
    return qs.annotate(
        rank=Case(
            When(status__in=CLOSED_STATUSES, then=Value(2)),
            When(deadline__isnull=True, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    ).order_by("rank", "deadline", "id")


def inspections_for_import(*, user: User) -> QuerySet[Inspection]:
    """The inspections a ledger may be imported into: those the user sees (a supervisor also
    sees those aimed at a unit in their scope, even before they have any task)."""
    return Inspection.objects.filter(access.visible_inspections_q(user)).order_by(
        "-feedback_date", "id"
    )


def task_detail(*, user: User, pk: int) -> Task | None:
    """One visible task with everything its page shows, or None (the page answers 404)."""
    return (
        task_list(user=user)
        .prefetch_related(
            Prefetch(
                "progress_reports",
                queryset=ProgressReport.objects.select_related("author").prefetch_related(
                    "evidence"
                ),
            ),
            Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by")),
            Prefetch(
                "extensions",
                queryset=DeadlineExtension.objects.select_related("requested_by", "decided_by"),
            ),
            Prefetch("events", queryset=TaskEvent.objects.select_related("actor")),
        )
        .filter(pk=pk)
        .first()
    )


def review_submitted(*, user: User) -> QuerySet[Task]:
    """Tasks awaiting 销号 that the user may supervise, oldest submission first."""
    if not _supervises(user):
        return Task.objects.none()
    return (
        task_list(user=user)
        .filter(status=TaskStatus.SUBMITTED)
        .prefetch_related(
            Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by")),
            Prefetch(
                "progress_reports", queryset=ProgressReport.objects.select_related("author")
            ),
        )
        .order_by("completed_at", "id")
    )


def review_extensions(*, user: User) -> QuerySet[DeadlineExtension]:
    """Pending extension requests on tasks the user may supervise."""
    if not _supervises(user):
        return DeadlineExtension.objects.none()
    return (
        DeadlineExtension.objects.filter(
            status=ExtensionStatus.PENDING,
            task__in=Task.objects.filter(access.visible_tasks_q(user)),
        )
        .select_related("task", "task__lead_unit", "task__inspection", "requested_by")
        .order_by("requested_at", "id")
    )


def _supervises(user: User) -> bool:
    return access.sees_everything(user) or user.role == "supervisor"


def evidence_for_download(*, user: User, pk: int) -> Evidence | None:
    """The evidence file, if the user may see its task; None otherwise (the view answers 404)."""
    evidence = Evidence.objects.select_related("task").filter(pk=pk).first()
    if evidence is None or not access.can_view_task(user, evidence.task):
        return None
    return evidence


def notifications_for(*, user: User) -> QuerySet[Notification]:
    """The reader's own in-app notifications (never a unit group's), newest first."""
    return Notification.objects.filter(recipient_user=user).order_by("-created_at", "-id")


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient_user=user, read_at__isnull=True).count()
