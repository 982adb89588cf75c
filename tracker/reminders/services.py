"""The reminder sweep: find what is due, record it exactly once, then queue the messages.

One run (`reminders_sweep`) does three things, each in batches, each batch its own transaction:

1. Claim and record. Walk the open tasks by keyset (id > last id) whose deadline puts them in a
   stage that has no reminder yet (`candidate_task_ids`). Under a row lock, read each task
   again (a task closed meanwhile drops out), work out its recipients and INSERT the reminder
   rows with ON CONFLICT DO NOTHING RETURNING. Only the rows that came back are new; a
   concurrent sweep that selected the same tasks gets nothing back and records nothing.
   Then the same for the review deadline of submitted tasks (`review_candidate_task_ids`,
   `review_reminders_record_batch`): a submitted task is no longer chased on its deadline;
   its supervisors are reminded of the review deadline and escalated to when it passes.
2. Compose. For recipients with reminders (or, for people in digest mode, event notices) not
   yet in a message, INSERT today's digest notification (at most one per recipient and day,
   by a unique constraint, again RETURNING only what was inserted), attach those reminders
   and notices, render it, create its deliveries and, after commit, queue one message per
   batch.
3. Requeue. Deliveries left pending or half-claimed by a worker that died are queued again.

Everything is chosen by state, not by schedule, so a missed beat run is caught up by the next,
a duplicate run does nothing, and a run killed halfway is completed by the next one.
"""

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, OuterRef, Q, Subquery

from tracker import access
from tracker.deadlines import deadline_state, deadline_window_q
from tracker.models import (
    DispatchRequest,
    EventNotice,
    Notification,
    NotificationKind,
    Reminder,
    Role,
    Task,
    TaskStatus,
    TaskType,
    Unit,
    User,
)
from tracker.reminders import notifications as notify
from tracker.reminders.events import event_item
from tracker.reminders.rules import (
    Stage,
    build_review_stages,
    build_stages,
    current_stage,
    deadline_windows,
    review_deadline,
)
from tracker.workdays import add_workdays

logger = logging.getLogger(__name__)

# Called after every batch: (phase, items in the batch, rows it created). The bench uses it.
BatchObserver = Callable[[str, int, int], None]


def configured_stages() -> tuple[Stage, ...]:
    return build_stages(
        before=settings.TRACKER_REMINDER_BEFORE_WORKDAYS,
        escalate_after=settings.TRACKER_REMINDER_ESCALATE_AFTER_WORKDAYS,
        escalate_again_after=settings.TRACKER_REMINDER_ESCALATE_AGAIN_AFTER_WORKDAYS,
    )


def configured_review_stages() -> tuple[Stage, ...]:
    return build_review_stages(
        remind_before=settings.REVIEW_REMIND_BEFORE_WORKDAYS,
        escalate_after=settings.REVIEW_ESCALATE_AFTER_WORKDAYS,
    )


def review_deadline_of(task: Task) -> dt.date | None:
    """The review deadline of a submitted task: REVIEW_WITHIN_WORKDAYS working days after the
    (Shanghai) day it was submitted. None for a task that is not waiting for review."""
    if task.status != TaskStatus.SUBMITTED or task.completed_at is None:
        return None
    return review_deadline(local_today(task.completed_at), settings.REVIEW_WITHIN_WORKDAYS)


def local_today(now: dt.datetime) -> dt.date:
    """"Today" is the calendar date in Asia/Shanghai (TIME_ZONE), whatever the server's zone."""
    from django.utils import timezone

    return timezone.localtime(now).date()


@dataclass
class SweepResult:
    today: dt.date
    reminders: int = 0
    notifications: int = 0
    deliveries: int = 0
    requeued: int = 0
    batches: list[tuple[str, int, int, float]] = field(default_factory=list)


# The statuses in which the unit is chased on its deadline. A submitted task (已提交待审核)
# waits on its supervisors instead (the review stages below); once sent back (退回) it is in
# progress again and chasing resumes at its current stage.
CHASED_STATUSES = (TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS)


def _remindable_tasks():
    return (
        Task.objects.filter(status__in=CHASED_STATUSES, deadline__isnull=False)
        .exclude(task_type=TaskType.LONG_TERM)
    )


