"""The task history's one writer: every service that changes a task appends its row here."""

import datetime as dt

from tracker.models import Task, TaskAction, TaskEvent, TaskStatus, Unit, User
from tracker.webhooks.services import webhook_deliveries_record


def record_event(
    *,
    task: Task,
    actor: User | None,
    action: TaskAction,
    at: dt.datetime,
    from_status: TaskStatus | str,
    to_status: TaskStatus | str,
    note: str = "",
    deadline_from: dt.date | None = None,
    deadline_to: dt.date | None = None,
    lead_unit_from: Unit | None = None,
    lead_unit_to: Unit | None = None,
    data: dict | None = None,
) -> TaskEvent:
    """Append one immutable row to the task's history, in the caller's transaction.

    `at` is the clock the caller read once for the whole operation. A deadline move (an
    approved extension, an edit of the deadline) passes `deadline_from` and `deadline_to`;
    `data` holds only other details. A move always lands on a date (a deadline once set is
    never removed; the table's constraints hold deadline columns to deadline moves).
    A change of lead unit (an edit) passes `lead_unit_from` and `lead_unit_to`, both set.
    The change's outbound webhook deliveries are recorded here too, in the same transaction.
    """
    event = TaskEvent.objects.create(
        task=task,
        actor=actor,
        at=at,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
        deadline_from=deadline_from,
        deadline_to=deadline_to,
        lead_unit_from=lead_unit_from,
        lead_unit_to=lead_unit_to,
        data=data or {},
    )
    # Outbound webhooks subscribed to this change: recorded with it, sent after commit.
    webhook_deliveries_record(task_event=event)
    return event
