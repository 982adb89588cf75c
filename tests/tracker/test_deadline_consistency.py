"""Acceptance: one deadline clock. For a generated ledger, every task's light, overdue flag and
days-left wording are the same on the task list page, the task page, the API, the dashboard
row of its unit (the worst light of the unit's tasks), the reminder text and the Excel export.

"Today" is frozen at the clock's edge (django.utils.timezone.localdate) on Monday 12 October
2026: the National Day holiday ended on the 7th and Saturday the 10th was an adjusted working
day (调休), so deadlines around it are where working-day arithmetic goes wrong.
"""

import datetime as dt
import io
import re

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from tests.tracker.factories import ProblemFactory, TaskFactory, UnitFactory, UserFactory
from tests.tracker.reminders.conftest import at
from tracker.models import Notification, Role, Task, TaskStatus, TaskType
from tracker.reminders.services import reminders_sweep

pytestmark = pytest.mark.django_db
S = TaskStatus
D = dt.date
TODAY = D(2026, 10, 12)

# (unit, status, deadline): the units are chosen so that their worst lights differ.
LEDGER = [
    # 逾期: red in any unit that has one, however short the delay.
    ("甲局", S.IN_PROGRESS, D(2026, 9, 30)),  # just before the holiday: 4 working days late
    ("甲局", S.NOT_STARTED, D(2026, 10, 9)),  # Friday before the adjusted Saturday
    ("甲局", S.SUBMITTED, D(2026, 10, 10)),  # the adjusted Saturday: 1 working day late
    ("甲局", S.BASICALLY_COMPLETED, D(2026, 9, 1)),  # not closed, so still overdue
    ("甲局", S.COMPLETED, D(2026, 9, 1)),
    ("乙局", S.IN_PROGRESS, D(2026, 10, 11)),  # Sunday: 1 working day late
    ("乙局", S.IN_PROGRESS, D(2026, 10, 20)),
    ("乙局", S.LONG_TERM, D(2026, 9, 1)),
    # 黄: due within 3 working days, today included.
    ("丙局", S.IN_PROGRESS, TODAY),
    ("丙局", S.NOT_STARTED, D(2026, 10, 13)),
    ("丙局", S.SUBMITTED, D(2026, 10, 15)),  # 3 working days: the edge of the window
    ("丙局", S.IN_PROGRESS, D(2026, 10, 16)),  # 4 working days: green
    ("丙局", S.COMPLETED, D(2026, 10, 1)),
    ("丁局", S.IN_PROGRESS, D(2026, 10, 14)),
    ("丁局", S.LONG_TERM, D(2026, 10, 5)),
    # 绿: nothing overdue or due soon.
    ("戊局", S.IN_PROGRESS, D(2026, 10, 17)),  # Saturday after the 4th working day
    ("戊局", S.NOT_STARTED, D(2026, 10, 19)),
    ("戊局", S.IN_PROGRESS, D(2026, 10, 21)),  # 7 working days: the first reminder
    ("戊局", S.SUBMITTED, D(2026, 11, 30)),
    ("戊局", S.COMPLETED, D(2026, 8, 1)),
    ("戊局", S.BASICALLY_COMPLETED, D(2026, 12, 1)),
    ("戊局", S.LONG_TERM, None),
    ("己局", S.COMPLETED, D(2026, 10, 1)),  # only closed tasks: green, nothing lit
    ("己局", S.LONG_TERM, D(2026, 10, 1)),
]


@pytest.fixture
def frozen_today(monkeypatch):
    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return TODAY if value is None else real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)
    return TODAY


@pytest.fixture
def ledger(city, frozen_today, settings):
    settings.TRACKER_LIGHT_YELLOW_WITHIN_WORKDAYS = 3
    problem = ProblemFactory()
    units = {}
    tasks = []
    for index, (unit_name, status, deadline) in enumerate(LEDGER):
        if unit_name not in units:
            units[unit_name] = UnitFactory(name=unit_name, parent=city)
            UserFactory(username=f"officer{len(units)}", unit=units[unit_name],
                        role=Role.OFFICER)
        tasks.append(TaskFactory(
            problem=problem, lead_unit=units[unit_name], status=status, deadline=deadline,
            title=f"整改任务{index:02d}", responsible_person="", responsible_leader="",
            task_type=TaskType.LONG_TERM if deadline is None else TaskType.BY_DEADLINE,
        ))
    return units, tasks


def _task_list_page(client) -> dict[int, tuple[str, str]]:
    html = client.get("/tasks/").content.decode()
    rows = re.findall(
        r'<tr class="task-row" data-light="(\w+)">\s*<td><span class="text-nowrap">'
        r'<span class="light-dot light-\w+" title="[^"]*"></span><span[^>]*>([^<]+)</span>'
        # the 重点/priority badges (tracker/templates/web/_priority_badges.html) may precede
        r'</span>\s*</td>\s*<td>\s*(?:<span[^>]*>[^<]*</span>\s*)*<a class="task-title" '
        r'href="/tasks/(\d+)/">',
        html,
    )
    return {int(pk): (light, text) for light, text, pk in rows}


def _task_page(client, pk: int) -> tuple[str, str]:
    html = client.get(f"/tasks/{pk}/").content.decode()
    light, text = re.search(
        r'<span class="light-dot light-(\w+)" title="[^"]*"></span><span[^>]*>([^<]+)</span>',
        html,
    ).groups()
    return light, text


