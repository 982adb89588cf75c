"""回头看 (re-checks, docs/rechecks.md): one service per state change.

A closure schedules the re-check (tracker.services.tasks.task_close). Then:

    recheck_mark_due   (the daily sweep) 待回头看 → 待单位报告, the lead unit told once
    recheck_report     the lead unit: 问题是否反弹 + note (+ 佐证材料) → 待督导确认, the
                       supervisors told
    recheck_confirm    a supervisor over the lead unit → 已确认
    recheck_fail       the same supervisor → 未通过, and the task reopened through the one
                       reopen service (tracker.services.tasks.task_reopen) when it is closed
    rechecks_remind    (the daily sweep) a due re-check unreported after
                       RECHECK_REMIND_AFTER_WORKDAYS working days → the lead unit, after
                       RECHECK_ESCALATE_AFTER_WORKDAYS → its supervisors; each once

Each change locks the re-check row, moves it with a conditional update and writes its history
row on the task (TaskAction.RECHECK_*) in the same transaction; notices are exactly once by
EventNotice's unique key (tracker.reminders.events).
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from tracker import access
from tracker.errors import ActionForbidden, InvalidInput, StaleWrite, TransitionNotAllowed
from tracker.models import RecheckState, Task, TaskAction, TaskRecheck, User
from tracker.reminders import events
from tracker.services.evidence import evidence_add_many, validate_evidence_files
from tracker.services.history import record_event
from tracker.services.tasks import TRANSITIONS, task_reopen
from tracker.workdays import add_workdays

R = RecheckState
# How many re-checks the sweep turns due in one transaction.
SWEEP_BATCH = 500


def _locked(recheck: TaskRecheck) -> TaskRecheck:
    return (
        TaskRecheck.objects.select_for_update(of=("self",))
        .select_related("task__lead_unit")
        .get(pk=recheck.pk)
    )


def _move(recheck: TaskRecheck, source: str, **updates) -> None:
    changed = TaskRecheck.objects.filter(pk=recheck.pk, state=source).update(**updates)
    if changed != 1:
        raise StaleWrite("该回头看已被他人处理，请刷新后查看")
    for name, value in updates.items():
        setattr(recheck, name, value)


def _refuse_state(recheck: TaskRecheck, verb: str) -> None:
    raise TransitionNotAllowed(
        f"该回头看当前状态为“{R(recheck.state).label}”，不能{verb}"
    )


@transaction.atomic
def recheck_mark_due(*, recheck: TaskRecheck, now: dt.datetime | None = None) -> bool:
    """待回头看 → 待单位报告 on or after its day; False (nothing done) if it is not due or
    was marked already (the sweep may run twice)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    changed = TaskRecheck.objects.filter(
        pk=recheck.pk, state=R.SCHEDULED, due_on__lte=today
    ).update(state=R.DUE, became_due_at=now)
    if changed != 1:
        return False
    recheck = TaskRecheck.objects.select_related("task__lead_unit").get(pk=recheck.pk)
    task = recheck.task
    record_event(
        task=task, actor=None, action=TaskAction.RECHECK_DUE, at=now,
        from_status=task.status, to_status=task.status,
        note=f"回头看日期{recheck.due_on:%Y-%m-%d}已到，请牵头单位报告问题是否反弹",
        data={"recheck_id": recheck.pk},
    )
    events.recheck_due_notify(recheck=recheck, now=now)
    return True


@transaction.atomic
def recheck_report(
    *, actor: User, recheck: TaskRecheck, recurred: bool | None, note: str,
    files: Sequence[UploadedFile] = (), now: dt.datetime | None = None,
) -> TaskRecheck:
    """The lead unit reports: did the problem come back (问题是否反弹), and how it stands, with
    its 佐证材料 if any. Allowed once the re-check is due (or early, while it is still scheduled).

    All or nothing: every file is checked (size, type, content) before anything is written, and
    the files are stored on the task linked to this re-check (the one way a closed task takes
    evidence, tracker.services.evidence); a refused file leaves the re-check unreported."""
    now = now or timezone.now()
    recheck = _locked(recheck)
    task = recheck.task
    if not access.can_report_recheck(actor, task):
        raise ActionForbidden("只有牵头单位可以报告回头看情况")
    if recheck.state not in (R.SCHEDULED, R.DUE):
        _refuse_state(recheck, "报告")
    if recurred is None:
        raise InvalidInput("请选择问题是否反弹", fields={"recurred": "必选"})
    note = (note or "").strip()
    if not note:
        raise InvalidInput("请填写回头看情况说明", fields={"note": "必填"})
    validate_evidence_files(files)
    _move(recheck, recheck.state, state=R.REPORTED, recurred=recurred, report_note=note,
          reported_by=actor, reported_at=now)
    evidence_add_many(task=task, actor=actor, files=files, recheck=recheck, now=now)
    attached = f"（附佐证材料{len(files)}份）" if files else ""
    record_event(
        task=task, actor=actor, action=TaskAction.RECHECK_REPORT, at=now,
        from_status=task.status, to_status=task.status,
        note=f"问题{'已反弹' if recurred else '未反弹'}：{note}{attached}",
        data={"recheck_id": recheck.pk, "recurred": recurred},
    )
    events.recheck_reported_notify(recheck=recheck, actor=actor, now=now)
    return recheck


