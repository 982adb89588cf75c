"""签收, issue 15 continued: the lead unit's officers are told at once when a task awaits their
签收 (event `assigned`), and a reopened task starts a new 签收 round (docs/acknowledgement.md).

Services are called as the pages, the API and the Excel ledger import call them; the notices
and messages are read back from the database."""

import datetime as dt
from collections import Counter

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.tracker.factories import ProblemFactory, TaskFactory, UserFactory
from tests.tracker.ledger.helpers import append_row, make_ledger
from tracker.models import (
    EventNotice,
    EventType,
    Notification,
    NotificationKind,
    Role,
    Task,
    TaskAction,
    TaskStatus,
)
from tracker.reminders import events
from tracker.reminders.preferences import notification_preferences_update
from tracker.services import tasks as svc
from tracker.services.ledger import ledger_export, ledger_import, ledger_preview

pytestmark = pytest.mark.django_db
S = TaskStatus


def told(event: str = EventType.ASSIGNED) -> Counter:
    """{username: number of notices} for one event."""
    return Counter(
        EventNotice.objects.filter(event=event).values_list("recipient_user__username", flat=True)
    )


def _new_task(actor, unit, **kwargs):
    return svc.task_create(problem=ProblemFactory(), actor=actor, title="规范公务接待",
                           lead_unit=unit, deadline=dt.date(2027, 6, 30), **kwargs)


@pytest.fixture
def bob2(town):
    return UserFactory(username="bob2", unit=town, role=Role.OFFICER)


def test_a_new_task_tells_each_lead_unit_officer_once_that_it_awaits_their_acknowledgement(
    town, bureau, bob, bob2, alice, chief
):
    """Created → every active officer of the lead unit, once, in their inbox at once; an
    inactive officer, the supporting unit's officers (told they support it instead) and the
    supervisor who created it are not told of the assignment."""
    UserFactory(username="gone", unit=town, role=Role.OFFICER, is_active=False)

    task = _new_task(chief, town, supporting_units=[bureau])

    assert told() == {"bob": 1, "bob2": 1}
    assert told(EventType.SUPPORTING_ASSIGNED) == {"alice": 1}
    [message] = Notification.objects.filter(recipient_user=bob, kind=NotificationKind.EVENT)
    assert "规范公务接待" in message.title
    assert "请及时签收" in message.body
    assert "2027年6月30日" in message.body
    # A retried call for the same handing over tells nobody again.
    created = task.events.get(action=TaskAction.CREATE)
    assert events.task_assigned_notify(task=task, event=created, actor=chief) == 0
    assert told() == {"bob": 1, "bob2": 1}


def test_preferences_decide_and_the_actor_is_never_told(town, bob, bob2, chief):
    """Switched off → no notice at all; digest → a notice that waits for the daily digest
    (no message of its own); the person who acted is not told of their own act."""
    notification_preferences_update(user=bob, on_assigned=False)
    notification_preferences_update(user=bob2, mode="digest")

    task = _new_task(chief, town)

    assert told() == {"bob2": 1}
    assert EventNotice.objects.get(recipient_user=bob2).notification is None
    assert not Notification.objects.filter(recipient_user=bob2).exists()
    created = task.events.get(action=TaskAction.CREATE)
    EventNotice.objects.all().delete()
    assert events.task_assigned_notify(task=task, event=created, actor=bob2) == 0


def test_nothing_is_told_when_the_creation_is_rolled_back(town, bob, chief):
    def create_then_fail():
        with transaction.atomic():
            _new_task(chief, town)
            raise RuntimeError("the caller's transaction fails after the task was created")

    with pytest.raises(RuntimeError):
        create_then_fail()
    assert not EventNotice.objects.exists()
    assert not Notification.objects.exists()


def test_moving_an_open_task_tells_the_new_lead_unit_and_other_edits_tell_nobody(
    town, bureau, bob, alice, chief
):
    task = _new_task(chief, town)
    EventNotice.objects.all().delete()

    task = svc.task_update(task=task, actor=chief, measures="细化整改措施")
    assert told() == {}

    svc.task_update(task=task, actor=chief, lead_unit=bureau)

    assert told() == {"alice": 1}
    move = task.events.filter(action=TaskAction.EDIT).order_by("id").last()
    assert move.data["lead_unit"] == {"from": "湖滨街道", "to": "市教育局"}
    assert EventNotice.objects.get(event=EventType.ASSIGNED).key == f"task_event:{move.pk}"