def _api(user) -> dict[int, dict]:
    client = APIClient()
    client.force_authenticate(user)
    items = client.get("/api/v1/tasks/", {"page_size": 200}).json()["results"]
    overdue = client.get("/api/v1/tasks/", {"page_size": 200, "overdue": "true"}).json()
    not_overdue = client.get("/api/v1/tasks/", {"page_size": 200, "overdue": "false"}).json()
    filtered = {t["id"]: True for t in overdue["results"]}
    filtered.update({t["id"]: False for t in not_overdue["results"]})
    return {
        t["id"]: {"light": t["light"], "text": t["days_left_text"],
                  "is_overdue": t["is_overdue"], "in_overdue_filter": filtered[t["id"]]}
        for t in items
    }


def _dashboard_unit_lights(client) -> dict[int, str]:
    html = client.get("/dashboard/").content.decode()
    return {
        int(pk): light
        for pk, light in re.findall(r'class="unit-row" data-unit="(\d+)" data-light="(\w+)"',
                                    html)
    }


def _excel(client) -> dict[str, tuple[str, str]]:
    sheet = load_workbook(io.BytesIO(client.get("/ledger/export/").content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[1]
    title, light, days = header.index("整改任务"), header.index("灯色"), header.index("时限提醒")
    return {row[title]: (row[light], row[days]) for row in rows[2:]}


def _reminders() -> dict[int, dict]:
    reminders_sweep(now=at(TODAY))
    items = {}
    for notification in Notification.objects.filter(recipient_user__isnull=False):
        for item in notification.items:
            items[item["task_id"]] = item
            # The text a person reads carries the same light and wording.
            assert f"【{item['level_label']}·{item['stage_label']}】{item['title']}" in (
                notification.body
            )
            assert f"（{item['remaining']}）" in notification.body
    return items


def test_every_face_shows_the_same_light_overdue_flag_and_wording(ledger, chief):
    units, tasks = ledger
    client = Client()
    client.force_login(chief)

    page = _task_list_page(client)
    assert set(page) == {task.pk for task in tasks}
    api = _api(chief)
    excel = _excel(client)
    reminders = _reminders()
    labels = {"red": "红灯", "yellow": "黄灯", "green": "绿灯", "none": "—"}

    for task in tasks:
        light, text = page[task.pk]
        overdue = light == "red"
        assert _task_page(client, task.pk) == (light, text), task.title
        assert api[task.pk] == {"light": light, "text": text, "is_overdue": overdue,
                                "in_overdue_filter": overdue}, task.title
        assert task.is_overdue_on(TODAY) is overdue
        assert Task.objects.overdue(TODAY).filter(pk=task.pk).exists() is overdue
        assert Task.objects.not_overdue(TODAY).filter(pk=task.pk).exists() is not overdue
        assert excel[task.title] == (labels[light], text)
        if task.pk in reminders:
            item = reminders[task.pk]
            assert (item["level"], item["level_label"], item["remaining"]) == (
                light, labels[light], text
            ), task.title

    # The dashboard row of each unit is the worst light of its tasks.
    dashboard = _dashboard_unit_lights(client)
    for unit in units.values():
        lights = {page[t.pk][0] for t in tasks if t.lead_unit_id == unit.pk}
        worst = next((c for c in ("red", "yellow") if c in lights), "green")
        assert dashboard[unit.pk] == worst, unit.name

    # The ledger covers every case, so the comparisons above mean something.
    assert {light for light, _ in page.values()} == {"red", "yellow", "green", "none"}
    assert set(dashboard.values()) == {"red", "yellow", "green"}
    assert {item["level"] for item in reminders.values()} == {"red", "yellow", "green"}


def test_the_days_around_the_holiday_read_as_the_calendar_says(ledger, chief):
    """Pinned answers for the deadlines that working-day arithmetic gets wrong."""
    _, tasks = ledger
    client = Client()
    client.force_login(chief)
    page = _task_list_page(client)
    by_deadline = {(t.deadline, t.status): page[t.pk] for t in tasks}
    assert by_deadline[(D(2026, 9, 30), S.IN_PROGRESS)] == ("red", "已逾期4个工作日")
    assert by_deadline[(D(2026, 10, 9), S.NOT_STARTED)] == ("red", "已逾期2个工作日")
    assert by_deadline[(D(2026, 10, 10), S.SUBMITTED)] == ("red", "已逾期1个工作日")
    assert by_deadline[(D(2026, 10, 11), S.IN_PROGRESS)] == ("red", "已逾期1个工作日")
    assert by_deadline[(TODAY, S.IN_PROGRESS)] == ("yellow", "今日到期")
    assert by_deadline[(D(2026, 10, 15), S.SUBMITTED)] == ("yellow", "剩余3个工作日")
    assert by_deadline[(D(2026, 10, 16), S.IN_PROGRESS)] == ("green", "剩余4个工作日")
    assert by_deadline[(D(2026, 10, 17), S.IN_PROGRESS)] == ("green", "剩余4个工作日")
    assert by_deadline[(D(2026, 9, 1), S.LONG_TERM)] == ("none", "长期坚持")


def test_a_task_one_working_day_overdue_is_red_on_the_list_and_its_unit_red_on_the_dashboard(
    city, chief, frozen_today
):
    """The reported disagreement: red on the task list while its unit was yellow on the
    dashboard (which then wanted more than 5 working days for red)."""
    unit = UnitFactory(name="庚局", parent=city)
    task = TaskFactory(lead_unit=unit, status=S.IN_PROGRESS, deadline=D(2026, 10, 10))
    client = Client()
    client.force_login(chief)
    assert _task_list_page(client)[task.pk] == ("red", "已逾期1个工作日")
    assert _dashboard_unit_lights(client)[unit.pk] == "red"
