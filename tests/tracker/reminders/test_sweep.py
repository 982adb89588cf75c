"""The sweep: which stage fires on which date, exactly once, by state (acceptance 2 and 3)."""

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest

from tests.tracker.factories import TaskFactory, UserFactory
from tests.tracker.reminders.conftest import at
from tracker.models import (
    Delivery,
    DispatchRequest,
    Notification,
    Reminder,
    Role,
    TaskStatus,
    TaskType,
)
from tracker.reminders import services as sweep_service
from tracker.reminders.services import candidate_task_ids, configured_stages, reminders_sweep
from tracker.services.extensions import extension_approve, extension_request

pytestmark = pytest.mark.django_db
D = dt.date


def _stages_by_day(start: D, end: D) -> dict:
    """Run the sweep at 09:00 every calendar day; {(recipient username, day): [stage, ...]}."""
    fired = defaultdict(list)
    day = start
    while day <= end:
        before = set(Reminder.objects.values_list("pk", flat=True))
        reminders_sweep(now=at(day))
        for r in Reminder.objects.exclude(pk__in=before).select_related("recipient_user"):
            who = r.recipient_user.username if r.recipient_user else f"unit:{r.recipient_unit_id}"
            fired[(who, day)].append(r.stage)
            assert r.recorded_on == day
        day += dt.timedelta(days=1)
    return dict(fired)


def test_stages_fire_on_their_working_days_around_national_day(town, bob, sam, chief):
    """Acceptance 2: a frozen clock walked day by day over the holiday and its 调休 Saturday."""
    UserFactory(username="li", full_name="李科长", unit=town, role=Role.OFFICER)
    UserFactory(username="wang", full_name="王副局长", unit=town, role=Role.OFFICER)
    TaskFactory(lead_unit=town, deadline=D(2026, 10, 9))
    fired = _stages_by_day(D(2026, 9, 14), D(2026, 10, 31))
    assert fired == {
        **{(who, D(2026, 9, 22)): ["before_7"] for who in ("bob", "li", "wang")},
        **{(who, D(2026, 9, 29)): ["before_3"] for who in ("bob", "li", "wang")},
        **{(who, D(2026, 10, 9)): ["due_today"] for who in ("bob", "li", "wang")},
        # Overdue on the adjusted Saturday: to the unit's officers and the responsible person.
        **{(who, D(2026, 10, 10)): ["overdue"] for who in ("bob", "li", "wang")},
        # 督办: the nearest supervisor over the unit and the responsible leader.
        ("sam", D(2026, 10, 15)): ["escalation_1"],
        ("wang", D(2026, 10, 15)): ["escalation_1"],
        # Second level: the supervisors one level up.
        ("chief", D(2026, 10, 22)): ["escalation_2"],
        ("wang", D(2026, 10, 22)): ["escalation_2"],
    }


def test_a_deadline_on_a_holiday_fires_before_and_after_the_holiday(bureau, alice):
    TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 3), responsible_person="")
    fired = _stages_by_day(D(2026, 9, 14), D(2026, 10, 9))
    assert fired == {
        ("alice", D(2026, 9, 21)): ["before_7"],
        ("alice", D(2026, 9, 28)): ["before_3"],
        ("alice", D(2026, 9, 30)): ["due_today"],
        ("alice", D(2026, 10, 8)): ["overdue"],
    }


def test_today_is_the_shanghai_date_at_2359_and_0000(bureau, alice):
    TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 9))
    utc = ZoneInfo("UTC")
    reminders_sweep(now=dt.datetime(2026, 10, 9, 15, 59, tzinfo=utc))  # 23:59 in Shanghai
    assert list(Reminder.objects.values_list("stage", "recorded_on")) == [
        ("due_today", D(2026, 10, 9))
    ]
    reminders_sweep(now=dt.datetime(2026, 10, 9, 16, 0, tzinfo=utc))  # 00:00 on the 10th
    assert set(Reminder.objects.values_list("stage", "recorded_on")) == {
        ("due_today", D(2026, 10, 9)), ("overdue", D(2026, 10, 10)),
    }


def test_a_missed_beat_run_is_caught_up_by_the_next_one(bureau, alice):
    TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 9))
    reminders_sweep(now=at(D(2026, 10, 12)))  # nobody ran on the 9th or the 10th
    assert list(Reminder.objects.values_list("stage", "recorded_on")) == [
        ("overdue", D(2026, 10, 12))
    ]


