"""Task life cycle: one service function per transition, each in a transaction.

A transition checks who acts and the current status, moves the status with a conditional
UPDATE (it must change exactly one row: same status and same version as read), and writes
one immutable TaskEvent in the same transaction.
"""

import calendar
import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from tracker import access
from tracker.deadlines import ensure_deadline_in_bounds
from tracker.errors import (
    ActionForbidden,
    DomainError,
    InvalidInput,
    StaleWrite,
    TransitionNotAllowed,
)
from tracker.models import (
    CLOSED_STATUSES,
    OPEN_RECHECK_STATES,
    OPEN_STATUSES,
    Effectiveness,
    ExtensionStatus,
    Problem,
    ProgressReport,
    Task,
    TaskAction,
    TaskEvent,
    TaskPriority,
    TaskRecheck,
    TaskStatus,
    TaskType,
    Unit,
    User,
)
from tracker.reminders import events
from tracker.selectors import inspection_choices_changed
from tracker.services.history import history_row, record_event, record_events
from tracker.services.priority import ensure_priority_valid

S = TaskStatus


@dataclass(frozen=True)
class Transition:
    action: TaskAction
    sources: frozenset[TaskStatus]
    target: TaskStatus | None  # None: the status stays as it is (progress on a kept status)
    may_act: Callable[[User, Task], bool]
    note_required: bool = False


TRANSITIONS: dict[TaskAction, Transition] = {
    t.action: t
    for t in [
        Transition(
            TaskAction.START, frozenset({S.NOT_STARTED}), S.IN_PROGRESS,
            access.can_act_for_lead_unit,
        ),
        Transition(
            TaskAction.PROGRESS,
            frozenset({S.NOT_STARTED, S.IN_PROGRESS, S.BASICALLY_COMPLETED, S.LONG_TERM}),
            None,
            access.can_contribute,
            note_required=True,
        ),
        Transition(
            TaskAction.SUBMIT, frozenset({S.IN_PROGRESS, S.BASICALLY_COMPLETED}), S.SUBMITTED,
            access.can_act_for_lead_unit,
        ),
        Transition(TaskAction.CLOSE, frozenset({S.SUBMITTED}), S.COMPLETED, access.can_supervise),
        Transition(
            TaskAction.SEND_BACK, frozenset({S.SUBMITTED}), S.IN_PROGRESS, access.can_supervise,
            note_required=True,
        ),
        Transition(
            TaskAction.MARK_BASICALLY_COMPLETED,
            frozenset({S.IN_PROGRESS, S.SUBMITTED}),
            S.BASICALLY_COMPLETED,
            access.can_supervise,
        ),
        Transition(
            TaskAction.MARK_LONG_TERM,
            frozenset({S.NOT_STARTED, S.IN_PROGRESS, S.SUBMITTED, S.BASICALLY_COMPLETED}),
            S.LONG_TERM,
            access.can_supervise,
            note_required=True,
        ),
        Transition(
            TaskAction.REOPEN,
            frozenset({S.COMPLETED, S.BASICALLY_COMPLETED, S.LONG_TERM}),
            S.IN_PROGRESS,
            access.can_supervise,
            note_required=True,
        ),
    ]
}


@dataclass(frozen=True)
class ActionRule:
    """One thing that may be done to a task: whether the task's state offers it now
    (`applies`) and who may do it (`may_act`, a tracker.access predicate). The services check
    `may_act`; the task page and the API's `allowed_actions` show both."""

    name: str
    label: str
    may_act: Callable[[User, Task], bool]
    applies: Callable[[Task], bool]


def _has_pending_extension(task: Task) -> bool:
    # Reads the prefetched extensions when the caller prefetched them (the task page does).
    return any(e.status == ExtensionStatus.PENDING for e in task.extensions.all())


def _may_ask_for_extension(task: Task) -> bool:
    """The states tracker.services.extensions.extension_request accepts."""
    return (
        task.status not in CLOSED_STATUSES and task.deadline is not None
        and not _has_pending_extension(task)
    )


# Every action on a task, in the order the task page offers them: the transitions (their
# status rule is TRANSITIONS' sources), then the actions that move no status.
ACTIONS: dict[str, ActionRule] = {
    "acknowledge": ActionRule(
        "acknowledge", TaskAction.ACKNOWLEDGE.label, access.may_acknowledge,
        lambda task: task.ack_requested_at is not None,
    ),
    **{
        action.value: ActionRule(
            action.value, action.label, rule.may_act,
            lambda task, sources=rule.sources: task.status in sources,
        )
        for action, rule in TRANSITIONS.items()
    },
    "evidence": ActionRule(
        "evidence", "上传佐证材料", access.can_contribute,
        lambda task: task.status != S.COMPLETED,
    ),
    "extension_request": ActionRule(
        "extension_request", "申请延期", access.can_act_for_lead_unit, _may_ask_for_extension,
    ),
    "extension_decide": ActionRule(
        "extension_decide", "审批延期", access.can_supervise, _has_pending_extension,
    ),
    "edit": ActionRule("edit", "修改任务", access.can_supervise, lambda task: True),
    "set_priority": ActionRule(
        "set_priority", TaskAction.SET_PRIORITY.label, access.may_set_priority,
        lambda task: True,
    ),
}


