"""挂图作战 at scale: the same queries whatever the ledger's size, and a page that does not
grow with the number of units, inspections or overdue tasks."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.web.views import DASHBOARD_ROWS, OVERDUE_SHOWN
from tests.tracker.factories import (
    InspectionFactory,
    ProblemFactory,
    TaskEventFactory,
    TaskFactory,
    TaskRecheckFactory,
    UnitFactory,
)
from tracker.figures.key_tasks import KEY_TASKS_SHOWN
from tracker.models import TaskAction, TaskStatus
from tracker.selectors import inspection_choices_changed

pytestmark = pytest.mark.django_db


def _ledger(city, *, units: int, inspections: int, overdue: int, prefix: str = "") -> None:
    today = timezone.localdate()
    leads = [UnitFactory(name=f"{prefix}单位{n}", parent=city) for n in range(units)]
    problems = [ProblemFactory(inspection=InspectionFactory(team=f"第{n}巡察组"))
                for n in range(inspections)]
    for n in range(max(units, inspections, overdue)):
        task = TaskFactory(
            problem=problems[n % inspections], lead_unit=leads[n % units],
            status=TaskStatus.IN_PROGRESS if n < overdue else TaskStatus.COMPLETED,
            deadline=today - dt.timedelta(days=1 + n) if n < overdue else today,
            # Every third a 重点任务, so the key-task panel has rows at both sizes.
            is_key=n % 3 == 0, priority=1 + n % 4,
        )
        if task.status == TaskStatus.COMPLETED:  # its 回头看, in the figures as 回头看待办
            TaskRecheckFactory(task=task, state="due")
        # History over several months, so the trend has points.
        TaskEventFactory(task=task, action=TaskAction.CREATE, from_status="",
                         to_status=TaskStatus.NOT_STARTED,
                         at=timezone.now() - dt.timedelta(days=30 * (n % 7)))


def _get(client, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/dashboard/", params or {})
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries.captured_queries]


@pytest.fixture
def chief_client(chief):
    client = Client()
    client.force_login(chief)
    return client


def test_dashboard_queries_do_not_grow_with_the_ledger(chief_client, city):
    _ledger(city, units=2, inspections=1, overdue=1)
    _get(chief_client)  # the process loads the working-day calendar once
    # Both views read the filter's inspections (the worst case: its cache just emptied, as a
    # service does after a change; tracker.selectors.inspection_choices_changed).
    inspection_choices_changed()
    small_html, small = _get(chief_client)
    _ledger(city, units=45, inspections=30, overdue=OVERDUE_SHOWN + 20, prefix="大")
    inspection_choices_changed()
    big_html, big = _get(chief_client)
    # The session, the user with their unit (config/auth.py); both tables' figures from one pass
    # (rollups(): the tallies with their 回头看 counts, this month's lit tasks, the tasks seen
    # only through a supporting unit), the inspections' labels (with their teams, the charts' short
    # names) and the units; the overdue list's first rows (as values: the list shows no
    # supporting units); the trend's counts, its last period and the tasks seen through a
    # supporting unit; the unread notifications (the menu); the filter's inspections; the 重点任务
    # panel's counts and its most pressing rows (docs/priority.md).
    assert len(big) == len(small) == 15, "\n".join(q[:90] for q in ["SMALL", *small, "BIG", *big])
    assert small_html.count('class="unit-row"') == 2
    assert big_html.count('class="unit-row"') == DASHBOARD_ROWS
    assert big_html.count('class="inspection-row"') == DASHBOARD_ROWS
    overdue = big_html.split('id="overdue"')[1]
    assert len(re.findall(r'href="/tasks/\d+/"', overdue)) == OVERDUE_SHOWN
    assert big_html.count('class="key-task-row"') == KEY_TASKS_SHOWN


def test_the_tables_page_and_the_overdue_list_links_to_the_whole_list(chief_client, city):
    _ledger(city, units=45, inspections=30, overdue=OVERDUE_SHOWN + 20)
    html, _ = _get(chief_client)
    assert "第1页，共3页（45项）" in html  # units
    assert "第1页，共2页（30项）" in html  # inspections
    overdue = html.split('id="overdue"')[1]
    assert len(re.findall(r'href="/tasks/\d+/"', overdue)) == OVERDUE_SHOWN
    assert f"查看全部逾期任务（{OVERDUE_SHOWN + 20}项）" in overdue
    assert 'href="/tasks/?status=overdue"' in overdue
    last_units, _ = _get(chief_client, {"units_page": 3})
    assert last_units.count('class="unit-row"') == 45 - 2 * DASHBOARD_ROWS
    second, _ = _get(chief_client, {"inspections_page": 2, "units_page": 3})
    assert second.count('class="inspection-row"') == 30 - DASHBOARD_ROWS
    assert "units_page=2" in second  # the pager keeps the other table's page


def test_the_overdue_link_keeps_the_drill_down(chief_client, city):
    _ledger(city, units=3, inspections=2, overdue=4)
    inspection = InspectionFactory._meta.model.objects.order_by("id").first()
    unit = city.children.order_by("id").first()
    html, _ = _get(chief_client, {"inspection": inspection.pk, "unit": unit.pk})
    assert f"/tasks/?status=overdue&amp;inspection={inspection.pk}&amp;lead_unit={unit.pk}" in html
