"""Issue 15, Priority, in the demo: key tasks overdue and on time, each priority, marked by the
supervisor through the service (history 调整优先级), shown on the dashboard; loaded once."""

import datetime as dt

import pytest
from django.test import Client

from tracker import deadlines
from tracker.demo.loader import load_demo
from tracker.models import Task, TaskAction, TaskEvent, TaskPriority, User

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 24)


def test_the_demo_shows_key_tasks_of_every_priority_once():
    summary = load_demo(today=TODAY)
    key = Task.objects.filter(is_key=True)
    assert summary.key_tasks_marked == key.count() == 5
    assert sorted(key.values_list("priority", flat=True)) == [1, 1, 2, 3, 4]
    assert set(Task.objects.values_list("priority", flat=True)) == set(TaskPriority.values)
    assert key.filter(deadlines.overdue_q(TODAY)).count() == 2
    assert key.filter(deadlines.has_light_q(), deadlines.not_overdue_q(TODAY)).count() == 2
    marked = TaskEvent.objects.filter(action=TaskAction.SET_PRIORITY, task__is_key=True)
    assert marked.count() == 5
    assert {e.actor.username for e in marked} == {"zgb"}
    assert load_demo(today=TODAY + dt.timedelta(days=3)).key_tasks_marked == 0
    assert Task.objects.filter(is_key=True).count() == 5


def test_the_demo_dashboard_lists_the_key_tasks():
    load_demo(today=TODAY)
    client = Client()
    client.force_login(User.objects.get(username="zgb"))
    html = client.get("/dashboard/").content.decode()
    assert "重点任务（5项）" in html
    assert html.count('class="key-task-row"') >= 1
