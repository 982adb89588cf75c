"""The deadline clock (tracker/deadlines.py): overdue, due soon, the task light, the group light,
the days-left wording and the reminder stages' lights, each decided once."""

import datetime as dt
import io
import itertools

import pytest
from django.template.loader import render_to_string
from docx import Document

from tests.tracker.factories import ProblemFactory, TaskFactory
from tests.tracker.reminders.conftest import at
from tracker import deadlines
from tracker.models import Notification, Task, TaskStatus
from tracker.reminders.rules import build_stages
from tracker.reminders.services import configured_stages, reminders_sweep
from tracker.services import tasks as task_services

S = TaskStatus
D = dt.date
MONDAY = D(2026, 10, 12)  # after National Day; Saturday the 10th was an adjusted working day


@pytest.fixture
def window(settings):
    settings.TRACKER_LIGHT_YELLOW_WITHIN_WORKDAYS = 3
    return 3


@pytest.mark.parametrize(
    ("status", "deadline", "light", "text"),
    [
        (S.IN_PROGRESS, D(2026, 9, 30), "red", "已逾期4个工作日"),  # before the holiday
        (S.IN_PROGRESS, D(2026, 10, 10), "red", "已逾期1个工作日"),  # the adjusted Saturday
        (S.BASICALLY_COMPLETED, D(2026, 10, 9), "red", "已逾期2个工作日"),  # not closed
        (S.SUBMITTED, MONDAY, "yellow", "今日到期"),
        (S.NOT_STARTED, D(2026, 10, 15), "yellow", "剩余3个工作日"),
        (S.NOT_STARTED, D(2026, 10, 16), "green", "剩余4个工作日"),
        (S.COMPLETED, D(2026, 9, 1), "none", "已销号"),
        (S.LONG_TERM, D(2026, 9, 1), "none", "长期坚持"),
        (S.IN_PROGRESS, None, "none", "无完成时限"),
    ],
)
def test_task_light_and_wording(window, status, deadline, light, text):
    state = deadlines.deadline_state(status=status, deadline=deadline, today=MONDAY)
    assert (state.light, state.text) == (light, text)
    assert state.overdue is deadlines.is_overdue(status, deadline, MONDAY) is (light == "red")


def test_a_weekend_deadline_after_the_last_yellow_working_day_is_yellow(window):
    """Wednesday + 3 working days is Monday: the Saturday and Sunday before it have 2 working
    days left and are yellow; the Monday (3 left) is the last yellow day."""
    wednesday = D(2026, 11, 18)
    assert deadlines.due_soon_until(wednesday) == D(2026, 11, 23)
    assert deadlines.task_light(S.IN_PROGRESS, D(2026, 11, 22), wednesday) == "yellow"
    assert deadlines.days_left_text(S.IN_PROGRESS, D(2026, 11, 22), wednesday) == "剩余2个工作日"
    assert deadlines.task_light(S.IN_PROGRESS, D(2026, 11, 24), wednesday) == "green"


def test_no_working_day_left_or_passed_reads_as_less_than_one():
    saturday, sunday = D(2026, 11, 21), D(2026, 11, 22)
    assert deadlines.days_left_text(S.IN_PROGRESS, sunday, saturday) == "剩余不足1个工作日"
    assert deadlines.days_left_text(S.IN_PROGRESS, saturday, sunday) == "已逾期不足1个工作日"
    assert deadlines.task_light(S.IN_PROGRESS, saturday, sunday) == "red"


def test_a_group_takes_the_worst_light_of_its_tasks():
    assert deadlines.aggregate_light(["green", "yellow", "red", "none"]) == "red"
    assert deadlines.aggregate_light(["green", "yellow", "none"]) == "yellow"
    assert deadlines.aggregate_light(["none", "green"]) == "green"
    assert deadlines.aggregate_light([]) == "green"


