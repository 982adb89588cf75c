"""Read queries. Every list is scoped to the requesting user before anything else."""

import datetime as dt

from django.db.models import QuerySet

from tracker import access
from tracker.models import Task, Unit, User


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


def unit_subtree(*, unit: Unit) -> QuerySet[Unit]:
    return Unit.objects.subtree_of(unit)
