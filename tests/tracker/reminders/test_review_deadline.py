"""Issue 11: the review deadline (审核时限) of a submitted task — a reminder before it and
escalation after it, on working days, with a frozen clock walked day by day."""

import datetime as dt
from collections import defaultdict

import pytest

from tests.tracker.factories import TaskFactory
from tests.tracker.reminders.conftest import at
from tracker.models import Notification, NotificationKind, Reminder, TaskStatus
from tracker.reminders.rules import build_review_stages, review_deadline
from tracker.reminders.services import reminders_sweep, review_deadline_of
from tracker.services import tasks as task_services

pytestmark = pytest.mark.django_db
D = dt.date


def _walk(start: D, end: D) -> dict:
    """Sweep at 09:00 every calendar day: {(username, day): [stages recorded that day]}."""
    fired = defaultdict(list)
    day = start
    while day <= end:
        before = set(Reminder.objects.values_list("pk", flat=True))
        reminders_sweep(now=at(day))
        for r in Reminder.objects.exclude(pk__in=before).select_related("recipient_user"):
            fired[(r.recipient_user.username, day)].append(r.stage)
        day += dt.timedelta(days=1)
    return dict(fired)


def test_review_deadline_counts_working_days_across_national_day():
    # 30 Sep 2026 (Wed) + 5 working days: 8, 9, 10 (adjusted Saturday), 12, 13 October.
    assert review_deadline(D(2026, 9, 30), 5) == D(2026, 10, 13)
    # Across a plain weekend: Friday + 1 is Monday.
    assert review_deadline(D(2026, 11, 6), 1) == D(2026, 11, 9)


def test_review_reminder_before_and_escalation_after_the_review_deadline(town, bob, sam, chief):
    """Reminder one working day before (the responsible supervisor), escalation one working
    day after (the responsible supervisor and the next one up), nothing to the unit."""
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS, deadline=D(2026, 10, 9),
                       responsible_leader="", responsible_person="")
    task_services.task_submit(task=task, actor=bob, now=at(D(2026, 9, 30), 16))
    task.refresh_from_db()
    assert review_deadline_of(task) == D(2026, 10, 13)

    fired = _walk(D(2026, 9, 30), D(2026, 10, 31))
    assert fired == {
        ("sam", D(2026, 10, 12)): ["review_due_soon"],
        ("sam", D(2026, 10, 14)): ["review_overdue"],
        ("chief", D(2026, 10, 14)): ["review_overdue"],
    }
    # The messages say which deadline: the review deadline, with its light and days.
    digest = Notification.objects.get(recipient_user=sam, kind=NotificationKind.DIGEST,
                                      day=D(2026, 10, 12))
    assert "审核时限：2026年10月13日" in digest.body
    assert "销号审核即将到期" in digest.body
    escalated = Notification.objects.get(recipient_user=chief, kind=NotificationKind.DIGEST)
    assert "【红灯·销号审核逾期督办】" in escalated.body


def test_a_task_reviewed_in_time_gets_no_review_reminder(town, bob, sam, chief):
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS, deadline=D(2026, 12, 31))
    task_services.task_submit(task=task, actor=bob, now=at(D(2026, 11, 2)))
    task.refresh_from_db()
    task_services.task_close(task=task, actor=sam, now=at(D(2026, 11, 5)))
    _walk(D(2026, 11, 2), D(2026, 11, 20))
    assert not Reminder.objects.filter(stage__startswith="review_").exists()


def test_resubmission_after_sent_back_starts_a_new_review_deadline(town, bob, sam, chief):
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS, deadline=D(2026, 12, 31))
    task_services.task_submit(task=task, actor=bob, now=at(D(2026, 11, 2)))
    reminders_sweep(now=at(D(2026, 11, 6)))  # review due 9 Nov: reminded on Friday 6th
    task.refresh_from_db()
    task_services.task_send_back(task=task, actor=sam, note="补充", now=at(D(2026, 11, 6), 10))
    task.refresh_from_db()
    task_services.task_submit(task=task, actor=bob, now=at(D(2026, 11, 10)))
    task.refresh_from_db()
    assert review_deadline_of(task) == D(2026, 11, 17)
    reminders_sweep(now=at(D(2026, 11, 16)))
    assert list(
        Reminder.objects.filter(recipient_user=sam).order_by("pk").values_list("stage", "deadline")
    ) == [("review_due_soon", D(2026, 11, 9)), ("review_due_soon", D(2026, 11, 17))]


def test_a_sweep_run_twice_records_review_reminders_once(town, bob, sam, chief):
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS)
    task_services.task_submit(task=task, actor=bob, now=at(D(2026, 11, 2)))
    reminders_sweep(now=at(D(2026, 11, 10)))
    reminders_sweep(now=at(D(2026, 11, 10), 15))
    assert Reminder.objects.filter(stage="review_overdue").count() == 2  # sam and chief
    assert Notification.objects.filter(kind=NotificationKind.DIGEST).count() == 2


def test_review_stages_reject_an_escalation_before_the_deadline():
    with pytest.raises(ValueError, match="审核逾期督办"):
        build_review_stages(remind_before=1, escalate_after=0)
    assert [s.code for s in build_review_stages(remind_before=0, escalate_after=2)] == [
        "review_overdue"
    ]
