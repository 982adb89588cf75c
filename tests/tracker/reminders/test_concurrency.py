"""Concurrent sweeps on PostgreSQL (acceptance 3): each reminder recorded and sent once, and a
task closed while a sweep runs gets no reminder."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tests.threads import start_in_thread
from tests.tracker.factories import TaskFactory, UnitFactory, UserFactory
from tests.tracker.reminders.conftest import at, wait_until
from tracker.models import Delivery, DeliveryStatus, Notification, Reminder, Role, Task
from tracker.reminders.services import reminders_sweep

pytestmark = [pytest.mark.postgres]
D = dt.date


@pytest.mark.worker
def test_two_sweeps_started_together_send_each_reminder_once(
    transactional_db, celery_worker, webhook_server, settings
):
    settings.TRACKER_REMINDER_BATCH_SIZE = 25
    settings.TRACKER_DIGEST_BATCH_SIZE = 10
    units = []
    for i in range(20):
        unit = UnitFactory(name=f"并发单位{i}")
        unit.wecom_webhook_url = webhook_server.url(f"/wecom/c{i}")
        unit.save()
        UserFactory(unit=unit, role=Role.OFFICER, email="")
        units.append(unit)
    for n in range(400):
        TaskFactory(lead_unit=units[n % 20], deadline=D(2026, 10, 9))
    now = at(D(2026, 10, 10))
    barrier = threading.Barrier(2)
    results: dict = {}
    threads = [start_in_thread(lambda: reminders_sweep(now=now), results, k, barrier)
               for k in ("a", "b")]
    for thread in threads:
        thread.join(60)
    a, b = results["a"], results["b"]
    assert not isinstance(a, BaseException), a
    assert not isinstance(b, BaseException), b
    # Between them the two sweeps recorded every reminder exactly once (officer + group).
    assert a.reminders + b.reminders == 800 == Reminder.objects.count()
    assert a.notifications + b.notifications == 40 == Notification.objects.count()
    assert a.deliveries + b.deliveries == 20
    wait_until(lambda: Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 20,
               timeout=60, what="并发扫描后的发送")
    time.sleep(1)
    for i in range(20):
        assert len(webhook_server.received(f"/wecom/c{i}")) == 1, i
        assert webhook_server.received(f"/wecom/c{i}")[0]["body"]["markdown"]["content"].count(
            "【红灯·已逾期】") == 20


def test_a_task_closed_while_the_sweep_runs_gets_no_reminder(transactional_db, bureau, alice):
    """The status is read again under the row lock: the sweep waits for the closing
    transaction and then sees the task closed."""
    task = TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 9))
    locked = threading.Event()
    release = threading.Event()
    results: dict = {}

    def close_slowly():
        with transaction.atomic():
            Task.objects.select_for_update().get(pk=task.pk)
            locked.set()
            release.wait(10)
            Task.objects.filter(pk=task.pk).update(
                status="completed", completed_at=timezone.now(), closed_at=timezone.now()
            )
        return "closed"

    closer = start_in_thread(close_slowly, results, "close")
    assert locked.wait(10)
    sweeper = start_in_thread(lambda: reminders_sweep(now=at(D(2026, 10, 10))), results, "sweep")
    time.sleep(0.5)
    assert sweeper.is_alive(), "the sweep should be waiting for the row lock"
    release.set()
    closer.join(10)
    sweeper.join(30)
    assert results["close"] == "closed"
    assert not isinstance(results["sweep"], BaseException), results["sweep"]
    assert results["sweep"].reminders == 0
    assert not Reminder.objects.exists()
    assert connection.vendor == "postgresql"


def test_an_event_told_twice_at_once_is_recorded_and_sent_once(transactional_db, town, sam):
    """Issue 11: two concurrent calls for the same event (a duplicated retry) — the unique
    (recipient, event, key) lets one INSERT win per recipient; the loser records nothing."""
    from tracker.models import EventNotice, EventType
    from tracker.reminders import events

    officers = [UserFactory(unit=town, role=Role.OFFICER) for _ in range(5)]
    task = TaskFactory(lead_unit=town, status="in_progress")
    barrier = threading.Barrier(2)
    results: dict = {}

    def tell():
        with transaction.atomic():
            created = events.notify_event(
                event=EventType.SENT_BACK, key="task_event:999", task=task,
                recipients=officers, text="退回整改", note="缺材料", actor=sam,
            )
            time.sleep(0.2)  # hold the rows so that the other call meets them in flight
            return created

    threads = [start_in_thread(tell, results, k, barrier) for k in ("a", "b")]
    for thread in threads:
        thread.join(30)
    assert not isinstance(results["a"], BaseException), results["a"]
    assert not isinstance(results["b"], BaseException), results["b"]
    assert sorted([results["a"], results["b"]]) == [0, 5]
    assert EventNotice.objects.count() == 5
    assert Notification.objects.count() == 5
    assert Delivery.objects.count() == 5
