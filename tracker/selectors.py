"""Read queries. Every list is scoped to the requesting user before anything else."""

import datetime as dt

from django.db.models import OuterRef, QuerySet, Subquery

from tracker import access
from tracker.models import Inspection, ProgressReport, Task, TaskAction, Unit, User


def task_list(*, user: User) -> QuerySet[Task]:
    """Tasks the user may see, with everything a task list shows in a constant number of
    queries: lead unit, problem and inspection joined, supporting units prefetched."""
    return (
        Task.objects.filter(access.visible_tasks_q(user))
        .select_related("lead_unit", "problem", "inspection")
        .prefetch_related("supporting_units")
    )


def task_overdue_list(*, user: User, today: dt.date) -> QuerySet[Task]:
    return task_list(user=user).overdue(today)


def inspections_for_filter(*, user: User) -> QuerySet[Inspection]:
    """The inspections that have at least one task the user sees."""
    visible = Task.objects.filter(access.visible_tasks_q(user))
    return Inspection.objects.filter(pk__in=visible.values("inspection_id")).order_by(
        "-feedback_date", "id"
    )


def unit_for_filter(*, user: User, pk: int | None) -> Unit | None:
    """A unit to narrow a list or a dashboard by (drill-down), if the user's scope reaches it."""
    if not pk:
        return None
    return Unit.objects.filter(access.reachable_units_q(user), pk=pk).first()


def ledger_task_list(*, tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Tasks in ledger order (inspection, problem number, creation) with everything a ledger
    row shows: problem, inspection and lead unit joined, supporting units prefetched and the
    latest progress note (整改进展) annotated as `latest_progress`.

    `tasks` is any filter of tasks; callers scope it first (`task_list(user=...)`)."""
    latest = (
        ProgressReport.objects.filter(task=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("note")[:1]
    )
    return (
        tasks.select_related("lead_unit", "problem", "inspection")
        .prefetch_related("supporting_units")
        .annotate(latest_progress=Subquery(latest))
        .order_by("inspection_id", "problem__number", "id")
    )


def task_deadline_history(*, task: Task) -> list[dict]:
    """Every deadline the task ever had, oldest first: the original one, then each approved
    extension and each edit that moved it (from the immutable history)."""
    entries: list[dict] = []
    if task.original_deadline is not None:
        entries.append({"deadline": task.original_deadline, "source": "original",
                        "at": task.created_at, "actor": None, "note": ""})
    events = task.events.filter(
        action__in=[TaskAction.EXTEND_DEADLINE, TaskAction.EDIT]
    ).select_related("actor").order_by("at", "id")
    for event in events:
        if event.action == TaskAction.EXTEND_DEADLINE:
            source, to = "extension", event.data.get("to")
        else:
            change = event.data.get("deadline") or {}
            source, to = "edit", change.get("to")
            if change.get("from") is None:
                continue  # the first deadline of an undated task is its original one
        if to:
            entries.append({"deadline": dt.date.fromisoformat(to), "source": source,
                            "at": event.at, "actor": event.actor, "note": event.note})
    return entries
