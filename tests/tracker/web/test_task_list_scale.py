"""The task list at a province's scale (issue #13): 我的任务's order has an index behind it,
its page count stops a few pages ahead, the API renders each task in one pass with the same
keys and values as its declared fields, and a subtree supervisor's list issues the same
statements however many tasks there are."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework import serializers as drf_serializers

from tests.tracker.factories import TaskFactory, UnitFactory
from tracker import workdays
from tracker.api.serializers import TaskDetailSerializer, TaskSerializer
from tracker.models import Task, TaskStatus, TaskType
from tracker.selectors import task_list
from tracker.web.pagination import CappedPaginator
from tracker.web.selectors import task_list_for_page

pytestmark = pytest.mark.django_db


def task_titles(html: str) -> list[str]:
    return re.findall(r'class="task-title" href="[^"]+">([^<]+)</a>', html)


# --- 我的任务: the order has an index --------------------------------------------------------


@pytest.mark.postgres
def test_the_first_page_of_my_tasks_is_read_from_the_page_order_index(root_admin, bureau):
    """PostgreSQL uses an expression index only for exactly its expression: the page's order
    (tracker.models.page_rank, deadline, id) must be the index's. With sorting priced out the
    planner reads the first page from task_page_order; were the two expressions to drift
    apart, it would have to sort (and this fails)."""
    for _ in range(5):
        TaskFactory(lead_unit=bureau)
    sql, params = task_list_for_page(user=root_admin)[:50].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "task_page_order" in plan
    assert "Sort" not in plan


def test_my_tasks_order_is_unchanged_open_by_deadline_then_undated_then_closed(
    chief, bureau, today
):
    closed = TaskFactory(lead_unit=bureau, status=TaskStatus.COMPLETED,
                         deadline=today - dt.timedelta(days=30))
    undated = TaskFactory(lead_unit=bureau, task_type=TaskType.LONG_TERM, deadline=None)
    late = TaskFactory(lead_unit=bureau, status=TaskStatus.IN_PROGRESS,
                       deadline=today - dt.timedelta(days=3))
    soon = TaskFactory(lead_unit=bureau, deadline=today + dt.timedelta(days=3))
    long_term = TaskFactory(lead_unit=bureau, status=TaskStatus.LONG_TERM,
                            deadline=today + dt.timedelta(days=10))
    ids = list(task_list_for_page(user=chief).values_list("id", flat=True))
    assert ids == [late.pk, soon.pk, undated.pk, closed.pk, long_term.pk]


# --- 我的任务: a count that stops a few pages ahead -------------------------------------------


def test_a_short_list_is_counted_exactly(chief, bureau):
    for _ in range(7):
        TaskFactory(lead_unit=bureau)
    paginator = CappedPaginator(task_list_for_page(user=chief), 3, number="1", pages_ahead=2)
    page = paginator.get_page("1")
    assert paginator.exact
    assert (paginator.count, paginator.num_pages) == (7, 3)
    assert page.has_next()
    assert not page.has_previous()


def test_a_long_list_is_counted_only_past_the_window_and_still_pages_correctly(chief, bureau):
    for _ in range(12):
        TaskFactory(lead_unit=bureau)
    tasks = task_list_for_page(user=chief)
    everything = list(tasks.values_list("id", flat=True))
    paginator = CappedPaginator(tasks, 2, number="2", pages_ahead=1)
    page = paginator.get_page("2")
    # Pages 2 and 3 are in the window, one row past it says "more": at least 7 rows, 4 pages.
    assert not paginator.exact
    assert (paginator.count, paginator.num_pages) == (7, 4)
    assert [t.pk for t in page.object_list] == everything[2:4]
    assert page.has_previous()
    assert page.has_next()
    # The last page is always reachable: asked for, it is counted exactly.
    last = CappedPaginator(tasks, 2, number="6", pages_ahead=1)
    assert last.exact
    assert last.num_pages == 6
    assert [t.pk for t in last.get_page("6").object_list] == everything[10:12]
    # Past the end, or not a number: the last page, or the first.
    assert CappedPaginator(tasks, 2, number="99").get_page("99").number == 6
    assert CappedPaginator(tasks, 2, number="x").get_page("x").number == 1


def test_my_tasks_says_at_least_when_the_list_goes_on_past_the_window(
    alice_client, bureau, monkeypatch
):
    monkeypatch.setattr("tracker.web.pagination.PAGES_AHEAD", 0)
    monkeypatch.setattr("tracker.web.views.PAGE_SIZE", 2)
    for _ in range(5):
        TaskFactory(lead_unit=bureau)
    first = alice_client.get("/tasks/").content.decode()
    assert "至少3项" in first
    assert "至少2页" in first
    last = alice_client.get("/tasks/?page=3").content.decode()
    assert "共5项" in last
    assert "共3页" in last
    assert len(task_titles(last)) == 1


def test_my_tasks_rows_show_supporting_units_badges_and_who_acknowledged(
    alice_client, alice, bureau, county, today
):
    """The page prints its rows from row values (tracker.selectors.task_rows_page): each
    row still shows its supporting units in unit-tree order, its 重点/priority badges, its
    status, who signed for it and its progress."""
    helper = UnitFactory(name="区财政局", parent=county)
    supported = TaskFactory(lead_unit=bureau, title="有配合单位", supporting_units=[helper, county],
                            deadline=today + dt.timedelta(days=60), is_key=True, priority=4)
    signed = TaskFactory(lead_unit=bureau, title="已签收", deadline=today + dt.timedelta(days=61))
    Task.objects.filter(pk=signed.pk).update(acknowledged_by=alice, ack_requested_at=None,
                                              acknowledged_at=timezone.now(),
                                              progress_percent=30)
    html = alice_client.get("/tasks/").content.decode()
    assert task_titles(html) == ["有配合单位", "已签收"]
    first, second = html.split('class="task-row"')[1:3]
    assert f'href="/tasks/{supported.pk}/"' in first
    assert "配合：东湖区、区财政局" in first
    assert 'badge-key" title="重点任务">重点</span>' in first
    assert 'text-bg-danger me-1 badge-priority" title="优先级">紧急</span>' in first
    assert "配合：" not in second
    assert f">{alice.display_name}<br>" in second
    assert '<span class="percent">30%</span>' in second
    assert "text-bg-secondary\">未启动</span>" in second
    signed_at = timezone.localtime(Task.objects.get(pk=signed.pk).acknowledged_at)
    assert f'title="{signed_at:%Y-%m-%d %H:%M}"' in second
    assert f'<span class="text-muted">{signed_at:%Y-%m-%d}</span>' in second


def test_my_tasks_rows_escape_what_people_typed(alice_client, bureau, county, today):
    helper = UnitFactory(name="<i>配合</i>", parent=county)
    TaskFactory(lead_unit=bureau, title="标题<script>&", supporting_units=[helper])
    html = alice_client.get("/tasks/").content.decode()
    assert "标题&lt;script&gt;&amp;" in html
    assert "配合：&lt;i&gt;配合&lt;/i&gt;" in html
    assert "<script>&" not in html


# --- The API: one pass, the same answer --------------------------------------------------


def _generic(serializer, task) -> dict:
    """What DRF's field-by-field rendering gives for the declared fields."""
    return drf_serializers.ModelSerializer.to_representation(serializer, task)


