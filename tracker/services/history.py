"""The task history's one writer: every service that changes a task appends its row here."""

import datetime as dt

from tracker.models import Task, TaskAction, TaskEvent, TaskStatus, Unit, User
from tracker.webhooks.services import webhook_deliveries_record_batch


def record_event(*, task: Task, **details) -> TaskEvent:
    """Append one immutable row to the task's history, in the caller's transaction
    (`history_row` says what it holds). The change's outbound webhook deliveries are
    recorded here too, in the same transaction."""
    (event,) = record_events([(history_row(task=task, **details), None)])
    return event


def history_row(
    *,
    task: Task | None,
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
    """One history row, unsaved (record_event and record_events save them); `task` None
    for a task not saved yet (set it before recording).

    `at` is the clock the caller read once for the whole operation. A deadline move (an
    approved extension, an edit of the deadline) passes `deadline_from` and `deadline_to`;
    `data` holds only other details. A move always lands on a date (a deadline once set is
    never removed; the table's constraints hold deadline columns to deadline moves).
    A change of lead unit (an edit) passes `lead_unit_from` and `lead_unit_to`, both set.
    """
    return TaskEvent(
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


def record_events(rows: list[tuple[TaskEvent, Task | None]]) -> list[TaskEvent]:
    """Append many history rows at once (unsaved events, in order), in the caller's
    transaction, each with the task as it stood after the change (None: as it is in the
    database now), which the outbound webhooks' payloads show. One INSERT for the rows, and
    the webhook deliveries they call for, also at once."""
    events = TaskEvent.objects.bulk_create([event for event, _ in rows])
    # Outbound webhooks subscribed to these changes: recorded with them, sent after commit.
    webhook_deliveries_record_batch(list(zip(events, [task for _, task in rows], strict=True)))
    return events