def test_a_second_sweep_on_the_same_day_records_and_sends_nothing(bureau, alice):
    TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 9))
    first = reminders_sweep(now=at(D(2026, 10, 10)))
    second = reminders_sweep(now=at(D(2026, 10, 10), 15))
    assert (first.reminders, first.notifications, first.deliveries) == (1, 1, 1)
    assert (second.reminders, second.notifications, second.deliveries) == (0, 0, 0)
    assert Delivery.objects.count() == 1


def test_recording_the_same_batch_twice_creates_rows_only_once(bureau, alice):
    """What is sent is decided by what the INSERT returned, not by what was selected."""
    task = TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 9))
    kwargs = {"task_ids": [task.pk], "stages": configured_stages(), "today": D(2026, 10, 10),
                  "now": at(D(2026, 10, 10)), "supervisors": sweep_service.Supervisors()}
    assert sweep_service.reminders_record_batch(**kwargs) == 1
    assert sweep_service.reminders_record_batch(**kwargs) == 0
    assert Reminder.objects.count() == 1


@pytest.mark.parametrize(
    ("status", "task_type"),
    [
        (TaskStatus.COMPLETED, TaskType.BY_DEADLINE),
        (TaskStatus.BASICALLY_COMPLETED, TaskType.BY_DEADLINE),
        (TaskStatus.LONG_TERM, TaskType.BY_DEADLINE),
        (TaskStatus.IN_PROGRESS, TaskType.LONG_TERM),
    ],
)
def test_closed_completed_and_long_term_tasks_are_never_reminded(bureau, alice, status, task_type):
    TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 9), status=status, task_type=task_type)
    for day in (D(2026, 9, 29), D(2026, 10, 10), D(2026, 10, 30)):
        reminders_sweep(now=at(day))
    assert not Reminder.objects.exists()
    assert not Notification.objects.exists()


def test_an_approved_extension_restarts_the_stages_for_the_new_deadline(bureau, alice, chief):
    task = TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 9), status=TaskStatus.IN_PROGRESS)
    reminders_sweep(now=at(D(2026, 10, 10)))
    extension = extension_request(task=task, actor=alice, requested_deadline=D(2026, 10, 30),
                                  reason="需协调多部门")
    extension_approve(extension=extension, actor=chief)
    reminders_sweep(now=at(D(2026, 10, 12)))  # nothing due for the new deadline yet
    reminders_sweep(now=at(D(2026, 10, 27)))
    reminders_sweep(now=at(D(2026, 11, 2)))  # Monday, first working day after 10-30
    stages = list(Reminder.objects.order_by("pk").values_list("stage", "deadline", "recorded_on"))
    assert stages == [
        ("overdue", D(2026, 10, 9), D(2026, 10, 10)),
        ("before_3", D(2026, 10, 30), D(2026, 10, 27)),
        ("overdue", D(2026, 10, 30), D(2026, 11, 2)),
    ]


def test_one_digest_per_person_per_day_listing_all_their_tasks(bureau, alice):
    TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 9), title="任务甲")  # overdue
    TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 15), title="任务乙")  # before_3
    TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 12), title="任务丙")  # before_3
    reminders_sweep(now=at(D(2026, 10, 12)))
    notification = Notification.objects.get(recipient_user=alice)
    assert [item["title"] for item in notification.items] == ["任务甲", "任务丙", "任务乙"]
    assert "1项已逾期" in notification.title
    assert "2项即将到期" in notification.title
    assert "任务乙" in notification.body
    assert notification.deliveries.get().channel == "email"

    # A task that becomes due later the same day waits for tomorrow's digest.
    TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 13), title="任务丁")
    later = reminders_sweep(now=at(D(2026, 10, 12), 16))
    assert (later.reminders, later.notifications) == (1, 0)
    reminders_sweep(now=at(D(2026, 10, 13)))
    tomorrow = Notification.objects.get(recipient_user=alice, day=D(2026, 10, 13))
    # 丁 waited since yesterday (before_3) and is due today: listed once, at its latest stage.
    assert [(item["title"], item["stage"]) for item in tomorrow.items] == [
        ("任务丙", "overdue"), ("任务丁", "due_today"),
    ]
    assert tomorrow.reminders.count() == 3
    assert Notification.objects.filter(recipient_user=alice).count() == 2


