"""Reads for the pages. Lists are the selectors the API uses too (tracker.selectors), scoped to
the reader and filtered by the same FilterSets; this module adds only what a page shows on
top (its order, its prefetches)."""

from collections.abc import Mapping

from django.db.models import Prefetch, QuerySet

from tracker import access
from tracker.models import (
    DeadlineExtension,
    Evidence,
    Inspection,
    Notification,
    ProgressReport,
    SavedFilter,
    Task,
    TaskAction,
    TaskEvent,
    TaskStatus,
    User,
    page_rank,
)
from tracker.selectors import (
    evidence_list,
    extension_review_list,
    inspection_list,
    task_list,
    task_rows,
)
from tracker.statements import ReusedStatement, user_statements


def task_list_for_page(*, user: User, filters: Mapping | None = None) -> QuerySet[Task]:
    """我的任务: the one task list (tracker.selectors.task_list, the API's too) in the page's
    order: open tasks with a deadline first, earliest deadline (so the overdue, then the
    due-soon) on top; then open tasks without a deadline; closed tasks last."""
    return task_list(user=user, filters=filters).annotate(rank=page_rank()).order_by(
        "rank", "deadline", "id"
    )


def task_page_lists(*, user: User, filters: Mapping, with_supporting: bool):
    """我的任务's list twice: its rows (tracker.selectors.task_rows of task_list_for_page, with
    the lead unit's path that 签收 is decided by) and the same tasks without the columns, for
    counting. Without filters each is the statement compiled before for the same visibility
    key (tracker.statements.ReusedStatement): its SQL depends on nothing else (the page's
    order reads no date). Returns (rows, counted), each sliceable and countable."""

    def tasks() -> QuerySet[Task]:
        return task_list_for_page(user=user, filters=filters)

    def rows() -> QuerySet[dict]:
        return task_rows(tasks(), extra=("lead_unit__path",), with_supporting=with_supporting)

    if filters:
        return rows(), tasks()
    key = access.visible_tasks_key(user)
    return (ReusedStatement(rows, key=("task_page_rows", key, with_supporting)),
            ReusedStatement(tasks, key=("task_page", key)))


def inspections_for_import(*, user: User) -> QuerySet[Inspection]:
    """The inspections a ledger may be imported into: those the user sees (a supervisor also
    sees those aimed at a unit in their scope, even before they have any task)."""
    return inspection_list(user=user).order_by("-feedback_date", "id")


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
    """Tasks awaiting 销号 whose lead unit the user manages (tracker.access.managed_tasks_q:
    exactly those the close and send-back services accept), oldest submission first."""
    return (
        task_list(user=user)
        .filter(access.managed_tasks_q(user), status=TaskStatus.SUBMITTED)
        .prefetch_related(
            Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by")),
            Prefetch(
                "progress_reports", queryset=ProgressReport.objects.select_related("author")
            ),
            # The officer's note with the submission (申请销号说明), latest first.
            Prefetch(
                "events",
                queryset=TaskEvent.objects.filter(action=TaskAction.SUBMIT)
                .select_related("actor").order_by("-at", "-id"),
                to_attr="submit_events",
            ),
        )
        .order_by("completed_at", "id")
    )


def review_extensions(*, user: User) -> QuerySet[DeadlineExtension]:
    """Pending extension requests the user may decide (the API's extension selector)."""
    return extension_review_list(user=user)


def evidence_for_download(*, user: User, pk: int) -> Evidence | None:
    """The evidence file, if the user may see its task; None otherwise (the view answers 404).
    The same selector as the API's evidence list and download."""
    return evidence_list(user=user).filter(pk=pk).first()


def notifications_for(*, user: User) -> QuerySet[Notification]:
    """The reader's own in-app notifications (never a unit group's), newest first."""
    return Notification.objects.filter(recipient_user=user).order_by("-created_at", "-id")


def unread_count(*, user: User) -> int:
    """The reader's unread messages (the navigation shows it on every page: its statement is
    compiled once per user, tracker.statements)."""
    return ReusedStatement(
        lambda: Notification.objects.filter(recipient_user=user, read_at__isnull=True)
        .values("pk"),
        key=("unread", user.pk), kept=user_statements,
    ).count()


def saved_filters_for(*, user: User) -> list[dict]:
    """The reader's own saved task-list filters (never anyone else's), as pk, name and query
    (shown on every view of 我的任务: the statement is compiled once per user)."""
    return list(ReusedStatement(
        lambda: SavedFilter.objects.filter(user=user).order_by("name", "id")
        .values("pk", "name", "query"),
        key=("saved_filters", user.pk), kept=user_statements,
    ))