def candidate_task_ids(
    *, stages: tuple[Stage, ...], today: dt.date, after_id: int, limit: int
) -> tuple[list[int], int | None]:
    """One keyset page of open tasks above `after_id` whose deadline puts them in a stage today,
    narrowed to those with no reminder yet for that stage and the deadline in force.

    Returns (candidate ids, last id of the page, None when the backlog is done). Two indexed
    queries whatever the backlog: the page by (id, deadline window), then the reminders of
    the page's tasks. What was selected is only a candidate: recording decides.
    """
    windows = deadline_windows(stages, today)
    if not windows:
        return [], None
    condition = Q()
    for _stage, after, up_to in windows:
        condition |= deadline_window_q(after, up_to)
    page = list(
        _remindable_tasks()
        .filter(condition, pk__gt=after_id)
        .order_by("pk")
        .values_list("pk", "deadline")[:limit]
    )
    if not page:
        return [], None
    recorded = set(
        Reminder.objects.filter(task_id__in=[pk for pk, _ in page])
        .values_list("task_id", "stage", "deadline")
        .distinct()
    )
    ids = []
    for pk, deadline in page:
        stage = current_stage(stages, deadline, today)
        if stage is not None and (pk, stage.code, deadline) not in recorded:
            ids.append(pk)
    return ids, page[-1][0]


class Supervisors:
    """Supervisors by the unit subtree they oversee, loaded once per sweep. Which of them a
    unit's task goes to is the rule book's (`access.nearest_supervisor_ids`, the same rule as
    `access.supervisors_of_task`), applied here to rows read once."""

    def __init__(self) -> None:
        rows = User.objects.filter(role=Role.SUPERVISOR, is_active=True).select_related(
            "unit", "supervision_root"
        )
        self._scopes = [
            (user.pk, scope.path, scope.depth)
            for user in rows
            if (scope := access.scope_unit(user)) is not None
        ]
        self._cache: dict[tuple[str, int], list[int]] = {}

    def over(self, unit_path: str, level: int) -> list[int]:
        """Level 1: the nearest supervisors over the unit; level 2: the next ones up (or the
        nearest again when nobody is above them)."""
        key = (unit_path, level)
        if key not in self._cache:
            covering = [(uid, depth) for uid, path, depth in self._scopes
                        if unit_path.startswith(path)]
            self._cache[key] = access.nearest_supervisor_ids(covering, level)
        return self._cache[key]


def _recipients(
    tasks_with_stage: list[tuple[Task, Stage]], supervisors: Supervisors
) -> list[tuple[Task, Stage, dt.date, int | None, int | None]]:
    """(task, stage, deadline, user id, unit id) for every recipient of every task in the
    batch (the deadline in force)."""
    unit_ids = {task.lead_unit_id for task, _ in tasks_with_stage}
    officers: dict[int, list[int]] = defaultdict(list)
    for user_id, unit_id in User.objects.filter(
        access.officers_of_units_q(unit_ids)
    ).values_list("pk", "unit_id"):
        officers[unit_id].append(user_id)
    names = {task.responsible_person for task, _ in tasks_with_stage} | {
        task.responsible_leader for task, _ in tasks_with_stage
    }
    names.discard("")
    named: dict[tuple[int, str], list[int]] = defaultdict(list)
    if names:
        for user_id, unit_id, full_name in User.objects.filter(
            unit_id__in=unit_ids, full_name__in=names, is_active=True
        ).values_list("pk", "unit_id", "full_name"):
            named[(unit_id, full_name)].append(user_id)

    rows = []
    for task, stage in tasks_with_stage:
        unit = task.lead_unit
        if stage.audience == "unit":
            users = officers[unit.pk] + named[(unit.pk, task.responsible_person)]
        else:
            level = 2 if stage.audience == "supervisors_2" else 1
            users = supervisors.over(unit.path, level) + named[(unit.pk, task.responsible_leader)]
        for user_id in sorted(set(users)):
            rows.append((task, stage, task.deadline, user_id, None))
        if unit.wecom_webhook_url or unit.dingtalk_webhook_url:
            rows.append((task, stage, task.deadline, None, unit.pk))
    return rows


