"""Issue 11: event notifications — the right people told once, and a submitted task stops
chasing its unit.

Each test names the acceptance point it proves. Services are called as the pages and the API
call them; the notices, messages and deliveries are read back from the database."""

import datetime as dt
from collections import Counter

import pytest
from django.db import transaction

from tests.tracker.factories import TaskFactory, UnitFactory, UserFactory
from tests.tracker.reminders.conftest import at
from tracker import access
from tracker.errors import TransitionNotAllowed
from tracker.models import (
    Delivery,
    EventNotice,
    EventType,
    Notification,
    NotificationKind,
    Reminder,
    Role,
    TaskEvent,
    TaskStatus,
)
from tracker.reminders import events
from tracker.reminders.services import reminders_sweep
from tracker.services import extensions as extension_services
from tracker.services import tasks as task_services

pytestmark = pytest.mark.django_db
D = dt.date


def told(event: str) -> Counter:
    """{username: number of notices} for one event."""
    return Counter(
        EventNotice.objects.filter(event=event).values_list("recipient_user__username", flat=True)
    )


def inbox(username: str) -> list[Notification]:
    return list(Notification.objects.filter(
        recipient_user__username=username, kind=NotificationKind.EVENT
    ))


@pytest.fixture
def others(city, county, bureau):
    """People who must not hear of a township task's events: a supervisor of another
    district, an officer of the county above, an officer of a city department, an inactive
    officer of the township itself is made per test."""
    other_district = UnitFactory(name="西山区", parent=city)
    return [
        UserFactory(username="west_sup", unit=other_district, supervisor=True),
        UserFactory(username="county_officer", unit=county, role=Role.OFFICER),
        UserFactory(username="bureau_officer", unit=bureau, role=Role.OFFICER),
    ]


def test_submitted_tells_the_responsible_supervisors_once(town, bob, sam, chief, others):
    """Submitted → the supervisors of the lead unit (inbox and e-mail), exactly once; the next
    supervisor up, supervisors elsewhere and officers are not told."""
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS, title="整治违规收费")
    task_services.task_submit(task=task, actor=bob, now=at(D(2026, 9, 30), 10))

    assert told(EventType.SUBMITTED) == {"sam": 1}
    assert access.supervisors_of_task(task) == [sam]
    assert access.can_supervise(sam, task)
    [message] = inbox("sam")
    assert "整治违规收费" in message.title
    # Review deadline: 5 working days after 30 September, across the National Day holiday
    # and the adjusted Saturday.
    assert "请于2026年10月13日前审核" in message.body
    assert list(Delivery.objects.filter(notification=message).values_list("channel", flat=True)) \
        == ["email"]

    # A retry of the notification step (a re-run, a duplicated call) tells nobody again.
    event = TaskEvent.objects.get(task=task, action="submit")
    assert events.task_transition_notify(task=task, event=event, actor=bob) == 0
    # A second submit is refused by the transition itself.
    with pytest.raises(TransitionNotAllowed):
        task_services.task_submit(task=task, actor=bob)
    assert told(EventType.SUBMITTED) == {"sam": 1}
    assert Notification.objects.filter(kind=NotificationKind.EVENT).count() == 1


def test_submitted_by_a_supervisor_tells_the_other_supervisors_not_the_actor(town, sam):
    colleague = UserFactory(username="sam2", unit=sam.unit, supervisor=True)
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS)
    task_services.task_submit(task=task, actor=sam)
    assert told(EventType.SUBMITTED) == {"sam2": 1}
    assert access.can_supervise(colleague, task)


def test_sent_back_tells_the_lead_units_officers_with_the_reason(town, bob, sam, others):
    """Sent back → every active officer of the lead unit, with the reason; nobody of a
    supporting unit, no supervisor, not the inactive officer."""
    bob2 = UserFactory(username="bob2", unit=town, role=Role.OFFICER)
    UserFactory(username="gone", unit=town, role=Role.OFFICER, is_active=False)
    supporting_officer = others[2]
    task = TaskFactory(lead_unit=town, status=TaskStatus.SUBMITTED,
                       supporting_units=[supporting_officer.unit])
    task_services.task_send_back(task=task, actor=sam, note="佐证材料不全，缺少整改前后对比照片")

    assert told(EventType.SENT_BACK) == {"bob": 1, "bob2": 1}
    for person in (bob, bob2):
        assert access.can_act_for_lead_unit(person, task)
        [message] = inbox(person.username)
        assert "缺少整改前后对比照片" in message.body
        assert message.items[0]["event"] == "sent_back"

    event = TaskEvent.objects.get(task=task, action="send_back")
    assert events.task_transition_notify(task=task, event=event, actor=sam) == 0
    assert told(EventType.SENT_BACK) == {"bob": 1, "bob2": 1}
    assert Notification.objects.filter(kind=NotificationKind.EVENT).count() == 2