def test_a_task_renders_as_its_declared_fields_would(chief, bureau, county, rf, today):
    helper = UnitFactory(name="区财政局", parent=county)
    tasks = [
        TaskFactory(lead_unit=bureau, supporting_units=[helper, county],
                    deadline=today - dt.timedelta(days=5), status=TaskStatus.IN_PROGRESS),
        TaskFactory(lead_unit=bureau, status=TaskStatus.LONG_TERM,
                    task_type=TaskType.LONG_TERM, deadline=None),
        TaskFactory(lead_unit=bureau, deadline=today + dt.timedelta(days=2)),
        TaskFactory(lead_unit=bureau, status=TaskStatus.COMPLETED),  # closed_at, completed_at
        TaskFactory(lead_unit=bureau, ack_requested_at=timezone.now()),  # 待签收
    ]
    Task.objects.filter(pk=tasks[0].pk).update(progress_percent=40,
                                                started_at=timezone.now())
    # 签收 by a named person (the others: acknowledged by nobody named, or awaiting).
    Task.objects.filter(pk=tasks[2].pk).update(acknowledged_by=chief,
                                                acknowledged_at=timezone.now())
    request = rf.get("/api/v1/tasks/")
    request.user = chief
    context = {"request": request, "today": today}
    rows = list(task_list(user=chief).order_by("id"))
    assert len(rows) == 5
    assert rows[3].closed_at is not None
    for task in rows:
        listed = TaskSerializer(context=context)
        detailed = TaskDetailSerializer(context=context)
        assert listed.to_representation(task) == _generic(listed, task)
        assert detailed.to_representation(task) == _generic(detailed, task)
        assert list(listed.to_representation(task)) == list(_generic(listed, task))
    first = TaskSerializer(rows[0], context=context).data
    assert {u["name"] for u in first["supporting_units"]} == {"区财政局", "东湖区"}
    assert first["light"] == "red"
    assert first["is_overdue"] is True
    assert first["progress_percent"] == 40
    assert first["started_at"].endswith("+08:00")
    acknowledged = TaskSerializer(rows[2], context=context).data
    assert acknowledged["acknowledged_by"] == chief.display_name
    assert acknowledged["awaiting_ack"] is False
    assert TaskSerializer(rows[4], context=context).data["awaiting_ack"] is True


