"""The 重点任务 panel of 挂图作战 (docs/priority.md): the key tasks the reader sees, counted
by status and light, and the most pressing of them.

Two queries whatever the size of the ledger: one aggregate, one capped list (the partial
index task_key_deadline holds only key tasks). Counted on the tasks themselves, not on the
maintained tallies (TaskTally has no 重点 dimension): key tasks are a small share of a ledger."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, F, Q

from tracker import access
from tracker.deadlines import deadline_state, due_soon_q, overdue_q
from tracker.models import OPEN_STATUSES, Task, TaskStatus, Unit, User

KEY_TASKS_SHOWN = 10


@dataclass
class KeyTaskPanel:
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)  # every TaskStatus value
    overdue: int = 0
    due_soon: int = 0
    # The most pressing open key tasks: (task, its deadline state), capped.
    pressing: list = field(default_factory=list)

    @property
    def open(self) -> int:
        return sum(self.by_status.get(s.value, 0) for s in OPEN_STATUSES)

    @property
    def status_rows(self) -> list[tuple[str, str, int]]:
        """(value, label, count) for every status, in the statuses' order."""
        return [(s.value, str(s.label), self.by_status.get(s.value, 0)) for s in TaskStatus]


def key_tasks_in_scope(*, user: User, inspection_id: int | None = None,
                       unit: Unit | None = None):
    """The key tasks `user` sees, narrowed as the dashboard's rollups are (an inspection; a
    unit's subtree as lead unit)."""
    qs = Task.objects.filter(access.visible_tasks_q(user), is_key=True)
    if inspection_id is not None:
        qs = qs.filter(inspection_id=inspection_id)
    if unit is not None:
        qs = qs.filter(lead_unit_id__in=Unit.objects.subtree_of(unit).values("id"))
    return qs


def key_task_panel(*, user: User, today: dt.date, inspection_id: int | None = None,
                   unit: Unit | None = None, shown: int = KEY_TASKS_SHOWN) -> KeyTaskPanel:
    """Counts by status and light (red: overdue, yellow: due soon, tracker.deadlines) and the
    `shown` most pressing open key tasks: highest priority first, then earliest deadline."""
    qs = key_tasks_in_scope(user=user, inspection_id=inspection_id, unit=unit)
    counts = qs.aggregate(
        total=Count("id"),
        overdue=Count("id", filter=overdue_q(today)),
        due_soon=Count("id", filter=due_soon_q(today)),
        **{f"s_{s.value}": Count("id", filter=Q(status=s.value)) for s in TaskStatus},
    )
    pressing = (
        qs.filter(status__in=[s.value for s in OPEN_STATUSES])
        .select_related("lead_unit")
        .order_by("-priority", F("deadline").asc(nulls_last=True), "id")[:shown]
    )
    return KeyTaskPanel(
        total=counts["total"],
        by_status={s.value: counts[f"s_{s.value}"] for s in TaskStatus},
        overdue=counts["overdue"],
        due_soon=counts["due_soon"],
        pressing=[
            (task, deadline_state(status=task.status, deadline=task.deadline, today=today))
            for task in pressing
        ],
    )
