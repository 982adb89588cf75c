"""Officers: the notification inbox — my reminders only, marked read through the
notification services."""

import datetime as dt

import pytest
from django.utils import timezone

from tracker.models import Notification, NotificationKind

pytestmark = pytest.mark.django_db


def digest(user, task, day=dt.date(2026, 11, 24)):
    return Notification.objects.create(
        kind=NotificationKind.DIGEST, recipient_user=user, day=day, title="整改任务到期提醒",
        created_at=timezone.now(),
        items=[{"task_id": task.pk, "title": task.title, "level": "red", "level_label": "红灯",
                "stage_label": "逾期督办", "lead_unit": task.lead_unit.name,
                "deadline_text": "2026年11月20日", "remaining": "已逾期2个工作日"}],
    )


def test_inbox_lists_my_reminders_with_links_to_the_tasks(alice, bob, alice_client, alice_task):
    mine = digest(alice, alice_task)
    digest(bob, alice_task)  # someone else's
    html = alice_client.get("/inbox/").content.decode()
    assert html.count('class="card mb-2 notification') == 1
    assert f"/tasks/{alice_task.pk}/" in html
    assert "逾期督办" in html
    assert "消息（1）" in html  # the unread count in the navigation bar
    assert alice_client.post(f"/inbox/{mine.pk}/read/").status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_nobody_marks_another_persons_message(bob, alice_client, alice_task):
    theirs = digest(bob, alice_task)
    assert alice_client.post(f"/inbox/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read(alice, alice_client, alice_task):
    digest(alice, alice_task, dt.date(2026, 11, 23))
    digest(alice, alice_task, dt.date(2026, 11, 24))
    alice_client.post("/inbox/read-all/")
    assert not Notification.objects.filter(recipient_user=alice, read_at__isnull=True).exists()


def test_inbox_shows_each_reminder_in_its_own_light(alice, alice_client, alice_task):
    """A green notice (seven working days ahead) was drawn with a yellow dot."""
    Notification.objects.create(
        kind=NotificationKind.DIGEST, recipient_user=alice, day=dt.date(2026, 11, 24),
        title="整改任务到期提醒", created_at=timezone.now(),
        items=[{"task_id": alice_task.pk, "title": alice_task.title, "level": "green",
                "level_label": "绿灯", "stage_label": "到期提醒",
                "lead_unit": alice_task.lead_unit.name, "deadline_text": "2026年12月3日",
                "remaining": "剩余7个工作日"}],
    )
    html = alice_client.get("/inbox/").content.decode()
    assert '<span class="light-dot light-green"></span>【绿灯·到期提醒】' in html
    assert "light-yellow" not in html
