"""The as-of rollup reads the deadline in force on a past day from the typed history, with the
same meaning as the task page and the API: a task created without a deadline had none until
the edit that dated it."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.tracker.factories import ProblemFactory
from tracker.figures.rollups import Grouping, RollupFilters, rollup
from tracker.models import TaskType
from tracker.services import tasks as svc

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=BEIJING)


def by_month(user, day: int) -> dict:
    result = rollup(user=user, group_by=Grouping.MONTH,
                    filters=RollupFilters(as_of=dt.date(2026, 3, day)))
    return {row.key: row.figures.total for row in result.rows}


def test_as_of_a_task_dated_later_had_no_deadline_before_the_dating(chief, bureau):
    """Proves that before the dating edit the task counts as having no deadline (it used to
    take the deadline it was given later), and from that day on under its month."""
    task = svc.task_create(problem=ProblemFactory(), actor=chief, title="持续深化作风建设",
                           lead_unit=bureau, deadline=None, task_type=TaskType.LONG_TERM,
                           now=at(2, 10))
    svc.task_update(task=task, actor=chief, deadline=dt.date(2026, 4, 30),
                    task_type=TaskType.BY_DEADLINE, now=at(4, 10))

    assert by_month(chief, 3) == {None: 1}
    assert by_month(chief, 4) == {"2026-04": 1}


def test_as_of_follows_each_move_of_the_deadline(chief, alice, bureau):
    """Proves the deadline in force is the latest move at or before the day, else the
    original: created 3月2日 due 3月31日, edited 3月4日 to 4月30日, 3月6日 to 5月31日."""
    task = svc.task_create(problem=ProblemFactory(), actor=chief, title="整改违规发放津贴问题",
                           lead_unit=bureau, deadline=dt.date(2026, 3, 31), now=at(2, 10))
    task = svc.task_update(task=task, actor=chief, deadline=dt.date(2026, 4, 30), now=at(4, 10))
    svc.task_update(task=task, actor=chief, deadline=dt.date(2026, 5, 31), now=at(6, 10))

    assert [by_month(chief, day) for day in (3, 4, 5, 6)] == [
        {"2026-03": 1}, {"2026-04": 1}, {"2026-04": 1}, {"2026-05": 1},
    ]
