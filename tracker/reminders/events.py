"""Event notifications (issue 11): the right people told once of what happened to a task.

| event | told | when |
|---|---|---|
| assigned 交办待签收 | the lead unit's officers | task_create; task_update moving an open task |
| submitted 提交销号 | the task's supervisors (`access.supervisors_of_task`) | task_submit |
| sent_back 退回整改 | the lead unit's officers, with the reason (签收 again) | task_send_back |
| reopened 重新打开 | the lead unit's officers, with the reason (签收 again) | task_reopen |
| extension_decided 延期获批/驳回 | the person who asked | extension_approve / _reject |
| supporting_assigned 列为配合单位 | the officers of each unit added | task_create / task_update |
| mentioned 评论中提到我 | the users @mentioned, the officers of units @mentioned | comment_post |
| instructed 领导批示 | the lead unit's officers | comment_post of a 领导批示 |
| watched 关注的任务 | the watchers who still see the task | comment_post; a status change |

A send-back and a reopening also start a new 签收 round (docs/acknowledgement.md), but the lead
unit's officers are told of it by `sent_back` / `reopened` (whose text asks for the 签收), not
by a second `assigned` notice of the same transition.

A person is told once per comment or transition: mentioned before instructed before watched,
and a watcher already told of a transition in another role is not told again as a watcher.

| notice_issued 收到督办单 | the lead unit's officers, for each task of the notice | notice_issue |
| notice_replied 督办单已回复 | the supervisor who issued the notice | notice_reply |
| notice_overdue 督办单逾期未回复 | the lead unit's officers, once per part | daily task |
| recheck_due 回头看到期 | the lead unit's officers, once per re-check | daily rechecks_sweep |
| recheck_reported 回头看已报告 | the task's supervisors | recheck_report |
| recheck_overdue 回头看逾期未报告 | lead unit's officers, then supervisors; once each | sweep |

The services call these inside their own transaction. Each recipient's `EventNotice` is
inserted with ON CONFLICT DO NOTHING RETURNING under a unique (recipient, event, key) — the key
names what happened (the TaskEvent or the extension), so a retried or doubled call tells
nobody twice — and the sending is queued only after commit (`queue_delivery_batch` uses
`transaction.on_commit`): a change that is rolled back leaves no notice and sends nothing.

Preferences (tracker.reminders.preferences) decide per person: an event switched off is not
recorded at all; in "immediate" mode the notice gets a message of its own at once (inbox,
plus e-mail if chosen); in "digest" mode it waits for the person's next daily digest. The
person who acted is never told of their own action.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from tracker import access
from tracker.models import (
    DeadlineExtension,
    DeliveryMode,
    EventNotice,
    EventType,
    ExtensionStatus,
    Notification,
    NotificationKind,
    Task,
    TaskAction,
    TaskComment,
    TaskEvent,
    TaskStatus,
    TaskWatcher,
    Unit,
    User,
)
from tracker.reminders import notifications as notify
from tracker.reminders.preferences import preferences_for
from tracker.reminders.rules import review_deadline


def _date_text(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def event_item(notice: EventNotice) -> dict:
    """One event in a message (its own, or a digest's)."""
    return {
        "event": notice.event,
        "event_label": EventType(notice.event).label,
        "task_id": notice.task_id,
        "title": notice.task.title,
        "text": notice.text,
        "note": notice.note,
        "at": timezone.localtime(notice.created_at).isoformat(timespec="minutes"),
    }


@dataclass(frozen=True)
class Notice:
    """One thing to tell: `event` about `task` (key: what happened), to `recipients`."""

    event: EventType
    key: str
    task: Task
    recipients: frozenset[int]
    text: str
    note: str = ""


# Notices per INSERT (seven parameters each).
_NOTICES_PER_INSERT = 500


def _insert_notices_returning(
    rows: list[tuple[Notice, int]], now: dt.datetime
) -> list[EventNotice]:
    """The notices (notice, recipient id) this call inserted, and only those, as instances."""
    ops = connection.ops
    table = ops.quote_name(EventNotice._meta.db_table)
    created_at = ops.adapt_datetimefield_value(now)
    won: list[EventNotice] = []
    for start in range(0, len(rows), _NOTICES_PER_INSERT):
        chunk = rows[start:start + _NOTICES_PER_INSERT]
        params: list = []
        for notice, user_id in chunk:
            params += [notice.event, notice.key, notice.task.pk, user_id, notice.text[:300],
                       notice.note, created_at]
        sql = (
            f"INSERT INTO {table} (event, key, task_id, recipient_user_id, text, note, "
            f"created_at) VALUES {', '.join(['(%s, %s, %s, %s, %s, %s, %s)'] * len(chunk))} "
            "ON CONFLICT DO NOTHING RETURNING event, key, recipient_user_id, id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ids = {(event, key, user_id): pk for event, key, user_id, pk in cursor.fetchall()}
        for notice, user_id in chunk:
            pk = ids.get((str(notice.event), notice.key, user_id))
            if pk is not None:
                won.append(EventNotice(
                    pk=pk, event=notice.event, key=notice.key, task=notice.task,
                    recipient_user_id=user_id, text=notice.text[:300], note=notice.note,
                    created_at=now,
                ))
    return won


def notify_event(
    *, event: EventType, key: str, task: Task, recipients: Iterable[User | int], text: str,
    note: str = "", actor: User | None = None, now: dt.datetime | None = None,
) -> int:
    """Tell each recipient once of `event`. Call inside the changing transaction. Returns
    how many notices this call created."""
    return notify_events(
        [Notice(event=event, key=key, task=task, text=text, note=note,
                recipients=frozenset(r if isinstance(r, int) else r.pk for r in recipients))],
        actor=actor, now=now,
    )


def notify_events(
    notices: Iterable[Notice], *, actor: User | None = None, now: dt.datetime | None = None,
) -> int:
    """Tell each notice's recipients once (`notify_event` for many notices at once, in a
    number of statements that does not grow with them). In "immediate" mode a person gets
    one message for all of this call's notices to them: an Excel ledger's new tasks reach
    each officer as one message listing them, not one message (and e-mail) per task."""
    now = now or timezone.now()
    notices = list(notices)
    wanted_ids = set()
    for notice in notices:
        wanted_ids |= notice.recipients
    if actor is not None:
        wanted_ids.discard(actor.pk)
    if not wanted_ids:
        return 0
    prefs = preferences_for(sorted(wanted_ids))
    rows = list({
        (notice.event, notice.key, uid): (notice, uid)
        for notice in notices for uid in sorted(notice.recipients)
        if uid in wanted_ids and prefs[uid].wants(notice.event)
    }.values())
    if not rows:
        return 0
    won = _insert_notices_returning(rows, now)
    theirs: dict[int, list[EventNotice]] = {}
    for notice in won:
        if prefs[notice.recipient_user_id].mode == DeliveryMode.IMMEDIATE:
            theirs.setdefault(notice.recipient_user_id, []).append(notice)
    if theirs:
        today = timezone.localtime(now).date()
        made = Notification.objects.bulk_create([
            Notification(kind=NotificationKind.EVENT, recipient_user_id=uid, day=today,
                         created_at=now, items=[event_item(n) for n in told])
            for uid, told in theirs.items()
        ])
        for notification in made:
            for notice in theirs[notification.recipient_user_id]:
                notice.notification = notification
        _link_to_messages(theirs, made)
        delivery_ids = notify.finish_notifications(
            notifications={n.recipient_user_id: n for n in made},
            recipient_field="recipient_user", now=now,
        )
        notify.queue_delivery_batch(delivery_ids)
    return len(won)


def _link_to_messages(theirs: dict[int, list[EventNotice]], made: list[Notification]) -> None:
    """Each notice points to the message that carries it, in one statement per
    _NOTICES_PER_INSERT notices whatever the number of people (written out: Django's
    bulk_update builds an expression per row, seconds for an import's thousands)."""
    pairs = [(notice.pk, notification.pk) for notification in made
             for notice in theirs[notification.recipient_user_id]]
    table = connection.ops.quote_name(EventNotice._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), _NOTICES_PER_INSERT):
            chunk = pairs[start:start + _NOTICES_PER_INSERT]
            cases = " ".join(["WHEN %s THEN %s"] * len(chunk))
            cursor.execute(
                f"UPDATE {table} SET notification_id = CASE id {cases} END "
                f"WHERE id IN ({', '.join(['%s'] * len(chunk))})",
                [value for pair in chunk for value in pair] + [pk for pk, _ in chunk],
            )


def _lead_unit_officers(task: Task) -> list[int]:
    return access.officers_by_unit([task.lead_unit_id]).get(task.lead_unit_id, [])


def task_transition_notify(*, task: Task, event: TaskEvent, actor: User | None) -> int:
    """After a transition (in its transaction): submitted → the supervisors; sent back and
    reopened → the lead unit's officers with the reason; a change of status → the watchers not
    told already."""
    notices = _transition_notices(
        task=task, event=event, actor=actor,
        supervisors=lambda: [user.pk for user in access.supervisors_of_task(task)],
        officers=lambda: _lead_unit_officers(task),
    )
    addressed = set().union(*(notice.recipients for notice in notices))
    if event.from_status != event.to_status:
        notices.append(_watched_notice(
            task=task, event=event, actor=actor,
            recipients=_watchers_who_see(task, exclude=addressed),
        ))
    # Everyone is addressed by one of these notices (watchers already told are left out), so
    # each still gets one message of their own.
    return notify_events(notices, actor=actor, now=event.at)


def _watched_notice(*, task: Task, event: TaskEvent, actor: User | None,
                    recipients) -> Notice:
    who = actor.display_name if actor else "系统"
    return Notice(
        event=EventType.WATCHED, key=f"task_event:{event.pk}", task=task,
        recipients=frozenset(recipients),
        text=f"{who}{TaskAction(event.action).label}：{TaskStatus(event.from_status).label}"
             f" → {TaskStatus(event.to_status).label}",
        note=event.note,
    )


def _transition_notices(
    *, task: Task, event: TaskEvent, actor: User | None, supervisors, officers,
) -> list[Notice]:
    """The transition's own notices (not the watchers'): `supervisors` and `officers` give
    the ids of the task's supervisors and its lead unit's officers, asked only when needed."""
    key = f"task_event:{event.pk}"
    who = actor.display_name if actor else "系统"
    if event.action == TaskAction.SUBMIT:
        submitted_on = timezone.localtime(event.at).date()
        due = review_deadline(submitted_on, settings.REVIEW_WITHIN_WORKDAYS)
        return [Notice(
            event=EventType.SUBMITTED, key=key, task=task, recipients=frozenset(supervisors()),
            text=f"{task.lead_unit.name}（{who}）提交销号，请于{_date_text(due)}前审核",
            note=event.note,
        )]
    if event.action == TaskAction.SEND_BACK:
        return [Notice(
            event=EventType.SENT_BACK, key=key, task=task, recipients=frozenset(officers()),
            text=f"{who}退回整改，请重新签收，按退回理由继续整改后重新提交", note=event.note,
        )]
    if event.action == TaskAction.REOPEN:
        return [Notice(
            event=EventType.REOPENED, key=key, task=task, recipients=frozenset(officers()),
            text=f"{who}将任务重新打开，任务恢复为整改中，请重新签收", note=event.note,
        )]
    return []


def _watchers_who_see(task: Task, *, exclude: set[int] = frozenset()) -> list[int]:
    """The task's watchers, less `exclude`, who still see it (a watcher moved to another
    unit hears nothing more of it)."""
    watchers = User.objects.filter(
        pk__in=TaskWatcher.objects.filter(task=task).values("user_id"), is_active=True
    ).exclude(pk__in=exclude).select_related("unit", "supervision_root")
    return [user.pk for user in watchers if access.can_view_task(user, task)]


def comment_notify(*, comment: TaskComment, mentioned_ids: list[int], actor: User) -> int:
    """A new comment or 领导批示 (in its transaction): the people mentioned; for a 批示 the
    lead unit's officers; the watchers. Each person once, under the key of the comment."""
    task = comment.task
    key = f"comment:{comment.pk}"
    who = actor.display_name
    kind = comment.get_kind_display()
    addressed = set(mentioned_ids)
    told = notify_event(
        event=EventType.MENTIONED, key=key, task=task, actor=actor, now=comment.created_at,
        recipients=mentioned_ids, text=f"{who}在{kind}中提到了您", note=comment.body,
    )
    if comment.is_instruction:
        officers = [uid for uid in _lead_unit_officers(task) if uid not in addressed]
        addressed.update(officers)
        told += notify_event(
            event=EventType.INSTRUCTED, key=key, task=task, actor=actor,
            now=comment.created_at, recipients=officers, text=f"{who}作出领导批示",
            note=comment.body,
        )
    told += notify_event(
        event=EventType.WATCHED, key=key, task=task, actor=actor, now=comment.created_at,
        recipients=_watchers_who_see(task, exclude=addressed), text=f"{who}发表了{kind}",
        note=comment.body,
    )
    return told


def task_assigned_notify(*, task: Task, event: TaskEvent, actor: User | None) -> int:
    """A task handed to its lead unit (moved to it while open) awaits the unit's 签收: the
    unit's officers (key: the TaskEvent of the handing over). A new task's are told by
    tasks_created_notify."""
    return notify_events(
        [_assigned_notice(task=task, event=event, recipients=_lead_unit_officers(task))],
        actor=actor, now=event.at,
    )


def _assigned_notice(*, task: Task, event: TaskEvent, recipients) -> Notice:
    return Notice(
        event=EventType.ASSIGNED, key=f"task_event:{event.pk}", task=task,
        recipients=frozenset(recipients),
        text="本单位有新交办的整改任务，请及时签收"
             + (f"（完成时限：{_date_text(task.deadline)}）" if task.deadline else ""),
    )


def supporting_units_notify(
    *, task: Task, units: Iterable[Unit], event: TaskEvent, actor: User | None
) -> int:
    """Units newly made supporting units (配合单位) of `task`: each one's officers."""
    unit_ids = [unit.pk for unit in units if unit.pk != task.lead_unit_id]
    if not unit_ids:
        return 0
    officers = access.officers_by_unit(unit_ids)
    return notify_events(
        [_supporting_notice(task=task, event=event,
                            recipients=[uid for ids in officers.values() for uid in ids])],
        actor=actor, now=event.at,
    )


def _supporting_notice(*, task: Task, event: TaskEvent, recipients) -> Notice:
    return Notice(
        event=EventType.SUPPORTING_ASSIGNED, key=f"task_event:{event.pk}", task=task,
        recipients=frozenset(recipients),
        text=f"本单位被列为配合单位，牵头单位为{task.lead_unit.name}",
    )


def tasks_created_notify(
    *, created: list[tuple[Task, list[Unit], list[TaskEvent]]], actor: User | None,
) -> int:
    """New tasks (tracker.services.tasks.tasks_create_batch; each with its supporting units
    and its history rows, saved, the creation first): the lead units' officers (assigned),
    the supporting units' (supporting_assigned), and whom each creation step's transition
    tells (task_transition_notify's rules; a new task has no watchers), except the
    supervisors of a submission the same steps already closed: nothing awaits their review.
    The officers and the supervisors of all the units at once; all the notices in one
    batch, so each person gets one message."""
    if not created:
        return 0
    unit_ids = {task.lead_unit_id for task, _, _ in created}
    unit_ids.update(unit.pk for _, supporting, _ in created for unit in supporting)
    officers = access.officers_by_unit(sorted(unit_ids))
    submitted = {task.lead_unit_id: task.lead_unit for task, _, history in created
                 if task.status == TaskStatus.SUBMITTED
                 and any(event.action == TaskAction.SUBMIT for event in history)}
    supervisors = access.supervisors_by_unit(submitted.values()) if submitted else {}
    notices: list[Notice] = []
    for task, supporting, history in created:
        creation, *steps = history
        notices.append(_assigned_notice(task=task, event=creation,
                                        recipients=officers.get(task.lead_unit_id, [])))
        others = [uid for unit in supporting if unit.pk != task.lead_unit_id
                  for uid in officers.get(unit.pk, [])]
        if others:
            notices.append(_supporting_notice(task=task, event=creation, recipients=others))
        for event in steps:
            if event.action == TaskAction.SUBMIT and task.status != TaskStatus.SUBMITTED:
                # Submitted and closed (or marked) by the same import: nothing awaits review.
                continue
            notices += _transition_notices(
                task=task, event=event, actor=actor,
                supervisors=lambda task=task: supervisors[task.lead_unit_id],
                officers=lambda task=task: officers.get(task.lead_unit_id, []),
            )
    now = created[0][2][0].at
    return notify_events(notices, actor=actor, now=now)


def extension_decided_notify(
    *, extension: DeadlineExtension, actor: User, now: dt.datetime
) -> int:
    """The person who asked for the extension hears the decision."""
    approved = extension.status == ExtensionStatus.APPROVED
    requested = _date_text(extension.requested_deadline)
    text = (f"延期申请已获批准，完成时限延至{requested}" if approved
            else f"延期申请（延至{requested}）未获批准，完成时限仍为"
                 f"{_date_text(extension.previous_deadline)}")
    return notify_event(
        event=EventType.EXTENSION_DECIDED, key=f"extension:{extension.pk}",
        task=extension.task, actor=actor, now=now,
        recipients=User.objects.filter(
            pk=extension.requested_by_id, is_active=True
        ).values_list("pk", flat=True),
        text=text, note=extension.decision_note,
    )


def notice_issued_notify(*, item, actor: User, now: dt.datetime) -> int:
    """A supervision notice's part about a task: the lead unit's officers (key: the part, so
    a unit told of two of its tasks in one notice hears of each)."""
    notice = item.notice
    return notify_event(
        event=EventType.NOTICE_ISSUED, key=f"notice_item:{item.pk}", task=item.task,
        actor=actor, now=now, recipients=_lead_unit_officers(item.task),
        text=f"{notice.number}（{notice.get_colour_display()}），请于"
             f"{_date_text(notice.reply_by)}前回复",
        note=notice.reason,
    )


def notice_replied_notify(*, item, actor: User, now: dt.datetime) -> int:
    """A part of a notice answered: the supervisor who issued it."""
    notice = item.notice
    return notify_event(
        event=EventType.NOTICE_REPLIED, key=f"notice_reply:{item.pk}", task=item.task,
        actor=actor, now=now,
        recipients=User.objects.filter(pk=notice.issued_by_id, is_active=True).values_list(
            "pk", flat=True
        ),
        text=f"{item.unit.name}已回复{notice.number}", note=item.reply,
    )


def notice_overdue_notify(*, item, now: dt.datetime) -> int:
    """A notice's part still unanswered after its reply-by day: the lead unit's officers, once
    (key: the part)."""
    notice = item.notice
    return notify_event(
        event=EventType.NOTICE_OVERDUE, key=f"notice_overdue:{item.pk}", task=item.task,
        now=now, recipients=_lead_unit_officers(item.task),
        text=f"{notice.number}要求于{_date_text(notice.reply_by)}前回复，至今未回复，请尽快回复",
        note=notice.reason,
    )


def recheck_due_notify(*, recheck, now: dt.datetime) -> int:
    """A re-check fell due: the lead unit's officers, once (key: the re-check)."""
    return notify_event(
        event=EventType.RECHECK_DUE, key=f"recheck_due:{recheck.pk}", task=recheck.task,
        now=now, recipients=_lead_unit_officers(recheck.task),
        text=f"回头看已到期（{_date_text(recheck.due_on)}），请报告问题是否反弹",
    )


def recheck_reported_notify(*, recheck, actor: User, now: dt.datetime) -> int:
    """A re-check reported: the task's supervisors, to confirm it or find it failed."""
    recurred = "问题已反弹" if recheck.recurred else "问题未反弹"
    return notify_event(
        event=EventType.RECHECK_REPORTED, key=f"recheck_report:{recheck.pk}",
        task=recheck.task, actor=actor, now=now,
        recipients=[user.pk for user in access.supervisors_of_task(recheck.task)],
        text=f"{recheck.task.lead_unit.name}报告回头看：{recurred}，请确认",
        note=recheck.report_note,
    )


def recheck_overdue_notify(*, recheck, now: dt.datetime, escalate: bool) -> int:
    """A due re-check still unreported: the lead unit's officers, later (`escalate`) the
    task's supervisors; each once (key: the re-check and the step)."""
    step = "supervisors" if escalate else "unit"
    recipients = (
        [user.pk for user in access.supervisors_of_task(recheck.task)] if escalate
        else _lead_unit_officers(recheck.task)
    )
    text = (
        f"{recheck.task.lead_unit.name}的回头看于{_date_text(recheck.due_on)}到期，至今未报告"
        if escalate else
        f"回头看于{_date_text(recheck.due_on)}到期，至今未报告问题是否反弹，请尽快报告"
    )
    return notify_event(
        event=EventType.RECHECK_OVERDUE, key=f"recheck_overdue:{recheck.pk}:{step}",
        task=recheck.task, now=now, recipients=recipients, text=text,
    )
