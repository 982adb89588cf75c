"""回头看 in the maintained counts while the task changes key at the same moment (PostgreSQL,
real row locks, migration 0031_recheck_tallies): whichever commits first, the counts equal a
recount afterwards."""

import datetime as dt
import threading

import pytest
from django.db import transaction
from django.utils import timezone

from tests.threads import start_in_thread
from tests.tracker.factories import ProblemFactory, TaskFactory, TaskRecheckFactory
from tracker.figures.tallies import tally_check
from tracker.models import Problem, Task, TaskRecheck, TaskStatus, TaskTally

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# How long the first transaction holds its change open for the second to run into it.
HOLD_SECONDS = 1.0


def _race(first, second) -> dict:
    """`first` changes something and holds its transaction open while `second` runs (it waits
    for `first` if they lock the same row; it would finish at once if nothing made it wait),
    then `first` commits."""
    changed = threading.Event()
    second_done = threading.Event()
    results = {}

    def run_first():
        with transaction.atomic():
            first()
            changed.set()
            second_done.wait(HOLD_SECONDS)
        return "first"

    def run_second():
        changed.wait(10)
        try:
            second()
        finally:
            second_done.set()
        return "second"

    threads = [start_in_thread(run_first, results, "first"),
               start_in_thread(run_second, results, "second")]
    for thread in threads:
        thread.join(30)
    assert results == {"first": "first", "second": "second"}
    return results


@pytest.fixture
def closed_task(bureau):
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.COMPLETED, problem=ProblemFactory(),
                       deadline=dt.date(2026, 12, 31))
    recheck = TaskRecheckFactory(task=task)  # 待回头看: not counted
    return task, recheck


def _becomes_due(recheck):
    def change():
        TaskRecheck.objects.filter(pk=recheck.pk).update(state="due",
                                                         became_due_at=timezone.now())
    return change


def test_a_recheck_falling_due_while_its_task_moves_to_another_unit(closed_task, town):
    task, recheck = closed_task
    _race(_becomes_due(recheck),
          lambda: Task.objects.filter(pk=task.pk).update(lead_unit=town))
    assert tally_check() == []
    assert TaskTally.objects.get(lead_unit=town).recheck_due == 1


def test_a_task_moving_while_its_recheck_falls_due(closed_task, town):
    task, recheck = closed_task
    _race(lambda: Task.objects.filter(pk=task.pk).update(deadline=dt.date(2027, 3, 1),
                                                         lead_unit=town),
          _becomes_due(recheck))
    assert tally_check() == []
    assert TaskTally.objects.get(lead_unit=town).recheck_due == 1


def test_a_problem_s_new_aspect_while_a_recheck_falls_due(closed_task):
    task, recheck = closed_task
    _race(lambda: Problem.objects.filter(pk=task.problem_id).update(aspect="新方面"),
          _becomes_due(recheck))
    assert tally_check() == []
    assert TaskTally.objects.get(aspect="新方面").recheck_due == 1


def test_a_recheck_falling_due_while_its_problem_s_aspect_changes(closed_task):
    task, recheck = closed_task
    _race(_becomes_due(recheck),
          lambda: Problem.objects.filter(pk=task.problem_id).update(aspect="新方面"))
    assert tally_check() == []
    assert TaskTally.objects.get(aspect="新方面").recheck_due == 1