def test_no_message_at_all_when_there_is_nothing_to_say(bureau, alice):
    TaskFactory(lead_unit=bureau, deadline=D(2026, 12, 31))
    result = reminders_sweep(now=at(D(2026, 10, 12)))
    assert (result.reminders, result.notifications, result.deliveries) == (0, 0, 0)
    assert not Notification.objects.exists()


def test_the_sweep_walks_the_backlog_by_keyset_and_queues_one_message_per_batch(
    bureau, alice, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.TRACKER_REMINDER_BATCH_SIZE = 2
    settings.TRACKER_DIGEST_BATCH_SIZE = 2
    others = [UserFactory(unit=bureau, role=Role.OFFICER) for _ in range(4)]
    tasks = [TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 9)) for _ in range(5)]
    seen_after = []
    original = candidate_task_ids

    def spy(**kwargs):
        seen_after.append(kwargs["after_id"])
        return original(**kwargs)

    monkeypatch.setattr(sweep_service, "candidate_task_ids", spy)
    with django_capture_on_commit_callbacks() as callbacks:
        result = reminders_sweep(now=at(D(2026, 10, 10)), requeue=False)
    assert seen_after == [0, tasks[1].pk, tasks[3].pk, tasks[4].pk]  # never back to the start
    assert candidate_task_ids(stages=configured_stages(), today=D(2026, 10, 10),
                              after_id=0, limit=10) == ([], None)  # all recorded: the
    # anti-join leaves no candidate, so a second run ends on its first (empty) page.
    assert result.reminders == 5 * (1 + len(others))
    # 5 recipients in digest batches of 2: three queued messages, not one per reminder.
    assert result.notifications == 5
    assert len(callbacks) == 3


def test_a_sweep_killed_between_batches_is_completed_by_the_next_run(bureau, alice, settings):
    settings.TRACKER_REMINDER_BATCH_SIZE = 2
    for _ in range(5):
        TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 9))

    class Killed(BaseException):
        pass

    def die_after_first_batch(phase, size, created):
        raise Killed

    with pytest.raises(Killed):
        reminders_sweep(now=at(D(2026, 10, 10)), observer=die_after_first_batch)
    assert Reminder.objects.count() == 2
    rerun = reminders_sweep(now=at(D(2026, 10, 10)))
    assert rerun.reminders == 3
    assert Reminder.objects.count() == 5
    assert Notification.objects.get(recipient_user=alice).reminders.count() == 5


def test_monthly_dispatch_asks_each_unit_with_open_tasks_once_a_month(bureau, town, alice, bob):
    TaskFactory(lead_unit=bureau, deadline=D(2026, 12, 31))
    TaskFactory(lead_unit=town, deadline=D(2026, 12, 31), status=TaskStatus.COMPLETED)
    assert sweep_service.dispatch_monthly(now=at(D(2026, 10, 24))) == 0  # before the 25th
    assert sweep_service.dispatch_monthly(now=at(D(2026, 10, 26))) == 1  # caught up after
    assert sweep_service.dispatch_monthly(now=at(D(2026, 10, 27))) == 0
    notification = Notification.objects.get(recipient_user=alice, kind="dispatch")
    assert "11月2日" in notification.title  # 5 working days after 10-26
    assert not Notification.objects.filter(recipient_user=bob).exists()
    assert sweep_service.dispatch_monthly(now=at(D(2026, 11, 25))) == 1


def test_monthly_dispatch_does_not_ask_a_unit_whose_tasks_wait_on_review(bureau, town, alice, bob):
    TaskFactory(lead_unit=bureau, deadline=D(2026, 12, 31), status=TaskStatus.IN_PROGRESS)
    TaskFactory(lead_unit=bureau, deadline=D(2026, 12, 31), status=TaskStatus.SUBMITTED)
    TaskFactory(lead_unit=town, deadline=D(2026, 12, 31), status=TaskStatus.SUBMITTED)
    assert sweep_service.dispatch_monthly(now=at(D(2026, 10, 26))) == 1
    asked = DispatchRequest.objects.get()
    assert (asked.unit, asked.open_tasks) == (bureau, 1)  # its submitted task is not counted
    assert not Notification.objects.filter(recipient_user=bob).exists()