def allowed_actions(user: User, task: Task) -> list[str]:
    """What `user` may do to `task` now (names of ACTIONS, in their order): offered by the
    task's state and permitted by the action's rule. The task page renders exactly these and
    the API's task detail lists them."""
    return [
        name for name, rule in ACTIONS.items() if rule.applies(task) and rule.may_act(user, task)
    ]


def _ensure_may_manage_units(actor: User, *, lead_unit: Unit | None,
                             supporting_units: Iterable[Unit] = ()) -> None:
    """A task may be created for, moved to or given as supporting units only units the actor
    manages (an administrator manages all). Pass only the supporting units being added: a
    supporting unit the task already has stays, whoever edits it."""
    for unit in ([lead_unit] if lead_unit is not None else []):
        if not access.may_manage_unit(actor, unit):
            raise ActionForbidden(f"您无权为“{unit.name}”创建或修改整改任务",
                                  fields={"lead_unit": "不在您的管理范围内"})
    outside = [unit.name for unit in supporting_units if not access.may_manage_unit(actor, unit)]
    if outside:
        names = "、".join(f"“{name}”" for name in outside)
        raise ActionForbidden(f"您无权将{names}设为配合单位",
                              fields={"supporting_units": f"{names}不在您的管理范围内"})


# How a target status sets the task's timestamps: NOW is the change's clock, KEEP_OR_NOW keeps
# a value already there (else the clock), None clears the field (the database checks they
# agree with the status). Rendered as SQL for an UPDATE (`_timestamp_updates`) and applied
# to a task in memory for new tasks (`_timestamps_after`).
NOW, KEEP_OR_NOW = "now", "keep_or_now"


def _timestamp_rules(target: TaskStatus) -> dict[str, str | None]:
    if target == S.IN_PROGRESS:
        return {"started_at": KEEP_OR_NOW, "completed_at": None, "closed_at": None}
    if target == S.SUBMITTED:
        return {"completed_at": NOW, "closed_at": None}
    if target == S.COMPLETED:
        return {"completed_at": KEEP_OR_NOW, "closed_at": NOW}
    if target == S.BASICALLY_COMPLETED:
        return {"completed_at": KEEP_OR_NOW, "closed_at": None}
    if target == S.LONG_TERM:
        return {"completed_at": None, "closed_at": None}
    return {}


def _timestamp_updates(target: TaskStatus, now: dt.datetime) -> dict:
    """The timestamps that the target status implies, as an UPDATE's values."""
    def value(field: str, rule: str | None):
        if rule == NOW:
            return now
        if rule == KEEP_OR_NOW:
            return Coalesce(F(field), Value(now))
        return None

    return {field: value(field, rule) for field, rule in _timestamp_rules(target).items()}


def _timestamps_after(task: Task, target: TaskStatus, now: dt.datetime) -> dict:
    """The same timestamps for a task held in memory."""
    def value(field: str, rule: str | None):
        if rule == NOW:
            return now
        if rule == KEEP_OR_NOW:
            return getattr(task, field) or now
        return None

    return {field: value(field, rule) for field, rule in _timestamp_rules(target).items()}


