"""Fixtures of the 回头看 tests: a task of the township (bob's unit) submitted for closure,
sam (supervisor over the county) who closes it, sue (supervisor elsewhere) who may not."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.tracker.factories import TaskFactory
from tracker.models import TaskStatus

LOCAL = ZoneInfo("Asia/Shanghai")
# A Monday in an ordinary week: the day of closure in the service tests.
MONDAY = dt.datetime(2026, 6, 1, 10, 0, tzinfo=LOCAL)


@pytest.fixture
def submitted_task(town):
    return TaskFactory(lead_unit=town, status=TaskStatus.SUBMITTED,
                       deadline=dt.date(2026, 6, 30), title="湖滨街道整治违规收费问题")


@pytest.fixture
def closed(sam, submitted_task):
    """The task closed by sam on MONDAY with the default 回头看 (six months later)."""
    from tracker.services.tasks import task_close

    task_close(task=submitted_task, actor=sam, now=MONDAY, effectiveness="effective",
               root_cause="制度执行不严，监督缺位。")
    submitted_task.refresh_from_db()
    return submitted_task