def test_the_api_list_renders_each_task_as_the_task_serializer_does(
    chief, bureau, county, client_for, today
):
    """The list renders its page from plain row values (tracker.selectors.task_rows), not
    model instances: every task comes out with the keys, order and values TaskSerializer
    gives the same task (lights, dates, nested objects, supporting units, 签收)."""
    helper = UnitFactory(name="区财政局", parent=county)
    tasks = [
        TaskFactory(lead_unit=bureau, supporting_units=[helper, county],
                    deadline=today - dt.timedelta(days=5), status=TaskStatus.IN_PROGRESS),
        TaskFactory(lead_unit=bureau, status=TaskStatus.LONG_TERM,
                    task_type=TaskType.LONG_TERM, deadline=None, is_key=True, priority=4),
        TaskFactory(lead_unit=bureau, deadline=today + dt.timedelta(days=2), priority=3),
        TaskFactory(lead_unit=bureau, status=TaskStatus.COMPLETED),
        TaskFactory(lead_unit=bureau, ack_requested_at=timezone.now()),
    ]
    Task.objects.filter(pk=tasks[0].pk).update(progress_percent=40, started_at=timezone.now())
    Task.objects.filter(pk=tasks[2].pk).update(acknowledged_by=chief,
                                                acknowledged_at=timezone.now())
    context = {"today": today}
    expected = [TaskSerializer(task, context=context).data
                for task in task_list(user=chief).order_by("-id")]
    for ordering in ("", "?ordering=deadline", "?ordering=-status"):
        listed = client_for(chief).get(f"/api/v1/tasks/{ordering}").json()["results"]
        by_id = {row["id"]: row for row in expected}
        assert [list(row) for row in listed] == [list(by_id[row["id"]]) for row in listed]
        assert listed == [by_id[row["id"]] for row in listed]
        assert {row["id"] for row in listed} == set(by_id)
    assert [u["name"] for u in by_id[tasks[0].pk]["supporting_units"]] == ["东湖区", "区财政局"]
    assert by_id[tasks[2].pk]["acknowledged_by"] == chief.display_name
    assert by_id[tasks[4].pk]["awaiting_ack"] is True


# --- The same statements at any size -----------------------------------------------------


@pytest.mark.parametrize("count", [4, 40])
def test_a_subtree_supervisors_task_list_api_issues_the_same_statements_at_any_size(
    count, client_for, sam, town, county, django_assert_num_queries
):
    """The district supervisor's list made 6 statements at 2,000 tasks and 5 at 10,000 in
    the bench: the working-day calendar re-reads its generation (one statement) at most every
    WORKDAY_CALENDAR_RECHECK_SECONDS, in whichever request comes next, whatever the size.
    With the calendar fresh the list is: (1) the page of tasks, lead unit, problem and
    inspection joined, the subtree a subquery, the supporting units a JSON column."""
    helper = UnitFactory(name="区民政局", parent=county)
    for _ in range(count):
        TaskFactory(lead_unit=town, supporting_units=[helper])
    client = client_for(sam)
    workdays.is_workday(timezone.localdate())
    with django_assert_num_queries(1):
        body = client.get("/api/v1/tasks/").json()
    assert len(body["results"]) == count


@pytest.mark.parametrize("count", [4, 60])
def test_a_subtree_supervisors_task_page_issues_the_same_statements_at_any_size(
    count, client, sam, town, django_assert_num_queries
):
    """session, user with their unit (config/auth.py), the capped count, the page of
    tasks with their supporting units, inspections for the filter, saved filters, unread
    messages."""
    for _ in range(count):
        TaskFactory(lead_unit=town)
    client.force_login(sam)
    workdays.is_workday(timezone.localdate())
    with django_assert_num_queries(7):
        response = client.get("/tasks/")
    assert response.status_code == 200
    assert len(task_titles(response.content.decode())) == min(count, 50)
