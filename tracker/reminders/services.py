"""The reminder sweep: find what is due, record it exactly once, then queue the messages.

One run (`reminders_sweep`) does three things, each in batches, each batch its own transaction:

1. Claim and record. Walk the open tasks by keyset (id > last id) whose deadline puts them in a
   stage that has no reminder yet (`candidate_task_ids`: the stage by `deadline_window_q`, "no
   reminder yet" an anti-join, so a run with nothing to record reads one empty page). Each
   page is recorded by one INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING that locks the
   tasks and reads them again (a task closed meanwhile drops out) and joins them to the
   recipients of their unit, worked out once per sweep (`Supervisors.table`). Only the rows
   that came back are new; a concurrent sweep that selected the same tasks gets nothing back
   and records nothing. Then the same for the review deadline of submitted tasks
   (`review_candidate_task_ids`, `review_reminders_record_batch`, by submission day): a
   submitted task is no longer chased on its deadline; its supervisors are reminded of the
   review deadline and escalated to when it passes.
2. Compose. For recipients with reminders (or, for people in digest mode, event notices) not
   yet in a message, INSERT today's digest notification (at most one per recipient and day,
   by a unique constraint, again RETURNING only what was inserted), attach those reminders
   and notices, stream them back in chunks to count them and keep the most pressing, render
   it, create its deliveries and, after commit, queue one message per batch.
3. Requeue. Deliveries left pending or half-claimed by a worker that died are queued again.

Everything is chosen by state, not by schedule, so a missed beat run is caught up by the next,
a duplicate run does nothing, and a run killed halfway is completed by the next one.
"""

import datetime as dt
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import TruncDate