def _check_version(task: Task, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != task.version:
        raise StaleWrite(
            f"任务已被他人修改（您读取的是第{expected_version}版，当前为第{task.version}版），"
            "请刷新后再操作"
        )


# --- 签收 (acknowledgement), docs/acknowledgement.md ----------------------------------------
#
# A new assignment waits for the lead unit's 签收: a task created (any face: page, API, admin,
# Excel ledger, report confirmation, all through task_create), moved to another lead unit while
# open (task_update), sent back (退回整改) or reopened (重新打开, by hand or by a failed 回头看).
# The lead unit's officer acknowledges it explicitly (task_acknowledge, or many at once:
# tasks_acknowledge_batch) or implicitly, once, by the first 启动/填报进展/提交 they do on it.
# Each new round clears the last 签收 (the history keeps it) and restarts the reminders. The
# unit's officers are told at once: `assigned` on creation and on a move; a send-back or a
# reopening tells them by its own notice (sent_back / reopened), not twice.

# The lead unit's own actions that record the 签收 on the way (when its officer does them).
IMPLICIT_ACK_ACTIONS = (TaskAction.START, TaskAction.PROGRESS, TaskAction.SUBMIT)
# Transitions that hand the task back to the lead unit: a new 签收 round starts.
NEW_ACK_ROUND_ACTIONS = (TaskAction.SEND_BACK, TaskAction.REOPEN)


def _new_ack_round(now: dt.datetime) -> dict:
    """The updates that make the task await 签收 again from `now`."""
    return {"ack_requested_at": now, "acknowledged_at": None, "acknowledged_by": None}


def _ack_updates(actor: User, now: dt.datetime) -> dict:
    return {"ack_requested_at": None, "acknowledged_at": now, "acknowledged_by": actor}


def _record_ack(*, task: Task, actor: User, now: dt.datetime, note: str = "",
                implicit: TaskAction | None = None):
    return record_events([(_ack_row(task, actor=actor, now=now, note=note,
                                    implicit=implicit), None)])[0]


def _ack_row(task: Task, *, actor: User, now: dt.datetime, note: str = "",
             implicit: TaskAction | None = None):
    """The history row of a 签收 (explicit, or `implicit` with the lead unit's first action),
    at the task's status as read."""
    return history_row(
        task=task if task.pk else None, actor=actor, action=TaskAction.ACKNOWLEDGE, at=now,
        from_status=task.status, to_status=task.status,
        note=note or (f"随“{implicit.label}”一并签收" if implicit else ""),
        data={"implicit": implicit.value} if implicit else None,
    )


@transaction.atomic
def task_acknowledge(
    *,
    task: Task,
    actor: User,
    note: str = "",
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """签收：the lead unit's officer acknowledges the task's current assignment (the status
    stays as it is). Refused, in Chinese, when nothing awaits 签收 (already acknowledged)."""
    now = now or timezone.now()
    locked = (
        Task.objects.select_for_update(of=("self",)).select_related("lead_unit", "acknowledged_by")
        .get(pk=task.pk)
    )
    if actor is None or not access.may_acknowledge(actor, locked):
        raise ActionForbidden("只有牵头单位的联络员可以签收该任务（督导人员不能代为签收）")
    if locked.ack_requested_at is None:
        if locked.acknowledged_at is not None:
            who = locked.acknowledged_by.display_name if locked.acknowledged_by else "系统"
            when = timezone.localtime(locked.acknowledged_at)
            raise TransitionNotAllowed(
                f"该任务已于{when:%Y-%m-%d %H:%M}由{who}签收，无需重复签收"
            )
        raise TransitionNotAllowed("该任务当前无需签收")
    _check_version(locked, expected_version)
    changed = Task.objects.filter(
        pk=locked.pk, version=locked.version, ack_requested_at__isnull=False
    ).update(**_ack_updates(actor, now), version=F("version") + 1, updated_at=now)
    if changed != 1:
        raise StaleWrite()
    _record_ack(task=locked, actor=actor, now=now, note=(note or "").strip())
    task.refresh_from_db()
    return task


# At most this many tasks in one bulk 签收 (the page's and the API's limit).
ACK_BATCH_MAX = 200


@dataclass(frozen=True)
class AckRefusal:
    pk: int
    title: str | None  # None: a task the actor does not see (its title is not theirs to read)
    reason: str

    @property
    def which(self) -> str:
        return f"“{self.title}”" if self.title is not None else f"第{self.pk}号任务"


@dataclass
class AckBatchOutcome:
    done: list[Task] = field(default_factory=list)
    refused: list[AckRefusal] = field(default_factory=list)


def tasks_acknowledge_batch(
    *,
    actor: User,
    task_ids: Iterable[int],
    versions: Mapping[int, int | None] | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> AckBatchOutcome:
    """批量签收: the ticked tasks, in the order given, each through task_acknowledge (the same
    check, `access.may_acknowledge`, under the task's lock; the same history row; the version
    the page or client read). Task by task like the review queue's bulk actions
    (tracker.services.review): each in its own transaction, a refused task (not the actor's
    unit's, acknowledged meanwhile, changed since read) is named by title with its reason and
    the others are still acknowledged. A task the actor cannot see is named by number only.
    Someone who may acknowledge nothing (a supervisor, an administrator) is refused outright."""
    if not access.may_acknowledge_any(actor):
        raise ActionForbidden("只有责任单位的联络员可以签收任务（督导人员不能代为签收）")
    ids = list(dict.fromkeys(task_ids))
    if not ids:
        raise InvalidInput("请先勾选要签收的任务", fields={"tasks": "请先勾选要签收的任务"})
    if len(ids) > ACK_BATCH_MAX:
        raise InvalidInput(f"一次最多签收{ACK_BATCH_MAX}项任务",
                           fields={"tasks": f"一次最多签收{ACK_BATCH_MAX}项任务"})
    now = now or timezone.now()
    versions = versions or {}
    note = (note or "").strip()
    visible = Task.objects.filter(access.visible_tasks_q(actor), pk__in=ids).in_bulk()
    outcome = AckBatchOutcome()
    for pk in ids:
        task = visible.get(pk)
        if task is None:
            outcome.refused.append(AckRefusal(pk, None, "任务不存在或您无权查看"))
            continue
        try:
            done = task_acknowledge(task=task, actor=actor, note=note,
                                    expected_version=versions.get(pk), now=now)
        except DomainError as error:
            outcome.refused.append(AckRefusal(pk, task.title, error.message))
        else:
            outcome.done.append(done)
    return outcome


def _may_not(action: TaskAction) -> ActionForbidden:
    return ActionForbidden(f"您没有权限对该任务执行“{action.label}”")


@dataclass(frozen=True)
class _Outcome:
    """What one transition does to a task as read: its target status, the note as kept,
    whether it records the lead unit's 签收 on the way, and the fields it sets (timestamps
    apart: `_timestamp_rules` of the target)."""

    target: TaskStatus
    note: str
    implicit_ack: bool
    values: dict
    moves_status: bool


def _transition_outcome(
    *,
    task: Task,
    actor: User | None,
    action: TaskAction,
    note: str,
    allowed: Callable[[], bool],
    may_acknowledge: Callable[[], bool],
    expected_version: int | None,
    now: dt.datetime,
    extra_updates: dict | None = None,
) -> _Outcome:
    """The checks and the outcome of one transition, shared by `_apply` (a task in the
    database, one UPDATE) and `tasks_create_batch` (new tasks, in memory). `allowed` is the
    rule's `may_act` for this actor and task, `may_acknowledge` `access.may_acknowledge`;
    both are asked only when needed."""
    rule = TRANSITIONS[action]
    if actor is None or not allowed():
        raise _may_not(action)
    _check_version(task, expected_version)
    if task.status not in rule.sources:
        raise TransitionNotAllowed(
            f"任务当前状态为“{S(task.status).label}”，不能执行“{action.label}”"
        )
    note = (note or "").strip()
    if rule.note_required and not note:
        raise InvalidInput(f"“{action.label}”须填写说明", fields={"note": "请填写说明"})

    target = rule.target or S(task.status)
    if action == TaskAction.PROGRESS and task.status == S.NOT_STARTED:
        target = S.IN_PROGRESS  # the first progress note starts the work
    implicit_ack = (
        action in IMPLICIT_ACK_ACTIONS and task.ack_requested_at is not None
        and may_acknowledge()
    )
    values = {
        "status": target,
        "updated_at": now,
        **(_new_ack_round(now) if action in NEW_ACK_ROUND_ACTIONS else {}),
        **(_ack_updates(actor, now) if implicit_ack else {}),
        **(extra_updates or {}),
    }
    return _Outcome(target=target, note=note, implicit_ack=implicit_ack, values=values,
                    moves_status=target != task.status)


def _apply(
    *,
    task: Task,
    actor: User,
    action: TaskAction,
    note: str,
    expected_version: int | None,
    now: dt.datetime,
    extra_updates: dict | None = None,
    data: dict | None = None,
) -> Task:
    """Run one transition on `task` as read by the caller. Must be called inside atomic()."""
    rule = TRANSITIONS[action]
    outcome = _transition_outcome(
        task=task, actor=actor, action=action, note=note,
        allowed=lambda: rule.may_act(actor, task),
        may_acknowledge=lambda: access.may_acknowledge(actor, task),
        expected_version=expected_version, now=now, extra_updates=extra_updates,
    )
    target = outcome.target
    updates = {
        **outcome.values,
        "version": F("version") + 1,
        **(_timestamp_updates(target, now) if outcome.moves_status else {}),
    }
    changed = Task.objects.filter(pk=task.pk, status=task.status, version=task.version).update(
        **updates
    )
    if changed != 1:
        raise StaleWrite()
    if outcome.implicit_ack:
        _record_ack(task=task, actor=actor, now=now, implicit=action)
    event = record_event(
        task=task, actor=actor, action=action, at=now, from_status=task.status,
        to_status=target, note=outcome.note, data=data,
    )
    task.refresh_from_db()
    # Submitted → the supervisors; sent back / reopened → the lead unit (sent after commit).
    events.task_transition_notify(task=task, event=event, actor=actor)
    return task


def _transition(action: TaskAction):
    """Build the public service for a plain status transition."""

    @transaction.atomic
    def service(
        *,
        task: Task,
        actor: User,
        note: str = "",
        expected_version: int | None = None,
        now: dt.datetime | None = None,
    ) -> Task:
        return _apply(
            task=task,
            actor=actor,
            action=action,
            note=note,
            expected_version=expected_version,
            now=now or timezone.now(),
        )

    service.__name__ = f"task_{action.value}"
    rule = TRANSITIONS[action]
    service.__doc__ = f"{action.label}：{sorted(rule.sources)} → {rule.target}"
    return service


task_start = _transition(TaskAction.START)
task_submit = _transition(TaskAction.SUBMIT)
# 回头看 (docs/rechecks.md): `recheck_on` left as this marker means the default date.
DEFAULT_RECHECK = object()
# How far ahead a re-check may be set.
RECHECK_MAX_YEARS = 5


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it has no such day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month,
                       day=min(day.day, calendar.monthrange(year, month)[1]))


def default_recheck_on(today: dt.date) -> dt.date:
    """The re-check date a closure gets unless the closer picks another or none."""
    return add_months(today, settings.RECHECK_DEFAULT_MONTHS)


def ensure_recheck_on_valid(day: dt.date, *, today: dt.date) -> None:
    if day <= today:
        raise InvalidInput("回头看日期须晚于今天", fields={"recheck_on": "须晚于今天"})
    if day > add_months(today, 12 * RECHECK_MAX_YEARS):
        raise InvalidInput(f"回头看日期不能晚于{RECHECK_MAX_YEARS}年以后",
                           fields={"recheck_on": f"不能晚于{RECHECK_MAX_YEARS}年以后"})


@transaction.atomic
def task_close(
    *,
    task: Task,
    actor: User,
    note: str = "",
    expected_version: int | None = None,
    now: dt.datetime | None = None,
    effectiveness: str = "",
    root_cause: str = "",
    recheck_on=DEFAULT_RECHECK,
) -> Task:
    """审核销号：submitted → completed. Records the effectiveness verdict (有效 / 基本有效 /
    无效; blank from the bulk and legacy paths, the pages and the API require it) and the
    root-cause analysis (原因分析) on the task and in the closing history row, and schedules
    a 回头看 on `recheck_on` (default: RECHECK_DEFAULT_MONTHS months later; None: none)."""
    now = now or timezone.now()
    extra_updates, data, recheck_on = _close_details(
        effectiveness=effectiveness, root_cause=root_cause, recheck_on=recheck_on,
        today=timezone.localdate(now),
    )
    task = _apply(
        task=task, actor=actor, action=TaskAction.CLOSE, note=note,
        expected_version=expected_version, now=now,
        extra_updates=extra_updates, data=data,
    )
    _recheck_schedule(task=task, actor=actor, due_on=recheck_on, now=now)
    return task


def _close_details(
    *, effectiveness: str, root_cause: str, recheck_on, today: dt.date
) -> tuple[dict, dict, dt.date | None]:
    """(fields set on the task, the closing history row's data, the 回头看 date) of a 销号
    (task_close; tasks_create_batch for a ledger row already closed)."""
    effectiveness = effectiveness or ""
    if effectiveness not in ("", *Effectiveness.values):
        raise InvalidInput("整改成效只能是有效、基本有效或无效",
                           fields={"effectiveness": "无效的选项"})
    root_cause = (root_cause or "").strip()
    if recheck_on is DEFAULT_RECHECK:
        recheck_on = default_recheck_on(today)
    elif recheck_on is not None:
        ensure_recheck_on_valid(recheck_on, today=today)
    data = {"effectiveness": effectiveness, "root_cause": root_cause,
            "recheck_on": recheck_on.isoformat() if recheck_on else None}
    return {"effectiveness": effectiveness, "root_cause": root_cause}, data, recheck_on


def _recheck_schedule(*, task: Task, actor: User, due_on: dt.date | None,
                      now: dt.datetime) -> None:
    """The closure's re-check (recorded in the closing history row). A re-check still open
    from an earlier closure (the task was reopened by hand meanwhile) is replaced by this one."""
    TaskRecheck.objects.filter(
        task=task, state__in=[s.value for s in OPEN_RECHECK_STATES]
    ).delete()
    if due_on is not None:
        TaskRecheck.objects.create(task=task, due_on=due_on, scheduled_by=actor,
                                   scheduled_at=now)


task_send_back = _transition(TaskAction.SEND_BACK)
task_mark_basically_completed = _transition(TaskAction.MARK_BASICALLY_COMPLETED)
task_mark_long_term = _transition(TaskAction.MARK_LONG_TERM)
task_reopen = _transition(TaskAction.REOPEN)


@transaction.atomic
def task_report_progress(
    *,
    task: Task,
    actor: User,
    note: str,
    percent: int | None = None,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> ProgressReport:
    """Record a progress note (整改进展); the first one starts a task that had not started."""
    now = now or timezone.now()
    if percent is not None and not 0 <= percent <= 100:
        raise InvalidInput("完成进度须在0到100之间", fields={"percent": "须在0到100之间"})
    _apply(
        task=task,
        actor=actor,
        action=TaskAction.PROGRESS,
        note=note,
        expected_version=expected_version,
        now=now,
        extra_updates={"progress_percent": percent} if percent is not None else None,
        data={"percent": percent} if percent is not None else None,
    )
    return ProgressReport.objects.create(
        task=task, author=actor, note=note.strip(), percent=percent, created_at=now
    )


@dataclass(frozen=True)
class Step:
    """One transition a new task goes through at creation (an Excel ledger's row already under
    way): the action and its note (a progress note for PROGRESS)."""

    action: TaskAction
    note: str = ""


@dataclass(frozen=True)
class NewTask:
    """What task_create takes, for tasks_create_batch; `steps` are run on the new task in
    order, as the transition services would run them one by one."""

    problem: Problem
    title: str
    lead_unit: Unit
    deadline: dt.date | None
    measures: str = ""
    task_type: TaskType = TaskType.BY_DEADLINE
    supporting_units: tuple[Unit, ...] = ()
    responsible_leader: str = ""
    responsible_person: str = ""
    is_key: bool = False
    priority: int = TaskPriority.NORMAL
    steps: tuple[Step, ...] = ()


class TaskBatchRefused(DomainError):
    """tasks_create_batch refused one of its tasks (nothing was written): `index` names it,
    `error` is what task_create or the transition would have raised for it alone."""

    def __init__(self, index: int, error: DomainError):
        self.index = index
        self.error = error
        super().__init__(error.message, fields=error.fields)


@transaction.atomic
def task_create(
    *,
    problem: Problem,
    actor: User | None,
    title: str,
    lead_unit: Unit,
    deadline: dt.date | None,
    measures: str = "",
    task_type: TaskType = TaskType.BY_DEADLINE,
    supporting_units: Iterable[Unit] = (),
    responsible_leader: str = "",
    responsible_person: str = "",
    is_key: bool = False,
    priority: int = TaskPriority.NORMAL,
    now: dt.datetime | None = None,
) -> Task:
    """Create a task under a problem. `actor` None is the system (demo data, imports).
    `is_key` and `priority` (docs/priority.md) may be set by whoever may create the task."""
    spec = NewTask(
        problem=problem, title=title, lead_unit=lead_unit, deadline=deadline,
        measures=measures, task_type=task_type, supporting_units=tuple(supporting_units),
        responsible_leader=responsible_leader, responsible_person=responsible_person,
        is_key=is_key, priority=priority,
    )
    try:
        (task,) = tasks_create_batch(actor=actor, tasks=[spec], now=now)
    except TaskBatchRefused as refused:
        raise refused.error from None
    return task


def _new_task(spec: NewTask, *, actor: User | None, now: dt.datetime) -> Task:
    """The unsaved task that task_create inserts for `spec`, once its input is checked."""
    priority = ensure_priority_valid(spec.priority)
    if actor is not None:
        _ensure_may_manage_units(actor, lead_unit=spec.lead_unit,
                                 supporting_units=spec.supporting_units)
    if not spec.title.strip():
        raise InvalidInput("任务名称不能为空", fields={"title": "不能为空"})
    if spec.deadline is None and spec.task_type != TaskType.LONG_TERM:
        raise InvalidInput("请填写完成时限", fields={"deadline": "除长期坚持外须填写完成时限"})
    ensure_deadline_in_bounds(spec.deadline, today=timezone.localdate(now))
    return Task(
        inspection_id=spec.problem.inspection_id,
        problem=spec.problem,
        title=spec.title.strip(),
        measures=spec.measures,
        task_type=spec.task_type,
        lead_unit=spec.lead_unit,
        responsible_leader=spec.responsible_leader,
        responsible_person=spec.responsible_person,
        deadline=spec.deadline,
        original_deadline=spec.deadline,
        is_key=bool(spec.is_key),
        priority=priority,
        ack_requested_at=now,  # a new assignment awaits the lead unit's 签收
    )


@dataclass
class _Created:
    """A new task with what its creation and steps write besides the task row."""

    task: Task
    supporting: list[Unit]
    events: list[TaskEvent] = field(default_factory=list)  # unsaved, in order
    statuses: list[TaskStatus] = field(default_factory=list)  # the task's status after each
    progress_notes: list[str] = field(default_factory=list)
    recheck_on: dt.date | None = None


def _creation_event(task: Task, actor: User | None, now: dt.datetime) -> TaskEvent:
    return history_row(
        task=None, actor=actor, at=now, action=TaskAction.CREATE, from_status="",
        to_status=task.status,
        # 重点任务 and priority given at creation, when not the defaults (docs/priority.md).
        data={key: value for key, value in (("is_key", task.is_key),
                                            ("priority", int(task.priority)))
              if value != Task._meta.get_field(key).default},
    )


def _run_step(item: _Created, step: Step, *, actor: User | None, now: dt.datetime,
              may_acknowledge: Callable[[], bool]) -> None:
    """One step on a new task in memory: the same checks and outcome as the transition
    service (`_transition_outcome`), and the same history rows. Who may act is checked by
    the caller once the tasks are saved (`access.can_contribute` reads the database)."""
    task = item.task
    extra_updates = data = None
    if step.action == TaskAction.CLOSE:
        extra_updates, data, item.recheck_on = _close_details(
            effectiveness="", root_cause="", recheck_on=DEFAULT_RECHECK,
            today=timezone.localdate(now),
        )
    outcome = _transition_outcome(
        task=task, actor=actor, action=step.action, note=step.note, allowed=lambda: True,
        may_acknowledge=may_acknowledge, expected_version=None, now=now,
        extra_updates=extra_updates,
    )
    before = task.status
    if outcome.implicit_ack:
        item.events.append(_ack_row(task, actor=actor, now=now, implicit=step.action))
        item.statuses.append(outcome.target)  # recorded after the UPDATE, as _apply does
    for name, value in {
        **outcome.values,
        **(_timestamps_after(task, outcome.target, now) if outcome.moves_status else {}),
    }.items():
        setattr(task, name, value)
    task.version += 1
    item.events.append(history_row(
        task=None, actor=actor, at=now, action=step.action, from_status=before,
        to_status=outcome.target,
        note=outcome.note, data=data,
    ))
    item.statuses.append(outcome.target)
    if step.action == TaskAction.PROGRESS:
        item.progress_notes.append(step.note.strip())


@transaction.atomic
def tasks_create_batch(
    *, actor: User | None, tasks: list[NewTask], now: dt.datetime | None = None
) -> list[Task]:
    """Create many tasks at once (an Excel ledger's new rows), each as task_create would and
    then moved through its `steps` as the transition services would: the same checks, task
    rows, supporting units, history, progress reports, 回头看, webhook deliveries and notices,
    in a number of statements that does not grow with the tasks (tests compare the two ways
    row by row). Two differences: `updated_at` is the INSERT's clock, like `created_at` (the
    services' UPDATEs would stamp the steps with `now`, a moment before the task's own
    creation time; an UPDATE of every row only to write that costs a second per 10,000 tasks
    through the tally triggers); a submission that later steps close asks no supervisor to
    review it (events.tasks_created_notify). One refused task refuses all (TaskBatchRefused
    names it); nothing is written then. The notices of one batch reach each person as one
    message (an import tells an officer of their unit's new tasks at once, not task by task)."""
    now = now or timezone.now()
    may_acknowledge: dict[int, bool] = {}  # by lead unit: access.may_acknowledge reads only it
    created: list[_Created] = []
    for index, spec in enumerate(tasks):
        try:
            task = _new_task(spec, actor=actor, now=now)
            item = _Created(task=task, supporting=[
                unit for unit in dict.fromkeys(spec.supporting_units)
                if unit.pk != spec.lead_unit.pk
            ])
            item.events.append(_creation_event(task, actor, now))
            item.statuses.append(task.status)
            for step in spec.steps:
                _run_step(item, step, actor=actor, now=now, may_acknowledge=functools.partial(
                    _asked_once, may_acknowledge, task.lead_unit_id,
                    functools.partial(access.may_acknowledge, actor, task),
                ))
        except DomainError as error:
            raise TaskBatchRefused(index, error) from None
        created.append(item)
    if not created:
        return []
    saved = Task.objects.bulk_create([item.task for item in created])
    _ensure_steps_allowed(created, tasks, actor=actor)
    Task.supporting_units.through.objects.bulk_create([
        Task.supporting_units.through(task_id=item.task.pk, unit_id=unit.pk)
        for item in created for unit in item.supporting
    ])
    history = []
    for item in created:
        for event, status in zip(item.events, item.statuses, strict=True):
            event.task = item.task
            history.append((event, _AsAt(item.task, status)))
    record_events(history)
    ProgressReport.objects.bulk_create([
        ProgressReport(task=item.task, author=actor, note=note, percent=None, created_at=now)
        for item in created for note in item.progress_notes
    ])
    TaskRecheck.objects.bulk_create([
        TaskRecheck(task=item.task, due_on=item.recheck_on, scheduled_by=actor, scheduled_at=now)
        for item in created if item.recheck_on is not None
    ])
    events.tasks_created_notify(
        created=[(item.task, item.supporting, item.events) for item in created], actor=actor,
    )
    inspection_choices_changed()  # its inspection now has tasks in these units' lists
    return saved


def _asked_once(answers: dict, key, ask: Callable[[], bool]) -> bool:
    if key not in answers:
        answers[key] = ask()
    return answers[key]


def _ensure_steps_allowed(created: list[_Created], specs: list[NewTask], *,
                          actor: User | None) -> None:
    """Each step's rule (`may_act`) for the new tasks, saved now. A rule that reads the
    database has a twin deciding many tasks at once (`access.FOR_MANY_TASKS`): one query per
    kind of step. The others decide on the lead unit alone (who may create a task manages
    its lead unit): asked once per kind of step and lead unit."""
    if actor is None:
        return  # the system takes no steps: _run_step refused them already
    taking: dict[TaskAction, list[int]] = {}
    for index, spec in enumerate(specs):
        for step in dict.fromkeys(step.action for step in spec.steps):
            taking.setdefault(step, []).append(index)
    for action, indexes in taking.items():
        may_act = TRANSITIONS[action].may_act
        many = access.FOR_MANY_TASKS.get(may_act)
        if many is not None:
            allowed = many(actor, [created[i].task.pk for i in indexes])
            refused = [i for i in indexes if created[i].task.pk not in allowed]
        else:
            asked: dict[int, bool] = {}
            refused = [
                i for i in indexes
                if not _asked_once(asked, created[i].task.lead_unit_id,
                                   functools.partial(may_act, actor, created[i].task))
            ]
        if refused:
            raise TaskBatchRefused(min(refused), _may_not(action))


class _AsAt:
    """A task as it stood after one of its creation steps (a webhook's payload shows it):
    the task itself but for its status, without copying it for every history row."""

    def __init__(self, task: Task, status: TaskStatus):
        self._task = task
        self.status = status

    def __getattr__(self, name: str):
        return getattr(self._task, name)


EDITABLE_FIELDS = (
    "title", "measures", "task_type", "lead_unit", "responsible_leader", "responsible_person",
    "deadline",
)


@transaction.atomic
def task_update(
    *,
    task: Task,
    actor: User,
    expected_version: int | None = None,
    supporting_units: Iterable[Unit] | None = None,
    now: dt.datetime | None = None,
    **changes,
) -> Task:
    """Supervisor edits to a task's plan. Status is never set here: only transitions move it."""
    now = now or timezone.now()
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(f"不能直接修改以下字段：{'、'.join(sorted(unknown))}")
    if not ACTIONS["edit"].may_act(actor, task):
        raise ActionForbidden("只有牵头单位的督导人员可以修改整改任务")
    added: list[Unit] = []
    if supporting_units is not None:
        supporting_units = list(supporting_units)
        current = set(task.supporting_units.values_list("pk", flat=True))
        added = [unit for unit in supporting_units if unit.pk not in current]
    _ensure_may_manage_units(actor, lead_unit=changes.get("lead_unit"), supporting_units=added)
    _check_version(task, expected_version)
    changed = {k: v for k, v in changes.items() if getattr(task, k) != v}
    if changes.get("deadline", task.deadline) is None and changes.get(
        "task_type", task.task_type
    ) != TaskType.LONG_TERM:
        raise InvalidInput("请填写完成时限", fields={"deadline": "除长期坚持外须填写完成时限"})
    if task.deadline is not None and "deadline" in changed and changed["deadline"] is None:
        # Every deadline move in the history lands on a date (TaskEvent's constraint).
        raise InvalidInput("完成时限一经确定不能取消，可修改为新的日期",
                           fields={"deadline": "不能取消完成时限"})
    if "deadline" in changed:
        ensure_deadline_in_bounds(changed["deadline"], today=timezone.localdate(now))
    if not changed and supporting_units is None:
        return task
    updates = {**changed, "version": F("version") + 1, "updated_at": now}
    if "lead_unit" in changed and task.status in OPEN_STATUSES:
        updates |= _new_ack_round(now)  # the new lead unit is to acknowledge it
    rows = Task.objects.filter(pk=task.pk, version=task.version).update(**updates)
    if rows != 1:
        raise StaleWrite()
    if supporting_units is not None:
        lead_id = changes.get("lead_unit", task.lead_unit).pk
        task.supporting_units.set([u for u in supporting_units if u.pk != lead_id])
    moved = "deadline" in changed
    handed_over = "lead_unit" in changed
    if handed_over or supporting_units is not None:
        inspection_choices_changed()  # other units see it now, or no longer
    event = record_event(
        task=task, actor=actor, action=TaskAction.EDIT, at=now, from_status=task.status,
        to_status=task.status,
        deadline_from=task.deadline if moved else None,
        deadline_to=changed["deadline"] if moved else None,
        lead_unit_from=task.lead_unit if handed_over else None,
        lead_unit_to=changed["lead_unit"] if handed_over else None,
        data={
            field: {"from": _plain(getattr(task, field)), "to": _plain(value)}
            for field, value in changed.items() if field != "deadline"
        },
    )
    task.refresh_from_db()
    if "ack_requested_at" in updates:  # moved to a new lead unit: it awaits that unit's 签收
        events.task_assigned_notify(task=task, event=event, actor=actor)
    if added:
        events.supporting_units_notify(task=task, units=added, event=event, actor=actor)
    return task


def _plain(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Unit):
        return value.name
    return value
