"""签收 reminders: unacknowledged after ACK_REMIND_WORKDAYS working days → the lead unit's
officers; after ACK_ESCALATE_WORKDAYS → the task's supervisors. Once per stage per assignment;
a send-back starts a new round; the sweep's queries do not grow with the tasks."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.tracker.factories import ProblemFactory
from tests.tracker.reminders.conftest import at
from tracker.models import Reminder, Task
from tracker.reminders.services import (
    ACK,
    Supervisors,
    configured_ack_stages,
    reminders_sweep,
    waiting_reminders_record_batch,
)
from tracker.services import tasks as svc

pytestmark = pytest.mark.django_db
D = dt.date
MONDAY = D(2026, 11, 2)  # a plain working week: remind Wed 11-04, escalate Mon 11-09


def _assign(chief, unit, day=MONDAY, n=1):
    problem = ProblemFactory()
    return [svc.task_create(problem=problem, actor=chief, title=f"整改任务{i}", lead_unit=unit,
                            deadline=D(2027, 6, 30), now=at(day)) for i in range(n)]


def _ack_reminders():
    return sorted(Reminder.objects.filter(stage__startswith="ack_").values_list(
        "stage", "recipient_user__username", "deadline"))


def test_unacknowledged_reminds_the_unit_then_escalates_each_exactly_once(town, bob, sam,
                                                                           chief):
    [task] = _assign(chief, town)
    reminders_sweep(now=at(D(2026, 11, 3)))
    assert _ack_reminders() == []

    for hour in (9, 15):
        reminders_sweep(now=at(D(2026, 11, 4), hour))
    reminders_sweep(now=at(D(2026, 11, 5)))
    assert _ack_reminders() == [("ack_remind", "bob", D(2026, 11, 4))]

    for day in (D(2026, 11, 9), D(2026, 11, 9), D(2026, 11, 10)):
        reminders_sweep(now=at(day))
    # The supervisors responsible for the task (sam over 东湖区, not chief over the city).
    assert _ack_reminders() == [("ack_escalation", "sam", D(2026, 11, 4)),
                                ("ack_remind", "bob", D(2026, 11, 4))]
    digest = bob.notifications.get(day=D(2026, 11, 4))
    assert digest.items[0]["stage_label"] == "逾期未签收提醒"
    assert digest.items[0]["deadline_caption"] == "签收时限"
    assert task.pk == digest.items[0]["task_id"]


def test_an_acknowledged_task_is_not_chased(town, bob, sam, chief):
    [task] = _assign(chief, town)
    svc.task_acknowledge(task=task, actor=bob, now=at(D(2026, 11, 3)))
    for day in (D(2026, 11, 4), D(2026, 11, 9)):
        reminders_sweep(now=at(day))
    assert _ack_reminders() == []


def test_a_send_back_starts_a_new_round_of_reminders(town, bob, sam, chief):
    [task] = _assign(chief, town)
    reminders_sweep(now=at(D(2026, 11, 4)))
    svc.task_start(task=task, actor=bob, now=at(D(2026, 11, 5)))
    svc.task_submit(task=task, actor=bob, now=at(D(2026, 11, 5), 10))
    svc.task_send_back(task=task, actor=sam, note="材料不全", now=at(D(2026, 11, 10)))
    reminders_sweep(now=at(D(2026, 11, 12)))
    assert _ack_reminders() == [("ack_remind", "bob", D(2026, 11, 4)),
                                ("ack_remind", "bob", D(2026, 11, 12))]


def test_a_retried_batch_records_nothing_twice(town, bob, sam, chief):
    """A batch run again (a retried beat task, a second worker) finds the reminders already
    recorded: the unique constraint and ON CONFLICT DO NOTHING make it once."""
    tasks = _assign(chief, town, n=2)
    kwargs = {"task_ids": [t.pk for t in tasks], "stages": configured_ack_stages(),
              "today": D(2026, 11, 4), "now": at(D(2026, 11, 4))}
    assert waiting_reminders_record_batch(ACK, supervisors=Supervisors(), **kwargs) == 2
    assert waiting_reminders_record_batch(ACK, supervisors=Supervisors(), **kwargs) == 0
    assert Reminder.objects.filter(stage="ack_remind").count() == 2


def test_a_task_acknowledged_after_it_was_selected_drops_out_under_the_lock(town, bob, chief):
    [task] = _assign(chief, town)
    svc.task_acknowledge(task=task, actor=bob, now=at(D(2026, 11, 4), 8))
    assert waiting_reminders_record_batch(
        ACK, task_ids=[task.pk], stages=configured_ack_stages(), today=D(2026, 11, 4),
        now=at(D(2026, 11, 4)), supervisors=Supervisors(),
        days=[["2026-11-02", "ack_remind", "yellow", "unit", "2026-11-04"]],
    ) == 0


def _sweep_queries(chief, unit, n: int) -> tuple[int, int]:
    _assign(chief, unit, n=n)
    with CaptureQueriesContext(connection) as queries:
        result = reminders_sweep(now=at(D(2026, 11, 4)), requeue=False)
    return len(queries), result.reminders


def test_the_sweep_costs_the_same_queries_for_2_or_6_waiting_tasks(town, bureau, bob, alice,
                                                                     chief):
    # Two units, each with one officer: the digests are the same; only the tasks grow.
    small, made_small = _sweep_queries(chief, town, 2)
    Task.objects.update(ack_requested_at=None)  # the first world is acknowledged
    large, made_large = _sweep_queries(chief, bureau, 6)
    assert (made_small, made_large) == (2, 6)
    assert large == small