def test_reopened_tells_the_lead_unit(town, bob, sam, others):
    task = TaskFactory(lead_unit=town, status=TaskStatus.COMPLETED)
    task_services.task_reopen(task=task, actor=sam, note="群众反映问题反弹")
    assert told(EventType.REOPENED) == {"bob": 1}
    [message] = inbox("bob")
    assert "群众反映问题反弹" in message.body
    event = TaskEvent.objects.get(task=task, action="reopen")
    events.task_transition_notify(task=task, event=event, actor=sam)
    assert told(EventType.REOPENED) == {"bob": 1}


def test_other_transitions_tell_nobody(town, bob, sam):
    task = TaskFactory(lead_unit=town, status=TaskStatus.NOT_STARTED)
    task_services.task_start(task=task, actor=bob)
    task_services.task_report_progress(task=task, actor=bob, note="已完成排查")
    assert not EventNotice.objects.exists()


def test_extension_decisions_tell_the_requester_once(town, bob, sam, chief, others):
    """Extension approved / rejected → the person who asked, once each."""
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS, deadline=D(2026, 12, 31))
    first = extension_services.extension_request(
        task=task, actor=bob, requested_deadline=D(2027, 3, 31), reason="跨部门协调"
    )
    extension_services.extension_approve(extension=first, actor=sam, note="同意")
    assert told(EventType.EXTENSION_DECIDED) == {"bob": 1}
    assert "已获批准，完成时限延至2027年3月31日" in inbox("bob")[0].body

    task.refresh_from_db()
    second = extension_services.extension_request(
        task=task, actor=bob, requested_deadline=D(2027, 6, 30), reason="再次延期"
    )
    extension_services.extension_reject(extension=second, actor=sam, note="理由不充分")
    assert told(EventType.EXTENSION_DECIDED) == {"bob": 2}
    rejected = [n for n in inbox("bob") if "未获批准" in n.body]
    assert len(rejected) == 1
    assert "理由不充分" in rejected[0].body

    # Retried notification steps and a second decision change nothing.
    for extension in (first, second):
        extension.refresh_from_db()
        assert events.extension_decided_notify(extension=extension, actor=sam, now=at(
            D(2026, 11, 2))) == 0
    with pytest.raises(TransitionNotAllowed):
        extension_services.extension_reject(extension=second, actor=sam, note="再驳回")
    assert told(EventType.EXTENSION_DECIDED) == {"bob": 2}


def test_supporting_units_are_told_when_assigned_and_only_the_new_ones(
    city, town, bureau, bob, alice, chief, county
):
    """Assigned as supporting unit → that unit's officers, at creation and on an edit that
    adds it; a unit already supporting is not told again; the lead unit is not told."""
    county_officer = UserFactory(username="carl", unit=county, role=Role.OFFICER)
    problem = TaskFactory(lead_unit=town).problem
    task = task_services.task_create(
        problem=problem, actor=chief, title="规范专项资金管理", lead_unit=town,
        deadline=D(2026, 12, 31), supporting_units=[bureau],
    )
    assert told(EventType.SUPPORTING_ASSIGNED) == {"alice": 1}
    assert "牵头单位为湖滨街道" in inbox("alice")[0].body

    task = task_services.task_update(task=task, actor=chief, supporting_units=[bureau, county])
    assert told(EventType.SUPPORTING_ASSIGNED) == {"alice": 1, "carl": 1}
    assert access.can_view_task(county_officer, task)
    # Saving the same supporting units again tells nobody.
    task_services.task_update(task=task, actor=chief, supporting_units=[bureau, county])
    assert told(EventType.SUPPORTING_ASSIGNED) == {"alice": 1, "carl": 1}


