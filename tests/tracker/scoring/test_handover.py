"""考评 and a change of hands: a task counts under the unit that led it at the period's end,
a send-back under the unit that led the task when it was sent back — whoever leads it now.
The moves come from the typed history (TaskEvent.lead_unit_from / lead_unit_to) that
task_update writes, so the scores of a period stay the same after a later handover."""

import datetime as dt
import importlib

import pytest

from tests.tracker.factories import TaskEventFactory, UnitFactory
from tests.tracker.scoring.conftest import AFTER_MAY, A, S, at, create
from tracker.figures.scoring import unit_scores
from tracker.models import TaskEvent
from tracker.services.tasks import task_update

pytestmark = pytest.mark.django_db


def figures(board):
    return {row.name: (row.tasks, row.due, row.on_time, row.overdue_tasks, row.overdue_days,
                       row.send_backs, row.score) for row in board.rows}


def hand_over(task, unit, actor, when):
    task.refresh_from_db()
    return task_update(task=task, actor=actor, lead_unit=unit, now=when)


def test_task_update_records_the_move_typed(ledger, chief, town, bureau):
    t3 = ledger["t3"]
    hand_over(t3, town, chief, at(6, 2))
    move = TaskEvent.objects.get(task=t3, action=A.EDIT)
    assert (move.lead_unit_from, move.lead_unit_to) == (bureau, town)
    assert move.data["lead_unit"] == {"from": "市教育局", "to": "湖滨街道"}


def test_a_handover_after_the_period_changes_no_score(ledger, may, chief, town):
    before = figures(unit_scores(user=chief, period=may, now=AFTER_MAY))
    # T3 (overdue at May's end), T2 (sent back in May) and T1 leave the bureau in June.
    for key in ("t1", "t2", "t3"):
        hand_over(ledger[key], town, chief, at(6, 2))
    assert figures(unit_scores(user=chief, period=may, now=AFTER_MAY)) == before
    assert before["市教育局"][5] == 1  # T2's send-back stays the bureau's
    assert before["市教育局"][3:5] == (1, 4)  # so does T3's overdue


def test_a_handover_within_the_period_moves_the_task(ledger, may, chief, town):
    before = figures(unit_scores(user=chief, period=may, now=AFTER_MAY))
    hand_over(ledger["t3"], town, chief, at(5, 26))  # overdue since 5/25, handed over 5/26
    after = figures(unit_scores(user=chief, period=may, now=AFTER_MAY))
    bureau_before, bureau_after = before["市教育局"], after["市教育局"]
    assert bureau_after[:5] == (bureau_before[0] - 1, bureau_before[1] - 1, 1, 0, 0)
    town_before, town_after = before["湖滨街道"], after["湖滨街道"]
    assert town_after[:5] == (town_before[0] + 1, town_before[1] + 1, 1, 1, 4)


def test_send_back_counts_against_the_unit_leading_at_that_moment(ledger, may, chief, town):
    # T2 was sent back on 5/13 under the bureau; handed to the town on 5/14, still in May.
    hand_over(ledger["t2"], town, chief, at(5, 14))
    rows = figures(unit_scores(user=chief, period=may, now=AFTER_MAY))
    assert rows["市教育局"][5] == 1
    assert rows["湖滨街道"][5] == 0


def test_a_district_supervisor_keeps_the_tasks_that_left_the_district(ledger, may, sam, chief,
                                                                     bureau, town):
    before = figures(unit_scores(user=sam, period=may, now=AFTER_MAY))
    hand_over(ledger["t6"], bureau, chief, at(6, 3))  # out of the county's subtree
    after = figures(unit_scores(user=sam, period=may, now=AFTER_MAY))
    assert after == before
    assert after["湖滨街道"][0] == 2
    # …and a task handed into the district after May does not join its May figures.
    hand_over(ledger["t3"], town, chief, at(6, 4))
    assert figures(unit_scores(user=sam, period=may, now=AFTER_MAY)) == before


def test_moves_before_the_typed_history_are_filled_in(chief, city, bureau, town):
    """Migration 0027 fills the typed columns of older edits from the names they kept."""
    migration = importlib.import_module("tracker.migrations.0027_taskevent_lead_unit_moves")
    twin = UnitFactory(name="重名单位", parent=city)
    UnitFactory(name="重名单位", parent=town)  # a name that is not unique in the tree
    task = create("历史任务", bureau, dt.date(2026, 6, 30), chief)  # led by the bureau now
    old = [
        TaskEventFactory(task=task, at=at(4, 10), action=A.EDIT, from_status=S.IN_PROGRESS,
                         to_status=S.IN_PROGRESS, actor=chief,
                         data={"lead_unit": {"from": "湖滨街道", "to": "重名单位"}}),
        TaskEventFactory(task=task, at=at(4, 20), action=A.EDIT, from_status=S.IN_PROGRESS,
                         to_status=S.IN_PROGRESS, actor=chief,
                         data={"lead_unit": {"from": "重名单位", "to": "市教育局"}}),
    ]
    from django.apps import apps

    migration.fill_typed_moves(apps, None)
    first, second = (TaskEvent.objects.get(pk=e.pk) for e in old)
    assert (second.lead_unit_from_id, second.lead_unit_to_id) == (None, bureau.pk)
    assert (first.lead_unit_from_id, first.lead_unit_to_id) == (town.pk, None)
    assert twin.pk not in (first.lead_unit_to_id, second.lead_unit_from_id)
