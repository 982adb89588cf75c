"""Fixtures of the supervision notice tests: two lagging tasks of two township units in the
county, each with its officer, and sam (supervisor over the county) to issue notices."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.tracker.factories import TaskFactory, UnitFactory, UserFactory
from tracker.models import Role, TaskStatus, UnitKind

LOCAL = ZoneInfo("Asia/Shanghai")
# A Monday in an ordinary week (no holiday nearby): the clock the service tests read.
MONDAY = dt.datetime(2026, 6, 1, 10, 0, tzinfo=LOCAL)


@pytest.fixture
def village(county):
    return UnitFactory(name="东湖镇", kind=UnitKind.TOWNSHIP, parent=county)


@pytest.fixture
def vera(village):
    """Officer of the other township."""
    return UserFactory(username="vera", unit=village, role=Role.OFFICER)


@pytest.fixture
def overdue_task(town):
    return TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS,
                       deadline=dt.date(2026, 5, 20), title="湖滨街道清理违规吃喝问题")


@pytest.fixture
def lagging_task(village):
    return TaskFactory(lead_unit=village, status=TaskStatus.NOT_STARTED,
                       deadline=dt.date(2026, 5, 25), title="东湖镇整治村级财务管理问题")