@pytest.mark.django_db
def test_the_queries_select_exactly_the_tasks_the_functions_light(window):
    """overdue_q, not_overdue_q and due_soon_q against the pure functions, over every status
    and every deadline from three weeks before to three weeks after a day."""
    today = D(2026, 10, 9)  # Friday before the adjusted Saturday
    problem = ProblemFactory()
    days = [today + dt.timedelta(days=n) for n in range(-21, 22)] + [None]
    for status, deadline in itertools.product(S.values, days):
        if deadline is None and status != S.LONG_TERM:
            continue
        TaskFactory(problem=problem, status=status, deadline=deadline,
                    task_type="long_term" if deadline is None else "by_deadline")
    tasks = list(Task.objects.all())

    def ids(q):
        return set(Task.objects.filter(q).values_list("pk", flat=True))

    assert ids(deadlines.overdue_q(today)) == {
        t.pk for t in tasks if deadlines.task_light(t.status, t.deadline, today) == "red"
    }
    assert ids(deadlines.not_overdue_q(today)) == {
        t.pk for t in tasks if deadlines.task_light(t.status, t.deadline, today) != "red"
    }
    assert ids(deadlines.due_soon_q(today)) == {
        t.pk for t in tasks if deadlines.task_light(t.status, t.deadline, today) == "yellow"
    }


def test_reminder_stages_take_their_light_from_the_yellow_window(settings):
    """Before, the earliest notice was green and the later ones yellow whatever the lights'
    settings said; now a notice within the yellow window is yellow, as the task is that day."""
    settings.TRACKER_LIGHT_YELLOW_WITHIN_WORKDAYS = 3
    stages = build_stages(before=[7, 3, 0], escalate_after=5, escalate_again_after=5)
    assert [(s.code, s.level) for s in stages] == [
        ("before_7", "green"), ("before_3", "yellow"), ("due_today", "yellow"),
        ("overdue", "red"), ("escalation_1", "red"), ("escalation_2", "red"),
    ]
    settings.TRACKER_LIGHT_YELLOW_WITHIN_WORKDAYS = 7
    assert {s.code: s.level for s in configured_stages()}["before_7"] == "yellow"
    # No stage label states a number of days: the day a notice is read may differ.
    assert not any(char.isdigit() for s in stages for char in s.label)


@pytest.mark.django_db
def test_a_reminder_shows_the_light_and_days_left_of_the_day_it_is_written(window, bureau,
                                                                          alice):
    """The reported message "【黄灯·距完成时限3个工作日】…（还有2个工作日）": a task whose
    three-days notice fell due on Friday but is first swept on Monday is described as Monday
    sees it, in the one wording."""
    task = TaskFactory(lead_unit=bureau, status=S.IN_PROGRESS, deadline=D(2026, 11, 25),
                       responsible_person="")
    reminders_sweep(now=at(D(2026, 11, 23)))  # the notice's day was Friday the 20th
    body = Notification.objects.get(recipient_user=alice).body
    assert f"【黄灯·到期提醒】{task.title}" in body
    assert "剩余2个工作日" in body
    assert "距完成时限3个工作日" not in body
    assert "还有" not in body


@pytest.mark.django_db
def test_the_monthly_report_gives_each_overdue_task_its_working_days_late(chief, bureau):
    from django.test import Client

    # A past date reads the ledger back from the history: the task exists there from 10月1日.
    task = task_services.task_create(
        problem=ProblemFactory(), actor=chief, title="逾期的任务", lead_unit=bureau,
        deadline=D(2026, 10, 9),
        now=dt.datetime(2026, 10, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    )
    client = Client()
    client.force_login(chief)
    response = client.get(
        f"/reports/monthly/?inspection={task.inspection_id}&as_of=2026-10-12"
    )
    text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
    assert "逾期的任务（牵头单位：市教育局，完成时限：2026年10月9日，已逾期2个工作日）" in text


@pytest.mark.parametrize("days", [-3, 0, 2, 40, None])
def test_the_light_cell_written_in_python_is_the_templates(days):
    """light_cell_html (the rows of 我的任务 and 挂图作战) writes what _light.html writes."""
    today = dt.date(2026, 11, 24)
    state = deadlines.deadline_state(
        status=TaskStatus.IN_PROGRESS if days is not None else TaskStatus.LONG_TERM,
        deadline=None if days is None else today + dt.timedelta(days=days), today=today)
    assert deadlines.light_cell_html(state) + "\n" == render_to_string(
        "_light.html", {"state": state})