def _decide(*, actor: User, recheck: TaskRecheck, verb: str) -> TaskRecheck:
    recheck = _locked(recheck)
    if not access.can_decide_recheck(actor, recheck.task):
        raise ActionForbidden(f"只有牵头单位的督导人员可以{verb}回头看")
    if recheck.state != R.REPORTED:
        _refuse_state(recheck, verb)
    return recheck


@transaction.atomic
def recheck_confirm(
    *, actor: User, recheck: TaskRecheck, note: str = "", now: dt.datetime | None = None
) -> TaskRecheck:
    """The supervisor confirms the unit's report: the rectification held (已确认)."""
    now = now or timezone.now()
    recheck = _decide(actor=actor, recheck=recheck, verb="确认")
    note = (note or "").strip()
    _move(recheck, R.REPORTED, state=R.CONFIRMED, decision_note=note, decided_by=actor,
          decided_at=now)
    task = recheck.task
    record_event(
        task=task, actor=actor, action=TaskAction.RECHECK_CONFIRM, at=now,
        from_status=task.status, to_status=task.status,
        note=note or "回头看确认：整改成果巩固", data={"recheck_id": recheck.pk},
    )
    return recheck


@transaction.atomic
def recheck_fail(
    *, actor: User, recheck: TaskRecheck, note: str, now: dt.datetime | None = None
) -> TaskRecheck:
    """The supervisor finds the re-check failed (未通过): the problem came back or the report
    does not hold. The task, if still closed, is reopened by task_reopen (back to 整改中, its
    own history row and the lead unit told)."""
    now = now or timezone.now()
    recheck = _decide(actor=actor, recheck=recheck, verb="退回")
    note = (note or "").strip()
    if not note:
        raise InvalidInput("回头看未通过须填写理由", fields={"note": "请填写理由"})
    _move(recheck, R.REPORTED, state=R.FAILED, decision_note=note, decided_by=actor,
          decided_at=now)
    task = Task.objects.select_for_update(of=("self",)).select_related("lead_unit").get(
        pk=recheck.task_id
    )
    record_event(
        task=task, actor=actor, action=TaskAction.RECHECK_FAIL, at=now,
        from_status=task.status, to_status=task.status, note=note,
        data={"recheck_id": recheck.pk},
    )
    if task.status in TRANSITIONS[TaskAction.REOPEN].sources:
        task_reopen(task=task, actor=actor, note=f"回头看未通过：{note}", now=now)
    recheck.task = task
    return recheck


@dataclass
class SweepResult:
    due: int = 0
    reminded: int = 0


def rechecks_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Daily: mark the re-checks due today (and any missed), then remind the unreported.
    Idempotent: each step moves or tells only what has not been moved or told."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    result = SweepResult()
    while True:
        with transaction.atomic():
            batch = list(
                TaskRecheck.objects.filter(state=R.SCHEDULED, due_on__lte=today)
                .select_for_update(skip_locked=True).order_by("due_on", "pk")
                .values_list("pk", flat=True)[:SWEEP_BATCH]
            )
            for pk in batch:
                result.due += recheck_mark_due(recheck=TaskRecheck(pk=pk), now=now)
        if len(batch) < SWEEP_BATCH:
            break
    result.reminded = rechecks_remind(now=now)
    return result


def rechecks_remind(*, now: dt.datetime | None = None) -> int:
    """Due re-checks still unreported: the lead unit after RECHECK_REMIND_AFTER_WORKDAYS
    working days past the due day, the supervisors after RECHECK_ESCALATE_AFTER_WORKDAYS.
    Each notice once (its key names the re-check and the step)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    told = 0
    due = TaskRecheck.objects.filter(state=R.DUE).select_related("task__lead_unit").order_by("pk")
    for recheck in due.iterator(chunk_size=500):
        if add_workdays(recheck.due_on, settings.RECHECK_REMIND_AFTER_WORKDAYS) <= today:
            with transaction.atomic():
                told += events.recheck_overdue_notify(recheck=recheck, now=now,
                                                      escalate=False)
        if add_workdays(recheck.due_on, settings.RECHECK_ESCALATE_AFTER_WORKDAYS) <= today:
            with transaction.atomic():
                told += events.recheck_overdue_notify(recheck=recheck, now=now,
                                                      escalate=True)
    return told
