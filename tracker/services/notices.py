"""Supervision notices (督办单): issue one on several tasks, answer a task's part.

Each write records a history row on every task it touches (TaskAction.NOTICE_ISSUE /
NOTICE_REPLY, the status unchanged), in the same transaction, and tells the people concerned
through the event notices (tracker.reminders.events), sent only after commit.
"""

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from tracker import access
from tracker.deadlines import (
    NOTICE_OVERDUE,
    ensure_reply_by_valid,
    notice_item_state_expression,
)
from tracker.errors import ActionForbidden, InvalidInput, StaleWrite, TransitionNotAllowed
from tracker.models import (
    CLOSED_STATUSES,
    NoticeColour,
    NoticeSequence,
    SupervisionNotice,
    SupervisionNoticeItem,
    Task,
    TaskAction,
    TaskStatus,
    User,
)
from tracker.reminders import events
from tracker.services.history import record_event

MAX_TASKS_PER_NOTICE = 200


def _next_sequence(year: int) -> int:
    """The year's next notice number. The year's counter row is locked until the issuing
    transaction ends, so two supervisors issuing at once get two numbers, never one."""
    if not NoticeSequence.objects.filter(year=year).exists():
        try:
            with transaction.atomic():
                NoticeSequence.objects.create(year=year, last=0)
        except IntegrityError:
            pass  # created by a concurrent issue in the meantime
    counter = NoticeSequence.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


@transaction.atomic
def notice_issue(
    *,
    actor: User,
    task_ids: Iterable[int],
    colour: str,
    reason: str,
    reply_by: dt.date,
    requirements: str = "",
    now: dt.datetime | None = None,
) -> SupervisionNotice:
    """Issue a notice on the tasks: one part per task, addressed to its lead unit."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    ids = sorted({int(pk) for pk in task_ids})
    if not ids:
        raise InvalidInput("请至少选择一项整改任务", fields={"tasks": "请选择任务"})
    if len(ids) > MAX_TASKS_PER_NOTICE:
        raise InvalidInput(f"一份督办单最多包含{MAX_TASKS_PER_NOTICE}项任务",
                           fields={"tasks": "任务过多"})
    if colour not in NoticeColour.values:
        raise InvalidInput("督办等级只能是蓝色、黄色或红色", fields={"colour": "无效的选项"})
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写督办事由", fields={"reason": "必填"})
    ensure_reply_by_valid(reply_by, today=today)

    # Locked in id order (two notices on overlapping tasks never wait on each other in turn).
    tasks = list(
        Task.objects.filter(access.visible_tasks_q(actor), pk__in=ids)
        .select_related("lead_unit")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    if len(tasks) != len(ids):
        raise InvalidInput("所选任务不存在或不可见", fields={"tasks": "任务不存在"})
    for task in tasks:
        if not access.can_issue_notice(actor, task):
            raise ActionForbidden(f"您没有权限对任务“{task.title}”下发督办单")
        if task.status in CLOSED_STATUSES:
            raise TransitionNotAllowed(
                f"任务“{task.title}”当前状态为“{TaskStatus(task.status).label}”，不能下发督办单"
            )

    notice = SupervisionNotice.objects.create(
        year=today.year, sequence=_next_sequence(today.year), colour=colour, reason=reason,
        requirements=(requirements or "").strip(), reply_by=reply_by, issued_by=actor,
        issued_at=now,
    )
    items = SupervisionNoticeItem.objects.bulk_create(
        [SupervisionNoticeItem(notice=notice, task=task, unit=task.lead_unit) for task in tasks]
    )
    for item, task in zip(items, tasks, strict=True):
        item.task = task
        record_event(
            task=task, actor=actor, action=TaskAction.NOTICE_ISSUE, at=now,
            from_status=task.status, to_status=task.status,
            note=f"{notice.number}（{notice.get_colour_display()}）：{reason}",
            data={"notice_id": notice.pk, "notice_item_id": item.pk, "colour": colour,
                  "reply_by": reply_by.isoformat()},
        )
        events.notice_issued_notify(item=item, actor=actor, now=now)
    return notice


@transaction.atomic
def notice_reply(
    *, actor: User, item: SupervisionNoticeItem, reply: str, now: dt.datetime | None = None
) -> SupervisionNoticeItem:
    """Answer one task's part of a notice (once; a late answer is still taken)."""
    now = now or timezone.now()
    item = (
        SupervisionNoticeItem.objects.select_for_update(of=("self",))
        .select_related("notice", "task__lead_unit", "unit")
        .get(pk=item.pk)
    )
    if not access.can_reply_notice(actor, item.task):
        raise ActionForbidden("您没有权限回复该督办单")
    if item.replied_at is not None:
        raise TransitionNotAllowed("该督办事项已回复，不能重复回复")
    reply = (reply or "").strip()
    if not reply:
        raise InvalidInput("请填写回复内容", fields={"reply": "必填"})
    changed = SupervisionNoticeItem.objects.filter(pk=item.pk, replied_at__isnull=True).update(
        reply=reply, replied_by=actor, replied_at=now
    )
    if changed != 1:
        raise StaleWrite("该督办事项已被他人回复，请刷新后查看")
    item.reply, item.replied_by, item.replied_at = reply, actor, now
    task = item.task
    record_event(
        task=task, actor=actor, action=TaskAction.NOTICE_REPLY, at=now,
        from_status=task.status, to_status=task.status,
        note=f"回复{item.notice.number}：{reply}",
        data={"notice_id": item.notice_id, "notice_item_id": item.pk},
    )
    events.notice_replied_notify(item=item, actor=actor, now=now)
    return item


# A part unanswered longer than this after its reply-by day is no longer chased by the daily
# reminder (it stays 逾期未回复 in the register).
OVERDUE_REMINDER_WINDOW_DAYS = 30


def notice_overdue_remind(*, now: dt.datetime | None = None) -> int:
    """Daily: tell the lead unit of each notice part unanswered after its reply-by day, once
    per part (the event notice's unique key makes a second run tell nobody). Each part in its
    own transaction; a part already told is skipped by the unique key. Returns how many
    notices this run recorded."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    due = (
        SupervisionNoticeItem.objects.annotate(state=notice_item_state_expression(today))
        .filter(state=NOTICE_OVERDUE,
                notice__reply_by__gte=today - dt.timedelta(days=OVERDUE_REMINDER_WINDOW_DAYS))
        .select_related("notice", "task__lead_unit", "unit")
        .order_by("pk")
    )
    told = 0
    for item in due:
        with transaction.atomic():
            told += events.notice_overdue_notify(item=item, now=now)
    return told
