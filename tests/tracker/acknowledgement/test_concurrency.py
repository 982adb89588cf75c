"""签收 at the same moment (PostgreSQL, real row locks): several clicks or two officers at
once acknowledge exactly once; a concurrent sweep and the database constraint agree."""

import threading
from functools import partial

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.threads import start_in_thread
from tests.tracker.factories import TaskFactory, UserFactory
from tracker.errors import TransitionNotAllowed
from tracker.models import Role, Task, TaskAction, TaskEvent
from tracker.services import tasks as services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_simultaneous_acknowledgements_record_one(town, bob):
    other = UserFactory(username="bob_colleague", unit=town, role=Role.OFFICER)
    task = TaskFactory(lead_unit=town, ack_requested_at=timezone.now())
    actors = [bob, other, bob, other, bob, other]
    copies = [Task.objects.get(pk=task.pk) for _ in actors]
    barrier = threading.Barrier(len(copies))
    results = {}

    threads = [
        start_in_thread(partial(services.task_acknowledge, task=copy, actor=actor), results, i,
                        barrier)
        for i, (copy, actor) in enumerate(zip(copies, actors, strict=True))
    ]
    for thread in threads:
        thread.join(30)

    outcomes = list(results.values())
    assert sum(isinstance(o, Task) for o in outcomes) == 1
    # The row lock makes the others read the acknowledged row: the Chinese refusal.
    assert sum(isinstance(o, TransitionNotAllowed) for o in outcomes) == len(copies) - 1
    assert TaskEvent.objects.filter(task=task, action=TaskAction.ACKNOWLEDGE).count() == 1
    task.refresh_from_db()
    assert task.version == 2
    assert not task.awaiting_ack


def test_the_database_refuses_awaiting_and_acknowledged_at_once(town, bob):
    task = TaskFactory(lead_unit=town)
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(pk=task.pk).update(ack_requested_at=timezone.now(),
                                               acknowledged_at=timezone.now(),
                                               acknowledged_by=bob)


def test_two_sweeps_at_once_remind_each_unacknowledged_task_once(town, bob, sam, settings):
    """Two sweeps started together (a retried beat run beside the regular one): between them
    every 签收 reminder is recorded exactly once."""
    import datetime as dt

    from tests.tracker.reminders.conftest import at
    from tracker.models import Reminder
    from tracker.reminders.services import reminders_sweep

    settings.TRACKER_REMINDER_BATCH_SIZE = 3
    assigned = at(dt.date(2026, 11, 2))
    for _ in range(10):
        TaskFactory(lead_unit=town, deadline=dt.date(2027, 6, 30), ack_requested_at=assigned)
    now = at(dt.date(2026, 11, 4))
    barrier = threading.Barrier(2)
    results: dict = {}
    threads = [start_in_thread(lambda: reminders_sweep(now=now, requeue=False), results, k,
                               barrier) for k in ("a", "b")]
    for thread in threads:
        thread.join(60)
    a, b = results["a"], results["b"]
    assert not isinstance(a, BaseException), a
    assert not isinstance(b, BaseException), b
    assert a.reminders + b.reminders == 10
    assert Reminder.objects.filter(stage="ack_remind", recipient_user=bob).count() == 10