def test_moving_a_closed_task_starts_no_round_and_tells_nobody(town, bureau, alice, chief):
    task = TaskFactory(lead_unit=town, status=S.COMPLETED)

    task = svc.task_update(task=task, actor=chief, lead_unit=bureau)

    assert not task.awaiting_ack
    assert told() == {}


def test_a_send_back_is_told_once_by_its_own_notice_which_asks_for_the_acknowledgement(
    town, bob, sam
):
    """Decided: a send-back starts a new 签收 round, and the officers hear of it once, by the
    `sent_back` notice (it asks them to 签收 again) — not by a second `assigned` notice."""
    task = TaskFactory(lead_unit=town, status=S.SUBMITTED)

    svc.task_send_back(task=task, actor=sam, note="佐证材料不全")

    task.refresh_from_db()
    assert task.awaiting_ack
    assert told(EventType.SENT_BACK) == {"bob": 1}
    assert "请重新签收" in EventNotice.objects.get(event=EventType.SENT_BACK).text
    assert told() == {}


def test_reopening_a_closed_task_starts_a_new_round_told_by_the_reopened_notice(
    town, bob, sam
):
    """重新打开 hands the task back to the lead unit like a send-back: it awaits 签收 again
    from the reopening (the earlier 签收 stays in the history), the officers are told once by
    `reopened`, and their 签收 is asked for again."""
    task = svc.task_create(problem=ProblemFactory(), actor=sam, title="清理违规津补贴",
                           lead_unit=town, deadline=dt.date(2027, 6, 30))
    svc.task_start(task=task, actor=bob)  # the implicit 签收
    svc.task_submit(task=task, actor=bob)
    svc.task_close(task=task, actor=sam, recheck_on=None)
    task.refresh_from_db()
    assert task.acknowledged_by == bob
    EventNotice.objects.all().delete()

    svc.task_reopen(task=task, actor=sam, note="群众反映问题仍然存在")

    task.refresh_from_db()
    assert task.status == S.IN_PROGRESS
    assert task.awaiting_ack
    assert task.ack_requested_at == task.events.get(action=TaskAction.REOPEN).at
    assert (task.acknowledged_at, task.acknowledged_by) == (None, None)
    assert told(EventType.REOPENED) == {"bob": 1}
    assert "请重新签收" in EventNotice.objects.get(event=EventType.REOPENED).text
    assert told() == {}
    assert "acknowledge" in svc.allowed_actions(bob, task)

    svc.task_acknowledge(task=task, actor=bob, note="已重新部署")

    assert task.events.filter(action=TaskAction.ACKNOWLEDGE).count() == 2
    assert not Task.objects.get(pk=task.pk).awaiting_ack


@pytest.mark.parametrize("status", [S.BASICALLY_COMPLETED, S.LONG_TERM])
def test_every_reopening_starts_a_new_round(status, town, bob, sam):
    task = TaskFactory(lead_unit=town, status=status)
    assert not task.awaiting_ack
    svc.task_reopen(task=task, actor=sam, note="重新整改")
    assert Task.objects.get(pk=task.pk).awaiting_ack


# --- The Excel ledger import: one notice per task per officer, constant queries per task ------


def _import_two_new_tasks(inspection, chief, unit_name: str):
    data = ledger_export(tasks=Task.objects.filter(inspection=inspection))
    for title in ("新增任务甲", "新增任务乙"):
        data = append_row(data, {"序号": 1, "反馈问题": "问题1", "整改任务": f"{unit_name}{title}",
                                 "整改措施": "新措施", "责任单位": unit_name,
                                 "完成时限": "2026-10-31", "完成情况": "未启动"})
    ledger_preview(inspection=inspection, actor=chief, data=data)  # the actor's unit, cached
    with CaptureQueriesContext(connection) as ctx:
        result = ledger_import(inspection=inspection, actor=chief, data=data)
    assert result.tasks_created == 2
    return len(ctx.captured_queries)


def test_a_ledger_import_tells_each_officer_once_per_new_task_at_a_cost_not_growing_with_them(
    bureau, county, alice, chief
):
    """Two new tasks for a unit with one officer cost the same queries as two for a unit with
    three: each new task's notices go out in one batch (notify_event), whoever many officers
    its lead unit has."""
    for name in ("carl", "dora", "emil"):
        UserFactory(username=name, unit=county, role=Role.OFFICER)
    one = _import_two_new_tasks(make_ledger(1, [bureau]), chief, "市教育局")
    three = _import_two_new_tasks(make_ledger(1, [county]), chief, "东湖区")

    assert told() == {"alice": 2, "carl": 2, "dora": 2, "emil": 2}
    assert one == three