def test_a_rolled_back_change_records_and_sends_nothing(
    town, bob, sam, django_capture_on_commit_callbacks
):
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS)
    def submit_then_fail():
        with transaction.atomic():
            task_services.task_submit(task=task, actor=bob)
            assert EventNotice.objects.count() == 1  # recorded inside the transaction …
            raise RuntimeError("the request fails after the transition")

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        submit_then_fail()
    assert not EventNotice.objects.exists()  # … and gone with it
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()
    assert callbacks == []  # nothing queued for sending

    with django_capture_on_commit_callbacks() as callbacks:
        task.refresh_from_db()
        task_services.task_submit(task=task, actor=bob)
    assert len(callbacks) == 1  # the delivery batch is queued only on commit


def test_a_submitted_task_stops_chasing_its_unit_and_resumes_after_sent_back(town, bob, sam):
    """No reminder to the unit while a task waits for review; chasing resumes at its current
    stage once it is sent back (退回)."""
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS, deadline=D(2026, 10, 9),
                       responsible_person="", responsible_leader="")
    task_services.task_submit(task=task, actor=bob, now=at(D(2026, 9, 21)))
    for day in (D(2026, 9, 22), D(2026, 9, 25), D(2026, 9, 29)):  # before_7 and before_3 days
        reminders_sweep(now=at(day))
    assert not Reminder.objects.filter(recipient_user=bob).exists()
    # Meanwhile it is the supervisor who is reminded (of the review deadline).
    assert set(Reminder.objects.values_list("stage", "recipient_user__username")) >= {
        ("review_due_soon", "sam")
    }

    task.refresh_from_db()
    task_services.task_send_back(task=task, actor=sam, note="补充材料", now=at(D(2026, 9, 30), 8))
    # The unit acknowledges the sent-back task (签收), so only the deadline chases it.
    task_services.task_acknowledge(task=task, actor=bob, now=at(D(2026, 9, 30), 8))
    reminders_sweep(now=at(D(2026, 9, 30)))
    assert list(Reminder.objects.filter(recipient_user=bob).values_list("stage", flat=True)) \
        == ["before_3"]
    reminders_sweep(now=at(D(2026, 10, 9)))
    assert list(Reminder.objects.filter(recipient_user=bob).order_by("pk")
                .values_list("stage", flat=True)) == ["before_3", "due_today"]


def test_telling_a_unit_costs_the_same_queries_however_many_officers(town, sam):
    """No N+1: sending back to a unit of 2 or of 12 officers issues the same queries: the
    transition and its history, then the officers, their preferences, the notice INSERT …
    RETURNING, the notices read back, the messages' bulk insert, the notices' link, the
    recipients and their preferences for rendering, the messages' text, the deliveries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size, unit_name in ((2, "甲街道"), (12, "乙街道")):
        unit = UnitFactory(name=unit_name, parent=town.parent)
        for _ in range(size):
            UserFactory(unit=unit, role=Role.OFFICER)
        task = TaskFactory(lead_unit=unit, status=TaskStatus.SUBMITTED)
        with CaptureQueriesContext(connection) as captured:
            task_services.task_send_back(task=task, actor=sam, note="缺材料")
        assert EventNotice.objects.filter(task=task).count() == size
        assert Delivery.objects.filter(notification__event_notices__task=task).count() == size
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 20, counts


def test_a_broker_down_after_commit_does_not_fail_the_change_and_the_sweep_requeues(
    town, bob, sam, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    """The send-back is committed; a broker that refuses the message is logged, the delivery
    stays pending, and the sweep queues it again once its lease has passed."""
    from kombu.exceptions import OperationalError

    from tracker.reminders import notifications as notify

    queued = []

    def broker_down(task_name, *args):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(notify, "_enqueue", broker_down)
    task = TaskFactory(lead_unit=town, status=TaskStatus.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        task_services.task_send_back(task=task, actor=sam, note="缺材料",
                                     now=at(D(2026, 11, 2), 10))
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS
    assert "发送任务排队失败" in caplog.text
    [delivery] = Delivery.objects.all()
    assert delivery.status == "pending"

    monkeypatch.setattr(notify, "_enqueue", lambda task_name, *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        notify.deliveries_requeue(now=at(D(2026, 11, 2), 11))
    assert queued == [([delivery.pk],)]
