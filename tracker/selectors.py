"""Read queries, one per list, shared by the API and the pages. Every list is scoped to the
requesting user before anything else, then narrowed by its FilterSet (tracker.filters), so a
filter means the same on every face (HackSoft's `user_list(filters=...)`)."""

import datetime as dt
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django_filters import FilterSet

from tracker import access
from tracker.filters import EvidenceFilter, ExtensionFilter, InspectionFilter, TaskFilter
from tracker.models import (
    DeadlineExtension,
    Evidence,
    ExtensionStatus,
    Inspection,
    ProgressReport,
    Task,
    TaskAction,
    Unit,
    User,
)


def _filtered(qs: QuerySet, filterset_class: type[FilterSet], filters: Mapping | None):
    """`qs` narrowed by the FilterSet; a filter value it refuses is a ValidationError (the
    API answers 400 with the field's message)."""
    if filters is None:
        return qs
    filterset = filterset_class(filters, queryset=qs)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


def task_list(*, user: User, filters: Mapping | None = None) -> QuerySet[Task]:
    """Tasks the user may see, narrowed by TaskFilter (`unit`: lead or supporting unit in the
    subtree; `lead_unit`: lead unit in the subtree; `overdue`, `status`, …), with everything
    a task list shows in a constant number of queries: lead unit, problem and inspection
    joined, supporting units prefetched."""
    qs = (
        Task.objects.filter(access.visible_tasks_q(user))
        .select_related("lead_unit", "problem", "inspection")
        .prefetch_related("supporting_units")
    )
    return _filtered(qs, TaskFilter, filters)


def inspection_list(*, user: User, filters: Mapping | None = None) -> QuerySet[Inspection]:
    """Inspections the user sees (tracker.access.visible_inspections_q), narrowed by
    InspectionFilter."""
    qs = Inspection.objects.filter(access.visible_inspections_q(user))
    return _filtered(qs, InspectionFilter, filters)


def extension_list(*, user: User, filters: Mapping | None = None) -> QuerySet[DeadlineExtension]:
    """Extension requests on tasks the user sees, narrowed by ExtensionFilter."""
    qs = DeadlineExtension.objects.filter(
        task__in=Task.objects.filter(access.visible_tasks_q(user))
    ).select_related("task__lead_unit", "task__inspection", "requested_by", "decided_by")
    return _filtered(qs, ExtensionFilter, filters)


def extension_review_list(*, user: User) -> QuerySet[DeadlineExtension]:
    """Pending extension requests the user may decide: on tasks whose lead unit they manage
    (tracker.access.managed_tasks_q), oldest first."""
    return extension_list(user=user, filters={"status": ExtensionStatus.PENDING}).filter(
        task__in=Task.objects.filter(access.managed_tasks_q(user))
    ).order_by("requested_at", "id")


def evidence_list(*, user: User, filters: Mapping | None = None) -> QuerySet[Evidence]:
    """Evidence files of tasks the user sees, narrowed by EvidenceFilter; a download reads
    one of these, so a file of a task out of sight is never served."""
    qs = Evidence.objects.filter(
        task__in=Task.objects.filter(access.visible_tasks_q(user))
    ).select_related("uploaded_by")
    return _filtered(qs, EvidenceFilter, filters)


def unit_list_to_manage(*, user: User) -> QuerySet[Unit]:
    """Units the user may make a task's lead or supporting unit (tracker.access.managed_units_q,
    the set behind may_manage_unit), in tree order."""
    return Unit.objects.filter(access.managed_units_q(user)).order_by("path")


def task_overdue_list(*, user: User, today: dt.date) -> QuerySet[Task]:
    return task_list(user=user).overdue(today)


def unit_subtree(*, unit: Unit) -> QuerySet[Unit]:
    return Unit.objects.subtree_of(unit)


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
