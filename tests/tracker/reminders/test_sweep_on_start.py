"""Issue 11: `make run` (manage.py run_tracker) runs one sweep as it starts, at any hour, so
the demo users' inboxes are not empty. The command calls `sweep_on_start`; the slow test in
tests/test_run_command.py checks the command prints its line."""

import io

import pytest
from django.utils import timezone

from tracker.demo.loader import load_demo
from tracker.management.commands.run_tracker import sweep_on_start
from tracker.models import Notification, NotificationKind, Reminder

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("hour", [2, 23])  # outside the beat's 8–20 window
def test_the_start_sweep_fills_the_demo_inboxes_at_any_hour(hour, monkeypatch):
    now = timezone.localtime().replace(hour=hour, minute=5)
    monkeypatch.setattr(timezone, "now", lambda: now)
    load_demo(today=now.date())
    assert not Notification.objects.filter(kind=NotificationKind.DIGEST).exists()
    out = io.StringIO()
    sweep_on_start(out)
    digests = Notification.objects.filter(kind=NotificationKind.DIGEST, day=now.date())
    told = set(digests.values_list("recipient_user__username", flat=True))
    # Officers of units with tasks due or overdue, and the supervisors over overdue ones.
    # Officers of city departments with tasks due or overdue; the city's supervisors (over
    # overdue tasks and the review deadlines of submitted ones).
    assert {"jiaoyu", "zhujian", "nongye", "zgb", "jiwei"} <= told, told
    assert Reminder.objects.exists()
    assert f"启动时催办扫描（{now.date():%Y-%m-%d}）：新增提醒{Reminder.objects.count()}条" \
        in out.getvalue()
    # Idempotent: starting again the same day adds nothing.
    sweep_on_start(io.StringIO())
    assert Notification.objects.filter(kind=NotificationKind.DIGEST).count() == digests.count()