def _insert_reminders_returning(rows: list[tuple], *, today: dt.date, now: dt.datetime) -> int:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: counts only the rows this call created."""
    ops = connection.ops
    table = ops.quote_name(Reminder._meta.db_table)
    inserted = 0
    for start in range(0, len(rows), 2000):
        chunk = rows[start:start + 2000]
        params: list = []
        for task, stage, deadline, user_id, unit_id in chunk:
            params += [
                task.pk, stage.code, stage.level, ops.adapt_datefield_value(deadline),
                user_id, unit_id, ops.adapt_datefield_value(today),
                ops.adapt_datetimefield_value(now),
            ]
        sql = (
            f"INSERT INTO {table} (task_id, stage, level, deadline, recipient_user_id, "
            f"recipient_unit_id, recorded_on, created_at) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            + " ON CONFLICT DO NOTHING RETURNING id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            inserted += len(cursor.fetchall())
    return inserted


@transaction.atomic
def reminders_record_batch(
    *, task_ids: list[int], stages: tuple[Stage, ...], today: dt.date, now: dt.datetime,
    supervisors: Supervisors,
) -> int:
    """Lock the candidate tasks, re-check them and record their reminders. Returns how many
    reminder rows were created by this call."""
    # The status and deadline are read again under the lock: a task closed or extended after
    # it was selected is judged on what it is now.
    tasks = list(
        _remindable_tasks()
        .filter(pk__in=task_ids)
        .select_related("lead_unit")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    due = [(task, stage) for task in tasks
           if (stage := current_stage(stages, task.deadline, today)) is not None]
    rows = _recipients(due, supervisors)
    return _insert_reminders_returning(rows, today=today, now=now) if rows else 0


# --- the review deadline of submitted tasks ------------------------------------------------


def review_candidate_task_ids(
    *, stages: tuple[Stage, ...], today: dt.date, after_id: int, limit: int
) -> tuple[list[int], int | None]:
    """One keyset page of submitted tasks above `after_id`, narrowed to those whose review
    deadline puts them in a review stage that has no reminder yet. Submitted tasks are few
    (they wait days, not months), so the stage is worked out in Python for the page."""
    page = list(
        Task.objects.filter(status=TaskStatus.SUBMITTED, pk__gt=after_id)
        .order_by("pk")
        .only("pk", "status", "completed_at")[:limit]
    )
    if not page:
        return [], None
    recorded = set(
        Reminder.objects.filter(
            task_id__in=[task.pk for task in page], stage__in=[s.code for s in stages]
        ).values_list("task_id", "stage", "deadline").distinct()
    )
    ids = []
    for task in page:
        due = review_deadline_of(task)
        stage = current_stage(stages, due, today) if due else None
        if stage is not None and (task.pk, stage.code, due) not in recorded:
            ids.append(task.pk)
    return ids, page[-1].pk


@transaction.atomic
def review_reminders_record_batch(
    *, task_ids: list[int], stages: tuple[Stage, ...], today: dt.date, now: dt.datetime,
    supervisors: Supervisors,
) -> int:
    """Lock the submitted tasks, re-check them, and record the review reminders for their
    supervisors (the group robots are the unit's: a review is not the unit's to do)."""
    tasks = list(
        Task.objects.filter(pk__in=task_ids, status=TaskStatus.SUBMITTED)
        .select_related("lead_unit")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    rows = []
    for task in tasks:
        due = review_deadline_of(task)
        stage = current_stage(stages, due, today) if due else None
        if stage is None:
            continue
        users = set(supervisors.over(task.lead_unit.path, 1))
        if stage.audience == "supervisors_1_2":
            users |= set(supervisors.over(task.lead_unit.path, 2))
        rows += [(task, stage, due, user_id, None) for user_id in sorted(users)]
    return _insert_reminders_returning(rows, today=today, now=now) if rows else 0


# --- digests ---------------------------------------------------------------------------------


def _item(reminder: Reminder, today: dt.date, stages: dict[str, Stage]) -> dict:
    """One task in a message: its light and days left as of the day the message is written
    (not the day its stage fired), for the deadline the reminder was recorded for."""
    task = reminder.task
    stage = stages.get(reminder.stage)
    state = deadline_state(status=task.status, deadline=reminder.deadline, today=today)
    return {
        "task_id": task.pk,
        "title": task.title,
        "lead_unit": task.lead_unit.name,
        "deadline": reminder.deadline.isoformat(),
        "deadline_caption": stage.deadline_caption if stage else "完成时限",
        "deadline_text": f"{reminder.deadline.year}年{reminder.deadline.month}月"
                         f"{reminder.deadline.day}日",
        "stage": reminder.stage,
        "stage_label": stage.label if stage else reminder.stage,
        "level": state.light,
        "level_label": state.light_label,
        "remaining": state.text,
        "responsible_leader": task.responsible_leader,
        "responsible_person": task.responsible_person,
    }


def _rank(reminder: Reminder, stages: dict[str, Stage]) -> tuple:
    stage = stages.get(reminder.stage)
    return (reminder.deadline, stage.offset if stage else 0)


def _sort_key(item: dict) -> tuple:
    # Red first, then by deadline: the most pressing on top; events (digest mode) after the
    # reminders, in the order they happened.
    if "event" in item:
        return (2, item["at"], item["task_id"])
    return (0 if item["level"] == "red" else 1, item["deadline"], item["task_id"])


@transaction.atomic
def digests_compose_batch(
    *, recipient_field: str, recipient_ids: list[int], today: dt.date, now: dt.datetime,
    stages: tuple[Stage, ...],
) -> tuple[int, int]:
    """Today's digest for each recipient that has none yet, holding every reminder of theirs
    not yet in a message. Returns (notifications created, deliveries queued)."""
    won = notify.insert_notifications_returning(
        kind=NotificationKind.DIGEST, recipient_field=recipient_field,
        recipient_ids=recipient_ids, day=today, now=now,
    )
    if not won:
        return 0, 0
    reminders = list(
        Reminder.objects.filter(
            **{f"{recipient_field}__in": list(won)}, notification__isnull=True
        ).select_related("task__lead_unit")
    )
    by_code = {stage.code: stage for stage in stages}
    # A task listed once per message, at its latest stage (one that waited since yesterday
    # may have moved on today).
    latest: dict[int, dict[int, Reminder]] = defaultdict(dict)
    for reminder in reminders:
        per_task = latest[getattr(reminder, f"{recipient_field}_id")]
        known = per_task.get(reminder.task_id)
        if known is None or _rank(reminder, by_code) > _rank(known, by_code):
            per_task[reminder.task_id] = reminder
    items = {
        recipient_id: [_item(r, today, by_code) for r in per_task.values()]
        for recipient_id, per_task in latest.items()
    }
    notices = []
    if recipient_field == "recipient_user":
        # Events of people who chose the daily digest wait here for it.
        notices = list(
            EventNotice.objects.filter(recipient_user_id__in=list(won), notification__isnull=True)
            .select_related("task")
            .order_by("pk")
        )
        for notice in notices:
            items.setdefault(notice.recipient_user_id, []).append(event_item(notice))
        EventNotice.objects.filter(
            pk__in=[n.pk for n in notices], notification__isnull=True
        ).update(
            notification_id=Subquery(
                Notification.objects.filter(
                    recipient_user=OuterRef("recipient_user"),
                    kind=NotificationKind.DIGEST, day=today,
                ).values("pk")[:1]
            )
        )
    # Attach exactly the reminders listed: one UPDATE, each row to its recipient's digest.
    Reminder.objects.filter(pk__in=[r.pk for r in reminders], notification__isnull=True).update(
        notification_id=Subquery(
            Notification.objects.filter(
                **{recipient_field: OuterRef(recipient_field)},
                kind=NotificationKind.DIGEST, day=today,
            ).values("pk")[:1]
        )
    )
    notifications = {}
    for recipient_id, notification_id in won.items():
        notification = Notification(
            pk=notification_id, kind=NotificationKind.DIGEST, day=today,
            items=sorted(items.get(recipient_id, []), key=_sort_key),
            **{f"{recipient_field}_id": recipient_id},
        )
        notifications[recipient_id] = notification
    empty = [n.pk for n in notifications.values() if not n.items]
    if empty:
        # Nothing to say (the reminders went into another message meanwhile): no message.
        Notification.objects.filter(pk__in=empty).delete()
        notifications = {k: n for k, n in notifications.items() if n.items}
    delivery_ids = notify.finish_notifications(
        notifications=notifications, recipient_field=recipient_field, now=now
    )
    notify.queue_delivery_batch(delivery_ids)
    return len(notifications), len(delivery_ids)


def _pending_recipients(recipient_field: str, after_id: int, limit: int) -> list[int]:
    """The next recipients above `after_id` with reminders (or, for people, digest-mode
    events) not yet in a message."""
    ids = set(
        Reminder.objects.filter(**{f"{recipient_field}__gt": after_id}, notification__isnull=True)
        .order_by(recipient_field)
        .values_list(recipient_field, flat=True)
        .distinct()[:limit]
    )
    if recipient_field == "recipient_user":
        ids |= set(
            EventNotice.objects.filter(recipient_user__gt=after_id, notification__isnull=True)
            .order_by("recipient_user")
            .values_list("recipient_user", flat=True)
            .distinct()[:limit]
        )
    return sorted(ids)[:limit]


def reminders_sweep(
    *, now: dt.datetime, observer: BatchObserver | None = None, requeue: bool = True
) -> SweepResult:
    """One full sweep as of `now` (see the module docstring)."""
    today = local_today(now)
    stages = configured_stages()
    review_stages = configured_review_stages()
    result = SweepResult(today=today)
    supervisors = Supervisors()

    def observed(phase: str, size: int, created: int, started: float) -> None:
        result.batches.append((phase, size, created, time.perf_counter() - started))
        if observer:
            observer(phase, size, created)

    batch = settings.TRACKER_REMINDER_BATCH_SIZE
    # Deadlines chase the units; review deadlines chase the supervisors. The same keyset walk.
    for phase, phase_stages, candidates, record in (
        ("record", stages, candidate_task_ids, reminders_record_batch),
        ("review", review_stages, review_candidate_task_ids, review_reminders_record_batch),
    ):
        last_id = 0
        while True:
            started = time.perf_counter()
            ids, page_end = candidates(
                stages=phase_stages, today=today, after_id=last_id, limit=batch
            )
            if page_end is None:
                break
            last_id = page_end
            created = record(
                task_ids=ids, stages=phase_stages, today=today, now=now, supervisors=supervisors
            ) if ids else 0
            result.reminders += created
            observed(phase, len(ids), created, started)

    batch = settings.TRACKER_DIGEST_BATCH_SIZE
    for recipient_field in ("recipient_user", "recipient_unit"):
        last_id = 0
        while True:
            started = time.perf_counter()
            recipient_ids = _pending_recipients(recipient_field, last_id, batch)
            if not recipient_ids:
                break
            last_id = recipient_ids[-1]
            made, queued = digests_compose_batch(
                recipient_field=recipient_field, recipient_ids=recipient_ids, today=today,
                now=now, stages=stages + review_stages,
            )
            result.notifications += made
            result.deliveries += queued
            observed("compose", len(recipient_ids), made, started)

    if requeue:
        result.requeued = notify.deliveries_requeue(now=now)
    logger.info(
        "催办扫描 %s：新增提醒%d条，消息%d条，发送%d项，重新排队%d项",
        today, result.reminders, result.notifications, result.deliveries, result.requeued,
    )
    return result


# --- monthly dispatch (按月调度) ----------------------------------------------------------


@transaction.atomic
def dispatch_monthly(*, now: dt.datetime) -> int:
    """From the configured day of the month on, ask once per month every unit with tasks it
    still works on (CHASED_STATUSES: a submitted task waits on its supervisors, not on the
    unit) to report progress within N working days. Returns the number of units asked."""
    today = local_today(now)
    if today.day < settings.TRACKER_DISPATCH_DAY:
        return 0
    month = today.replace(day=1)
    report_by = add_workdays(today, settings.TRACKER_DISPATCH_REPORT_WITHIN_WORKDAYS)
    open_counts = dict(
        Task.objects.filter(status__in=CHASED_STATUSES)
        .exclude(lead_unit__dispatch_requests__month=month)
        .values_list("lead_unit_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    if not open_counts:
        return 0
    ops = connection.ops
    table = ops.quote_name(DispatchRequest._meta.db_table)
    params: list = []
    for unit_id, count in open_counts.items():
        params += [unit_id, ops.adapt_datefield_value(month), ops.adapt_datefield_value(report_by),
                   count, ops.adapt_datetimefield_value(now)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (unit_id, month, report_by, open_tasks, created_at) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s)"] * len(open_counts))
            + " ON CONFLICT DO NOTHING RETURNING unit_id",
            params,
        )
        asked = [row[0] for row in cursor.fetchall()]
    if not asked:
        return 0
    units = Unit.objects.in_bulk(asked)

    def info(unit_id: int) -> list[dict]:
        return [{"unit": units[unit_id].name, "open_tasks": open_counts[unit_id],
                 "report_by": report_by.isoformat(), "month": month.isoformat()}]

    officers = list(
        User.objects.filter(unit_id__in=asked, role=Role.OFFICER, is_active=True)
        .values_list("pk", "unit_id")
    )
    delivery_ids = []
    for field_name, pairs in (
        ("recipient_user", officers),
        ("recipient_unit", [(u.pk, u.pk) for u in units.values()
                            if u.wecom_webhook_url or u.dingtalk_webhook_url]),
    ):
        unit_of = dict(pairs)
        won = notify.insert_notifications_returning(
            kind=NotificationKind.DISPATCH, recipient_field=field_name,
            recipient_ids=list(unit_of), day=today, now=now,
        )
        notifications = {
            recipient_id: Notification(
                pk=notification_id, kind=NotificationKind.DISPATCH, day=today,
                items=info(unit_of[recipient_id]), **{f"{field_name}_id": recipient_id},
            )
            for recipient_id, notification_id in won.items()
        }
        delivery_ids += notify.finish_notifications(
            notifications=notifications, recipient_field=field_name, now=now
        )
    notify.queue_delivery_batch(delivery_ids)
    return len(asked)
