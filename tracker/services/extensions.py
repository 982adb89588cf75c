"""Deadline extensions (延期): requested by the lead unit, decided by a supervisor."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from tracker import access
from tracker.deadlines import ensure_deadline_in_bounds
from tracker.errors import ActionForbidden, InvalidInput, StaleWrite, TransitionNotAllowed
from tracker.models import (
    CLOSED_STATUSES,
    DeadlineExtension,
    ExtensionStatus,
    Task,
    TaskAction,
    User,
)
from tracker.reminders import events
from tracker.services.history import record_event


@transaction.atomic
def extension_request(
    *,
    task: Task,
    actor: User,
    requested_deadline: dt.date,
    reason: str,
    now: dt.datetime | None = None,
) -> DeadlineExtension:
    now = now or timezone.now()
    if not access.can_act_for_lead_unit(actor, task):
        raise ActionForbidden("只有牵头单位可以申请延期")
    if task.status in CLOSED_STATUSES:
        raise TransitionNotAllowed(f"任务状态为“{task.get_status_display()}”，无需申请延期")
    if task.deadline is None:
        raise TransitionNotAllowed("该任务没有完成时限，无需申请延期")
    ensure_deadline_in_bounds(requested_deadline, today=timezone.localdate(now),
                              field="requested_deadline", label="申请延至的日期")
    if requested_deadline <= task.deadline:
        raise InvalidInput(
            f"申请延至的日期须晚于当前完成时限{task.deadline:%Y年%m月%d日}",
            fields={"requested_deadline": "须晚于当前完成时限"},
        )
    if not reason.strip():
        raise InvalidInput("请填写延期理由", fields={"reason": "请填写延期理由"})
    try:
        with transaction.atomic():
            return DeadlineExtension.objects.create(
                task=task,
                requested_by=actor,
                requested_at=now,
                previous_deadline=task.deadline,
                requested_deadline=requested_deadline,
                reason=reason.strip(),
            )
    except IntegrityError as error:
        raise TransitionNotAllowed("该任务已有待审批的延期申请") from error


def _decide(
    extension: DeadlineExtension, actor: User, status: ExtensionStatus, note: str,
    now: dt.datetime,
) -> None:
    if not access.can_supervise(actor, extension.task):
        raise ActionForbidden("只有督导人员可以审批延期申请")
    rows = DeadlineExtension.objects.filter(
        pk=extension.pk, status=ExtensionStatus.PENDING
    ).update(status=status, decided_by=actor, decided_at=now, decision_note=note.strip())
    if rows != 1:
        raise TransitionNotAllowed("该延期申请已审批，不能重复审批")
    extension.refresh_from_db()


@transaction.atomic
def extension_approve(
    *, extension: DeadlineExtension, actor: User, note: str = "", now: dt.datetime | None = None
) -> DeadlineExtension:
    """Approve and move the task's deadline; the old deadline stays on the extension row."""
    now = now or timezone.now()
    _decide(extension, actor, ExtensionStatus.APPROVED, note, now)
    task = extension.task
    rows = Task.objects.filter(pk=task.pk, deadline=extension.previous_deadline).update(
        deadline=extension.requested_deadline, version=F("version") + 1, updated_at=now
    )
    if rows != 1:
        raise StaleWrite("任务的完成时限在申请后已被修改，请驳回后重新申请")
    record_event(
        task=task, actor=actor, action=TaskAction.EXTEND_DEADLINE, at=now,
        from_status=task.status, to_status=task.status, note=note.strip(),
        deadline_from=extension.previous_deadline, deadline_to=extension.requested_deadline,
        data={"extension_id": extension.pk},
    )
    events.extension_decided_notify(extension=extension, actor=actor, now=now)
    return extension


@transaction.atomic
def extension_reject(
    *, extension: DeadlineExtension, actor: User, note: str, now: dt.datetime | None = None
) -> DeadlineExtension:
    if not note.strip():
        raise InvalidInput("驳回延期申请须填写理由", fields={"note": "请填写驳回理由"})
    now = now or timezone.now()
    _decide(extension, actor, ExtensionStatus.REJECTED, note, now)
    events.extension_decided_notify(extension=extension, actor=actor, now=now)
    return extension
