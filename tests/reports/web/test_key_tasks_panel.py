"""Issue 15, Priority, on 挂图作战: the 重点任务 panel counts the key tasks in the reader's
scope by status and light, lists the most pressing open ones (highest priority, then earliest
deadline; capped) and links to the task list filtered to them, keeping the drill-down."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.tracker.factories import TaskEventFactory, TaskFactory
from tracker.figures.key_tasks import key_task_panel
from tracker.models import TaskAction, TaskPriority, TaskStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def key_ledger(town, bureau):
    today = timezone.localdate()
    return {
        "late": TaskFactory(lead_unit=town, title="逾期重点", is_key=True,
                            priority=TaskPriority.HIGH, status=TaskStatus.IN_PROGRESS,
                            deadline=today - dt.timedelta(days=3)),
        "urgent": TaskFactory(lead_unit=bureau, title="紧急重点", is_key=True,
                              priority=TaskPriority.URGENT,
                              deadline=today + dt.timedelta(days=60)),
        "soon": TaskFactory(lead_unit=town, title="临期重点", is_key=True,
                            priority=TaskPriority.HIGH, deadline=today),
        "done": TaskFactory(lead_unit=town, title="已销号重点", is_key=True,
                            status=TaskStatus.COMPLETED),
        "plain": TaskFactory(lead_unit=town, title="普通逾期", status=TaskStatus.IN_PROGRESS,
                             deadline=today - dt.timedelta(days=3)),
    }


def test_the_panel_counts_by_status_and_light_and_orders_the_most_pressing(chief, key_ledger):
    today = timezone.localdate()
    panel = key_task_panel(user=chief, today=today)
    assert panel.total == 4
    assert (panel.overdue, panel.due_soon, panel.open) == (1, 1, 3)
    assert panel.by_status["completed"] == 1
    assert panel.by_status["in_progress"] == 1
    assert [task.title for task, _ in panel.pressing] == ["紧急重点", "逾期重点", "临期重点"]
    assert [state.light for _, state in panel.pressing] == ["green", "red", "yellow"]
    assert len(key_task_panel(user=chief, today=today, shown=2).pressing) == 2


def test_a_county_supervisor_sees_only_the_county_key_tasks(sam, key_ledger):
    panel = key_task_panel(user=sam, today=timezone.localdate())
    assert panel.total == 3
    assert [task.title for task, _ in panel.pressing] == ["逾期重点", "临期重点"]


def test_the_dashboard_shows_the_panel_linked_to_the_filtered_list(chief, key_ledger, county):
    client = Client()
    client.force_login(chief)
    html = client.get("/dashboard/").content.decode()
    panel = html.split('id="key-tasks"')[1].split('id="overdue"')[0]
    assert "重点任务（4项）" in panel
    assert panel.count('class="key-task-row"') == 3
    assert panel.index("紧急重点") < panel.index("逾期重点") < panel.index("临期重点")
    assert "已销号重点" not in panel
    assert "普通逾期" not in panel
    assert 'href="/tasks/?is_key=true"' in panel
    drilled = client.get("/dashboard/", {"unit": county.pk}).content.decode()
    assert f"/tasks/?is_key=true&amp;lead_unit={county.pk}" in drilled
    assert "重点任务（3项）" in drilled


# --- 重点任务 only, in the figures ----------------------------------------------------------


def test_the_dashboard_filtered_to_key_tasks_counts_and_lists_only_them(chief, key_ledger):
    client = Client()
    client.force_login(chief)
    everything = client.get("/dashboard/").content.decode()
    keyed = client.get("/dashboard/", {"is_key": "on"}).content.decode()
    overdue_all = everything.split('id="overdue"')[1]
    overdue_key = keyed.split('id="overdue"')[1]
    assert "普通逾期" in overdue_all
    assert "普通逾期" not in overdue_key
    assert "逾期重点" in overdue_key
    assert 'href="/tasks/?status=overdue&amp;is_key=true"' in overdue_key
    assert 'name="is_key" class="form-check-input" id="id_is_key" checked' in keyed


def test_the_rollups_and_the_trend_filtered_to_key_tasks_equal_a_count_of_them(
    chief, key_ledger
):
    for task in key_ledger.values():
        TaskEventFactory(task=task, actor=None, action=TaskAction.CREATE, from_status="",
                         to_status=task.status, at=timezone.now() - dt.timedelta(days=1))
    client = APIClient()
    client.force_authenticate(chief)
    keyed = client.get("/api/v1/rollups/", {"is_key": "true"}).json()
    assert keyed["filters"]["is_key"] is True
    assert (keyed["total"]["total"], keyed["total"]["completed"],
            keyed["total"]["overdue"]) == (4, 1, 1)
    everything = client.get("/api/v1/rollups/").json()
    assert everything["filters"]["is_key"] is False
    assert (everything["total"]["total"], everything["total"]["overdue"]) == (5, 2)
    rows = client.get("/api/v1/rollups/", {"is_key": "true", "group_by": "inspection"}).json()
    assert sum(row["total"] for row in rows["rows"]) == 4
    keyed_trend = client.get("/api/v1/rollups/trend/", {"is_key": "true"}).json()["series"]
    all_trend = client.get("/api/v1/rollups/trend/").json()["series"]
    assert sum(point["created"] for point in keyed_trend) == 4
    assert sum(point["created"] for point in all_trend) == 5
