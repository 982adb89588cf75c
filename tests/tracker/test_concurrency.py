"""Two people act on the same task at the same moment (PostgreSQL, real row locks): exactly one
write wins, the other is refused, and history shows one change."""

import threading
from functools import partial

import pytest
from django.db import transaction

from tests.threads import start_in_thread
from tests.tracker.factories import TaskFactory
from tracker.errors import StaleWrite
from tracker.models import Task, TaskEvent, TaskStatus
from tracker.services import tasks as services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_write_blocked_behind_another_is_refused_after_it_commits(chief, bureau):
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.SUBMITTED)
    first_copy = Task.objects.get(pk=task.pk)
    second_copy = Task.objects.get(pk=task.pk)
    closed_not_committed = threading.Event()
    second_started = threading.Event()
    results = {}

    def close_and_hold_the_lock():
        with transaction.atomic():
            services.task_close(task=first_copy, actor=chief)
            closed_not_committed.set()
            second_started.wait(10)
        return "closed"

    def send_back_meanwhile():
        closed_not_committed.wait(10)
        second_started.set()
        # This UPDATE waits for the first transaction's row lock, then re-checks its WHERE.
        return services.task_send_back(task=second_copy, actor=chief, note="材料不全")

    threads = [start_in_thread(close_and_hold_the_lock, results, "first"),
               start_in_thread(send_back_meanwhile, results, "second")]
    for thread in threads:
        thread.join(30)

    assert results["first"] == "closed"
    assert isinstance(results["second"], StaleWrite)
    task.refresh_from_db()
    assert (task.status, task.version) == (TaskStatus.COMPLETED, 2)
    assert TaskEvent.objects.filter(task=task).count() == 1


def test_many_simultaneous_closures_of_one_task_succeed_once(chief, bureau):
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.SUBMITTED)
    copies = [Task.objects.get(pk=task.pk) for _ in range(6)]
    barrier = threading.Barrier(len(copies))
    results = {}

    threads = [
        start_in_thread(partial(services.task_close, task=copy, actor=chief), results, i, barrier)
        for i, copy in enumerate(copies)
    ]
    for thread in threads:
        thread.join(30)

    outcomes = list(results.values())
    assert sum(isinstance(o, Task) for o in outcomes) == 1
    assert sum(isinstance(o, StaleWrite) for o in outcomes) == len(copies) - 1
    assert TaskEvent.objects.filter(task=task).count() == 1