from tracker import access
from tracker.deadlines import deadline_state, deadline_window_q
from tracker.models import (
    OPEN_STATUSES,
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
    ack_deadline,
    build_ack_stages,
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


def configured_ack_stages() -> tuple[Stage, ...]:
    return build_ack_stages(
        remind_after=settings.ACK_REMIND_WORKDAYS,
        escalate_after=settings.ACK_ESCALATE_WORKDAYS,
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


# --- set-based recording ----------------------------------------------------------------------
#
# Both phases record the same way: a candidate set `c(task_id, stage, level, deadline, audience,
# unit_id, name)` selected in SQL (the deadline's stage by `deadline_window_q`, the review
# deadline's by a table of submission days), joined to the recipients of each unit and audience
# (`Supervisors.table`, worked out once per sweep by the rule book's functions) and to the
# people named on the task, and written by one INSERT … SELECT … ON CONFLICT DO NOTHING
# RETURNING. Only what came back is new. "Nothing to record" is an anti-join (NOT EXISTS a
# reminder for the task, stage and deadline), so a second run is one empty page per phase.


def _json_rows(columns: list[tuple[str, str]], rows: list[list]) -> tuple[str, list]:
    """(SELECT …, params): a derived table of `rows` passed as one JSON parameter, with the
    named, typed columns ("bigint", "text", "date")."""
    payload = json.dumps(rows, default=str)
    if connection.vendor == "postgresql":
        cols = ", ".join(f"(e.value ->> {i})::{kind} AS {name}"
                         for i, (name, kind) in enumerate(columns))
        return f"SELECT {cols} FROM jsonb_array_elements(%s::jsonb) AS e", [payload]
    cols = ", ".join(f"json_extract(value, '$[{i}]') AS {name}"
                     for i, (name, _) in enumerate(columns))
    return f"SELECT {cols} FROM json_each(%s)", [payload]


def _compiled(queryset) -> tuple[str, list]:
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


# A small table from a JSON parameter is worked out once, not once per row it is joined to.
_MATERIALIZED = "MATERIALIZED"


def _by_window(windows, value) -> Case:
    """CASE over the stage windows of `deadline_window_q`: `value(stage)` for the stage whose
    window the deadline lies in."""
    return Case(
        *[When(deadline_window_q(after, up_to), then=value(stage))
          for stage, after, up_to in windows],
        default=None,
    )


def _staged_tasks(stages: tuple[Stage, ...], today: dt.date):
    """The chased tasks whose deadline puts them in a stage today, annotated with the stage,
    its light, its audience and the name to match (the responsible person for the unit's
    stages, the responsible leader for the supervisors'). None when no stage can fire."""
    windows = deadline_windows(stages, today)
    if not windows:
        return None
    condition = Q()
    for _stage, after, up_to in windows:
        condition |= deadline_window_q(after, up_to)
    return _remindable_tasks().filter(condition).annotate(
        r_task=F("pk"),
        r_stage=_by_window(windows, lambda s: Value(s.code)),
        r_level=_by_window(windows, lambda s: Value(s.level)),
        r_deadline=F("deadline"),
        r_audience=_by_window(windows, lambda s: Value(s.audience)),
        r_unit=F("lead_unit_id"),
        r_name=_by_window(windows, lambda s: F(
            "responsible_person" if s.audience == "unit" else "responsible_leader")),
    )


def _unrecorded(queryset, *, task="pk", stage="r_stage", deadline="r_deadline"):
    """The anti-join: no reminder yet for the task, the stage and the deadline in force."""
    return queryset.filter(~Exists(Reminder.objects.filter(
        task_id=OuterRef(task), stage=OuterRef(stage), deadline=OuterRef(deadline))))


CANDIDATE_COLUMNS = ("r_task", "r_stage", "r_level", "r_deadline", "r_audience", "r_unit", "r_name")


def candidate_task_ids(
    *, stages: tuple[Stage, ...], today: dt.date, after_id: int, limit: int
) -> tuple[list[int], int | None]:
    """One keyset page (ids above `after_id`) of open tasks whose deadline puts them in a stage
    today that has no reminder yet for the deadline in force: one indexed query with the
    anti-join. Returns (ids, last id of the page; None when nothing is left). What was
    selected is only a candidate: recording decides."""
    staged = _staged_tasks(stages, today)
    if staged is None:
        return [], None
    ids = list(
        _unrecorded(staged).filter(pk__gt=after_id).order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    return ids, (ids[-1] if ids else None)


class Supervisors:
    """The recipients of each unit's tasks, worked out once per sweep by the rule book: the
    supervisors by the subtree they oversee (`access.nearest_supervisor_ids`, the same rule as
    `access.supervisors_of_task`), the unit's officers (`access.officers_of_units_q`) and its
    group robots, as one table (unit, audience, user, group unit) that the recording joins."""

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
        self._units: list[tuple[int, str, bool]] | None = None
        self._officers: dict[int, list[int]] | None = None
        self._tables: dict[tuple, list[list]] = {}

    def over(self, unit_path: str, level: int) -> list[int]:
        """Level 1: the nearest supervisors over the unit; level 2: the next ones up (or the
        nearest again when nobody is above them)."""
        key = (unit_path, level)
        if key not in self._cache:
            covering = [(uid, depth) for uid, path, depth in self._scopes
                        if unit_path.startswith(path)]
            self._cache[key] = access.nearest_supervisor_ids(covering, level)
        return self._cache[key]

    def audience(self, audience: str, unit_id: int, unit_path: str) -> list[int]:
        """The people a stage's audience means for one unit's task."""
        if audience == "unit":
            return self._officers.get(unit_id, [])
        if audience == "supervisors_1_2":
            return sorted(set(self.over(unit_path, 1)) | set(self.over(unit_path, 2)))
        return self.over(unit_path, 2 if audience == "supervisors_2" else 1)

    def table(self, audiences, *, with_groups: bool) -> list[list]:
        """Rows [unit id, audience, user id, group unit id] for every unit and audience."""
        key = (tuple(sorted(set(audiences))), with_groups)
        if key in self._tables:
            return self._tables[key]
        if self._units is None:
            self._units = [
                (pk, path, bool(wecom or dingtalk))
                for pk, path, wecom, dingtalk in Unit.objects.values_list(
                    "pk", "path", "wecom_webhook_url", "dingtalk_webhook_url")
            ]
            self._officers = defaultdict(list)
            for user_id, unit_id in User.objects.filter(
                access.officers_of_units_q([pk for pk, _, _ in self._units])
            ).values_list("pk", "unit_id"):
                self._officers[unit_id].append(user_id)
        rows = []
        for unit_id, path, robots in self._units:
            for audience in key[0]:
                rows += [[unit_id, audience, user_id, None]
                         for user_id in self.audience(audience, unit_id, path)]
                if with_groups and robots:
                    rows.append([unit_id, audience, None, unit_id])
        self._tables[key] = rows
        return rows


RECIPIENT_COLUMNS = [("unit_id", "bigint"), ("audience", "text"), ("user_id", "bigint"),
                     ("group_id", "bigint")]


def _insert_reminders_from(
    candidates: tuple[str, list], recipients: list[list], *, today: dt.date, now: dt.datetime,
    before: tuple[str, list] = ("", []),
) -> int:
    """INSERT the reminders of the candidate set for every recipient: the unit's people and
    robots for the stage's audience, and the active people of the unit named on the task.
    ON CONFLICT DO NOTHING RETURNING: counts only the rows this statement created."""
    candidate_sql, candidate_params = candidates
    recipient_sql, recipient_params = _json_rows(RECIPIENT_COLUMNS, recipients)
    ops = connection.ops
    reminder = ops.quote_name(Reminder._meta.db_table)
    user = ops.quote_name(User._meta.db_table)
    before_sql, before_params = before
    sql = f"""
        WITH {before_sql}
             c (task_id, stage, level, deadline, audience, unit_id, name) AS ({candidate_sql}),
             r (unit_id, audience, user_id, group_id) AS {_MATERIALIZED} ({recipient_sql})
        INSERT INTO {reminder} (task_id, stage, level, deadline, recipient_user_id,
                                recipient_unit_id, recorded_on, created_at)
        SELECT x.task_id, x.stage, x.level, x.deadline, x.user_id, x.group_id, %s, %s FROM (
            SELECT c.task_id, c.stage, c.level, c.deadline, r.user_id, r.group_id
            FROM c JOIN r ON r.unit_id = c.unit_id AND r.audience = c.audience
            UNION
            SELECT c.task_id, c.stage, c.level, c.deadline, u.id, NULL
            FROM c JOIN {user} u ON u.unit_id = c.unit_id AND u.full_name = c.name
            WHERE c.name <> '' AND u.is_active
        ) AS x WHERE TRUE
        ON CONFLICT DO NOTHING RETURNING id"""
    params = [*before_params, *candidate_params, *recipient_params,
              ops.adapt_datefield_value(today),
              ops.adapt_datetimefield_value(now)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return len(cursor.fetchall())


@transaction.atomic
def reminders_record_batch(
    *, task_ids: list[int], stages: tuple[Stage, ...], today: dt.date, now: dt.datetime,
    supervisors: Supervisors,
) -> int:
    """Lock the candidate tasks, re-check them and record their reminders in one statement.
    Returns how many reminder rows were created by this call."""
    staged = _staged_tasks(stages, today)
    if staged is None or not task_ids:
        return 0
    # The status and deadline are read under the row lock (FOR NO KEY UPDATE, inside the
    # INSERT): a task closed or extended after it was selected is judged on what it is now.
    candidates = _compiled(
        staged.filter(pk__in=task_ids).order_by("pk")
        .select_for_update(of=("self",), no_key=True)
        .values_list(*CANDIDATE_COLUMNS)
    )
    recipients = supervisors.table({s.audience for s in stages}, with_groups=True)
    return _insert_reminders_from(candidates, recipients, today=today, now=now)


# --- waiting tasks: the review deadline of submitted tasks, the 签收 of new assignments -------
#
# Both wait on someone since a moment (submitted: `completed_at`; awaiting 签收:
# `ack_requested_at`) and are chased by working days from that (Shanghai) day. Their stages are
# worked out once per day of waiting, not once per task, and joined to the tasks in SQL.


@dataclass(frozen=True)
class Waiting:
    """Tasks that wait since the moment in `since` (those matching `waits`), with the date
    their stages count from (`due`, from the day of waiting) and whether the unit's group
    robots are told too."""

    waits: Q
    since: str
    due: Callable[[dt.date], dt.date]
    with_groups: bool


REVIEW = Waiting(
    waits=Q(status=TaskStatus.SUBMITTED, completed_at__isnull=False), since="completed_at",
    due=lambda day: review_deadline(day, settings.REVIEW_WITHIN_WORKDAYS), with_groups=False,
)
# A new assignment awaiting 签收 while the task is open (docs/acknowledgement.md).
ACK = Waiting(
    waits=Q(ack_requested_at__isnull=False, status__in=OPEN_STATUSES), since="ack_requested_at",
    due=lambda day: ack_deadline(day, settings.ACK_REMIND_WORKDAYS), with_groups=True,
)

REVIEW_DAY_COLUMNS = [("day", "date"), ("stage", "text"), ("level", "text"),
                      ("audience", "text"), ("deadline", "date")]


def waiting_days(waiting: Waiting, *, stages: tuple[Stage, ...], today: dt.date) -> list[list]:
    """[day, stage, light, audience, due date] for every (Shanghai) day on which a task still
    waiting began to wait and whose due date puts it in a stage today. One aggregate query;
    the working-day arithmetic is the rule book's (`waiting.due`, `current_stage`), applied
    once per day rather than once per task."""
    rows = []
    days = (
        Task.objects.filter(waiting.waits)
        .annotate(day=TruncDate(waiting.since)).order_by().values_list("day", flat=True)
        .distinct()
    )
    for day in days:
        due = waiting.due(day)
        stage = current_stage(stages, due, today)
        if stage is not None:
            rows.append([day.isoformat(), stage.code, stage.level, stage.audience,
                         due.isoformat()])
    return rows


def review_days(*, stages: tuple[Stage, ...], today: dt.date) -> list[list]:
    """The review deadline's `waiting_days`."""
    return waiting_days(REVIEW, stages=stages, today=today)


def _waiting_tasks(waiting: Waiting, **filters):
    return (
        Task.objects.filter(waiting.waits, **filters)
        .annotate(r_task=F("pk"), r_day=TruncDate(waiting.since), r_unit=F("lead_unit_id"))
    )


def waiting_candidate_task_ids(
    waiting: Waiting, *, stages: tuple[Stage, ...], today: dt.date, after_id: int,
    limit: int | None, days: list[list] | None = None,
) -> tuple[list[int], int | None]:
    """One keyset page of waiting tasks above `after_id` (all of them: `limit` None) whose
    due date puts them in a stage that has no reminder yet: the same anti-join as the
    deadline's. Waiting tasks are few, so the sweep reads them in one page (a hash join with
    the days; a LIMIT makes the planner compare every pair)."""
    days = waiting_days(waiting, stages=stages, today=today) if days is None else days
    if not days:
        return [], None
    tasks_sql, tasks_params = _compiled(
        _waiting_tasks(waiting, pk__gt=after_id).order_by().values_list("r_task", "r_day",
                                                                         "r_unit")
    )
    days_sql, days_params = _json_rows(REVIEW_DAY_COLUMNS, days)
    reminder = connection.ops.quote_name(Reminder._meta.db_table)
    sql = f"""
        WITH d AS {_MATERIALIZED} ({days_sql}), t AS {_MATERIALIZED} ({tasks_sql})
        SELECT t.r_task FROM t JOIN d ON d.day = t.r_day
        WHERE NOT EXISTS (SELECT 1 FROM {reminder} r WHERE r.task_id = t.r_task
                          AND r.stage = d.stage AND r.deadline = d.deadline)
        """ + ("ORDER BY t.r_task LIMIT %s" if limit is not None else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*days_params, *tasks_params]
                       + ([limit] if limit is not None else []))
        ids = sorted(row[0] for row in cursor.fetchall())
    return ids, (ids[-1] if ids else None)


def review_candidate_task_ids(
    *, stages: tuple[Stage, ...], today: dt.date, after_id: int, limit: int | None,
    days: list[list] | None = None,
) -> tuple[list[int], int | None]:
    """The review deadline's `waiting_candidate_task_ids`."""
    return waiting_candidate_task_ids(REVIEW, stages=stages, today=today, after_id=after_id,
                                      limit=limit, days=days)


@transaction.atomic
def waiting_reminders_record_batch(
    waiting: Waiting, *, task_ids: list[int], stages: tuple[Stage, ...], today: dt.date,
    now: dt.datetime, supervisors: Supervisors, days: list[list] | None = None,
) -> int:
    """Lock the waiting tasks, re-check them (one acknowledged or reviewed meanwhile drops
    out), and record their reminders for each stage's audience."""
    days = waiting_days(waiting, stages=stages, today=today) if days is None else days
    if not days or not task_ids:
        return 0
    tasks_sql, tasks_params = _compiled(
        _waiting_tasks(waiting, pk__in=task_ids)
        .order_by("pk").select_for_update(of=("self",), no_key=True)
        .values_list("r_task", "r_day", "r_unit")
    )
    days_sql, days_params = _json_rows(REVIEW_DAY_COLUMNS, days)
    # Both sides worked out once, so that the planner joins them by hash on the day.
    before = (f"d AS {_MATERIALIZED} ({days_sql}), t AS {_MATERIALIZED} ({tasks_sql}),",
              [*days_params, *tasks_params])
    candidates = ("SELECT t.r_task, d.stage, d.level, d.deadline, d.audience, t.r_unit, '' "
                  "FROM t JOIN d ON d.day = t.r_day", [])
    recipients = supervisors.table({s.audience for s in stages},
                                   with_groups=waiting.with_groups)
    return _insert_reminders_from(candidates, recipients, today=today, now=now, before=before)


def review_reminders_record_batch(
    *, task_ids: list[int], stages: tuple[Stage, ...], today: dt.date, now: dt.datetime,
    supervisors: Supervisors, days: list[list] | None = None,
) -> int:
    """Lock the submitted tasks, re-check them, and record the review reminders for their
    supervisors (the group robots are the unit's: a review is not the unit's to do)."""
    return waiting_reminders_record_batch(
        REVIEW, task_ids=task_ids, stages=stages, today=today, now=now,
        supervisors=supervisors, days=days,
    )


# --- digests ---------------------------------------------------------------------------------


def _item(task: Task, stage_code: str, deadline: dt.date, state, stages: dict[str, Stage]) -> dict:
    """One task in a message: its light and days left as of the day the message is written
    (not the day its stage fired), for the deadline the reminder was recorded for."""
    stage = stages.get(stage_code)
    return {
        "task_id": task.pk,
        "title": task.title,
        "lead_unit": task.lead_unit.name,
        "deadline": deadline.isoformat(),
        "deadline_caption": stage.deadline_caption if stage else "完成时限",
        "deadline_text": f"{deadline.year}年{deadline.month}月{deadline.day}日",
        "stage": stage_code,
        "stage_label": stage.label if stage else stage_code,
        "level": state.light,
        "level_label": state.light_label,
        "remaining": state.text,
        "responsible_leader": task.responsible_leader,
        "responsible_person": task.responsible_person,
    }


def _rank(stage_code: str, deadline: dt.date, stages: dict[str, Stage]) -> tuple:
    stage = stages.get(stage_code)
    return (deadline, stage.offset if stage else 0)


def _sort_key(item: dict) -> tuple:
    # Red first, then by deadline: the most pressing on top; events (digest mode) after the
    # reminders, in the order they happened.
    if "event" in item:
        return (2, item["at"], item["task_id"])
    return (0 if item["level"] == "red" else 1, item["deadline"], item["task_id"])


class _Digest:
    """One recipient's digest while its reminders stream past: every task counted, only the
    `limit` most pressing kept (red first, then by deadline), so memory does not grow with
    the number of tasks a supervisor oversees."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0
        self.overdue = 0
        self.top: list[tuple] = []

    def add(self, task_id: int, stage_code: str, deadline: dt.date, state) -> None:
        self.total += 1
        red = state.light == "red"
        self.overdue += red
        self.top.append(((0 if red else 1, deadline.isoformat(), task_id), stage_code,
                         deadline, state))
        if len(self.top) >= 2 * self.limit:
            self.top = sorted(self.top, key=lambda entry: entry[0])[:self.limit]

    def listed(self) -> list[tuple]:
        return sorted(self.top, key=lambda entry: entry[0])[:self.limit]


STREAM_CHUNK = 2000


@transaction.atomic
def digests_compose_batch(
    *, recipient_field: str, recipient_ids: list[int], today: dt.date, now: dt.datetime,
    stages: tuple[Stage, ...],
) -> tuple[int, int]:
    """Today's digest for each recipient that has none yet, holding every reminder of theirs
    not yet in a message. Returns (notifications created, deliveries queued).

    A digest counts all its tasks and lists the TRACKER_DIGEST_MAX_ITEMS most pressing (red
    first, then by deadline), with "另有N项" for the rest: a supervisor over tens of thousands
    of overdue tasks gets a message they can read, and the whole list is one click away in
    the system. The reminders are attached first (one UPDATE per kind) and then streamed
    back by their digest in chunks, so the batch's memory is bounded by the listed items."""
    won = notify.insert_notifications_returning(
        kind=NotificationKind.DIGEST, recipient_field=recipient_field,
        recipient_ids=recipient_ids, day=today, now=now,
    )
    if not won:
        return 0, 0
    recipients = list(won)
    digest_ids = list(won.values())

    def todays_digest(field_name: str) -> Subquery:
        return Subquery(
            Notification.objects.filter(
                **{field_name: OuterRef(field_name)}, kind=NotificationKind.DIGEST, day=today,
            ).values("pk")[:1]
        )

    # Attach exactly what is waiting now: one UPDATE, each row to its recipient's digest.
    # What is read back below is what was attached, so what is counted is what is carried.
    Reminder.objects.filter(
        **{f"{recipient_field}__in": recipients}, notification__isnull=True
    ).update(notification_id=todays_digest(recipient_field))
    events: dict[int, list[dict]] = defaultdict(list)
    if recipient_field == "recipient_user":
        # Events of people who chose the daily digest wait here for it.
        EventNotice.objects.filter(
            recipient_user_id__in=recipients, notification__isnull=True
        ).update(notification_id=todays_digest("recipient_user"))
        for notice in (
            EventNotice.objects.filter(notification_id__in=digest_ids)
            .select_related("task").order_by("pk").iterator(chunk_size=STREAM_CHUNK)
        ):
            events[notice.recipient_user_id].append(event_item(notice))

    by_code = {stage.code: stage for stage in stages}
    limit = settings.TRACKER_DIGEST_MAX_ITEMS
    digests = {recipient_id: _Digest(limit) for recipient_id in recipients}
    rows = (
        Reminder.objects.filter(notification_id__in=digest_ids)
        .order_by(recipient_field, "task_id")
        .values_list(f"{recipient_field}_id", "task_id", "stage", "deadline", "task__status")
        .iterator(chunk_size=STREAM_CHUNK)
    )
    # A task listed once per message, at its latest stage (one that waited since yesterday
    # may have moved on today).
    for (recipient_id, task_id), group in groupby(rows, key=lambda row: row[:2]):
        _, _, stage_code, deadline, status = max(
            group, key=lambda row: _rank(row[2], row[3], by_code))
        state = deadline_state(status=status, deadline=deadline, today=today)
        digests[recipient_id].add(task_id, stage_code, deadline, state)

    listed = {recipient_id: digest.listed() for recipient_id, digest in digests.items()}
    tasks = Task.objects.select_related("lead_unit").only(
        "title", "responsible_leader", "responsible_person", "lead_unit", "lead_unit__name"
    ).in_bulk({entry[0][2] for entries in listed.values() for entry in entries})
    notifications = {}
    for recipient_id, notification_id in won.items():
        digest = digests[recipient_id]
        items = [_item(tasks[key[2]], stage_code, deadline, state, by_code)
                 for key, stage_code, deadline, state in listed[recipient_id]]
        items += events.get(recipient_id, [])
        if not items:
            continue
        notifications[recipient_id] = Notification(
            pk=notification_id, kind=NotificationKind.DIGEST, day=today,
            items=sorted(items, key=_sort_key), reminder_count=digest.total,
            overdue_count=digest.overdue, **{f"{recipient_field}_id": recipient_id},
        )
    empty = [won[k] for k in recipients if k not in notifications]
    if empty:
        # Nothing to say (the reminders went into another message meanwhile): no message.
        Notification.objects.filter(pk__in=empty).delete()
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
    ack_stages = configured_ack_stages()
    result = SweepResult(today=today)
    supervisors = Supervisors()

    def observed(phase: str, size: int, created: int, started: float) -> None:
        result.batches.append((phase, size, created, time.perf_counter() - started))
        if observer:
            observer(phase, size, created)

    batch = settings.TRACKER_REMINDER_BATCH_SIZE
    # Deadlines chase the units: a keyset walk, one INSERT … SELECT per batch.
    last_id = 0
    while True:
        started = time.perf_counter()
        ids, page_end = candidate_task_ids(stages=stages, today=today, after_id=last_id,
                                           limit=batch)
        if page_end is None:
            break
        last_id = page_end
        created = reminders_record_batch(
            task_ids=ids, stages=stages, today=today, now=now, supervisors=supervisors
        )
        result.reminders += created
        observed("record", len(ids), created, started)

    # Review deadlines chase the supervisors, unacknowledged assignments (签收) the lead unit
    # and then the supervisors: the stages by day of waiting, worked out once; the candidates
    # in one read, recorded in batches of the same size.
    for phase, waiting_kind, waiting_stages in (("review", REVIEW, review_stages),
                                                ("ack", ACK, ack_stages)):
        started = time.perf_counter()
        days = waiting_days(waiting_kind, stages=waiting_stages, today=today)
        waiting, _ = waiting_candidate_task_ids(
            waiting_kind, stages=waiting_stages, today=today, after_id=0, limit=None,
            days=days,
        ) if days else ([], None)
        for start in range(0, len(waiting), batch):
            ids = waiting[start:start + batch]
            created = waiting_reminders_record_batch(
                waiting_kind, task_ids=ids, stages=waiting_stages, today=today, now=now,
                supervisors=supervisors, days=days,
            )
            result.reminders += created
            observed(phase, len(ids), created, started)
            started = time.perf_counter()

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
                now=now, stages=stages + review_stages + ack_stages,
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
