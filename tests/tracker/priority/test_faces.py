"""Issue 15, Priority, on every face: the one FilterSet (我的任务, API, ledger export), saved
filters, the API's fields and set-priority action, the task page's form and badges, 新建任务,
and the admin's scoped batch action. Each change goes through tracker.services.priority."""

import io
import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework import serializers as drf_serializers

from tests.tracker.factories import TaskFactory
from tracker.api.serializers import TaskSerializer
from tracker.models import SavedFilter, Task, TaskAction, TaskEvent, TaskPriority
from tracker.selectors import task_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks(town, bureau):
    """Two key tasks (紧急 in the county, 较高 in the bureau) and two ordinary ones."""
    return {
        "urgent": TaskFactory(lead_unit=town, title="重点紧急任务", is_key=True,
                              priority=TaskPriority.URGENT),
        "key": TaskFactory(lead_unit=bureau, title="重点较高任务", is_key=True,
                           priority=TaskPriority.ELEVATED),
        "high": TaskFactory(lead_unit=town, title="高优先级一般任务", priority=TaskPriority.HIGH),
        "plain": TaskFactory(lead_unit=bureau, title="普通任务"),
    }


def _titles(html: str) -> set[str]:
    return set(re.findall(r'class="task-title"[^>]*>([^<]+)<', html))


# --- The one FilterSet: page, API, export, saved filters --------------------------------


def test_the_selector_filters_by_key_and_priority(chief, tasks):
    assert {t.title for t in task_list(user=chief, filters={"is_key": "true"})} == {
        "重点紧急任务", "重点较高任务"}
    assert {t.title for t in task_list(user=chief, filters={"is_key": "false"})} == {
        "高优先级一般任务", "普通任务"}
    assert {t.title for t in task_list(user=chief, filters={"priority": ["4", "3"]})} == {
        "重点紧急任务", "高优先级一般任务"}


def test_the_task_list_page_filters_and_shows_the_badges(client, chief, tasks):
    client.force_login(chief)
    html = client.get("/tasks/", {"is_key": "true"}).content.decode()
    assert _titles(html) == {"重点紧急任务", "重点较高任务"}
    assert html.count('badge-key') == 2
    assert '>紧急</span>' in html
    assert '>较高</span>' in html
    urgent = client.get("/tasks/", {"priority": 4}).content.decode()
    assert _titles(urgent) == {"重点紧急任务"}
    bad = client.get("/tasks/", {"priority": 9})
    assert bad.status_code == 200
    assert "选择一个有效的选项" in bad.content.decode()


def test_an_officer_filters_only_within_what_they_see(client, alice, tasks):
    client.force_login(alice)  # the bureau's officer: the county's key task is not hers
    html = client.get("/tasks/", {"is_key": "true"}).content.decode()
    assert _titles(html) == {"重点较高任务"}


def test_the_api_filters_renders_and_documents_both_fields(client_for, chief, tasks):
    api = client_for(chief)
    listed = api.get("/api/v1/tasks/", {"is_key": "true", "priority": 4}).json()["results"]
    assert [(t["title"], t["is_key"], t["priority"], t["priority_display"]) for t in listed] == [
        ("重点紧急任务", True, 4, "紧急")]
    wrong = api.get("/api/v1/tasks/", {"priority": "紧急"})
    assert wrong.status_code == 400
    assert "priority" in wrong.json()["fields"]
    schema = api.get("/api/schema/", {"format": "json"}).json()
    names = {p["name"] for p in schema["paths"]["/api/v1/tasks/"]["get"]["parameters"]}
    assert {"is_key", "priority"} <= names
    assert "/api/v1/tasks/{id}/set-priority/" in schema["paths"]


def test_a_key_task_renders_as_its_declared_fields_would(chief, tasks, rf):
    request = rf.get("/api/v1/tasks/")
    request.user = chief
    serializer = TaskSerializer(context={"request": request})
    for task in task_list(user=chief):
        fast = serializer.to_representation(task)
        assert fast == drf_serializers.ModelSerializer.to_representation(serializer, task)
        assert {"is_key", "priority", "priority_display"} <= set(fast)


def test_the_list_costs_the_same_queries_with_two_or_six_key_tasks(client_for, chief, town):
    api = client_for(chief)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/v1/tasks/", {"is_key": "true"}).status_code == 200
        return len(queries)

    TaskFactory.create_batch(2, lead_unit=town, is_key=True, priority=TaskPriority.HIGH)
    small = count()
    TaskFactory.create_batch(4, lead_unit=town, is_key=True, priority=TaskPriority.URGENT)
    assert count() == small


def test_the_ledger_export_keeps_the_filter_and_writes_both_columns(client, chief, tasks):
    client.force_login(chief)
    response = client.get("/ledger/export/", {"is_key": "true"})
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in ws[2]]
    title, key, priority = (header.index(n) for n in ("整改任务", "重点任务", "优先级"))
    rows = {r[title].value: (r[key].value, r[priority].value) for r in ws.iter_rows(min_row=3)}
    assert rows == {"重点紧急任务": ("是", "紧急"), "重点较高任务": ("是", "较高")}


def test_a_saved_filter_keeps_key_and_priority(client, chief, tasks):
    client.force_login(chief)
    client.post("/tasks/saved-filters/", {"name": "重点紧急",
                                          "query": "is_key=true&priority=4&page=2"})
    saved = SavedFilter.objects.get(user=chief)
    assert saved.query == "is_key=true&priority=4"
    assert _titles(client.get(f"/tasks/?{saved.query}").content.decode()) == {"重点紧急任务"}


# --- Setting it: task page, API, 新建任务 -------------------------------------------------


def test_the_task_page_offers_the_form_to_the_supervisor_only(client, sam, bob, tasks):
    task = tasks["high"]
    client.force_login(bob)
    html = client.get(f"/tasks/{task.pk}/").content.decode()
    assert 'id="priority-form"' not in html
    assert "高优先级一般任务" in html
    refused = client.post(f"/tasks/{task.pk}/set-priority/", {
        "priority-version": task.version, "priority-is_key": "on", "priority-priority": 4})
    assert refused.status_code == 403
    client.force_login(sam)
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert 'id="priority-form"' in page
    assert 'id="task-priority">高<' in page
    done = client.post(f"/tasks/{task.pk}/set-priority/", {
        "priority-version": task.version, "priority-is_key": "on", "priority-priority": 4,
        "priority-note": "列为重点"})
    assert done.status_code == 302
    task.refresh_from_db()
    assert (task.is_key, task.priority) == (True, TaskPriority.URGENT)
    shown = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "设为重点任务；优先级：高 → 紧急" in shown
    assert "badge-key" in shown
    assert 'id="task-is-key">是<' in shown


def test_a_stale_page_form_is_refused_and_keeps_what_was_chosen(client, sam, tasks):
    task = tasks["high"]
    client.force_login(sam)
    response = client.post(f"/tasks/{task.pk}/set-priority/", {
        "priority-version": task.version + 5, "priority-is_key": "on", "priority-priority": 4})
    assert response.status_code == 409
    assert "请刷新后再操作" in response.content.decode()
    task.refresh_from_db()
    assert (task.is_key, task.priority) == (False, TaskPriority.HIGH)


def test_the_api_action_sets_checks_the_version_and_refuses_bad_input(client_for, sam, tasks):
    task = tasks["high"]
    api = client_for(sam)
    url = f"/api/v1/tasks/{task.pk}/set-priority/"
    assert api.post(url, {"is_key": True}, format="json").status_code == 428
    empty = api.post(url, {"version": task.version}, format="json")
    assert empty.status_code == 400
    assert "至少填写" in str(empty.json())
    bad = api.post(url, {"version": task.version, "priority": 7}, format="json")
    assert bad.status_code == 400
    assert "priority" in bad.json()["fields"]
    stale = api.post(url, {"version": task.version + 1, "is_key": True}, format="json")
    assert stale.status_code == 409
    done = api.post(url, {"version": task.version, "is_key": True, "note": "挂牌"},
                    format="json")
    assert done.status_code == 200
    assert (done.json()["is_key"], done.json()["priority"]) == (True, 3)
    assert done["ETag"] == f'"{task.version + 1}"'
    history = api.get(f"/api/v1/tasks/{task.pk}/history/").json()["results"]
    assert history[-1]["action"] == "set_priority"
    assert "set_priority" in api.get(f"/api/v1/tasks/{task.pk}/").json()["allowed_actions"]


def test_api_and_page_creation_may_set_both(client_for, client, sam, town):
    problem = TaskFactory(lead_unit=town).problem  # a problem sam sees
    created = client_for(sam).post("/api/v1/tasks/", {
        "problem": problem.pk, "title": "API重点任务", "lead_unit": town.pk,
        "deadline": "2027-06-30", "is_key": True, "priority": 3}, format="json")
    assert created.status_code == 201, created.json()
    assert (created.json()["is_key"], created.json()["priority"]) == (True, 3)
    client.force_login(sam)
    page = client.post("/tasks/new/", {
        "problem": problem.pk, "title": "页面重点任务", "task_type": "by_deadline",
        "lead_unit": town.pk, "deadline": "2027-06-30", "is_key": "on", "priority": 4})
    assert page.status_code == 302
    task = Task.objects.get(title="页面重点任务")
    assert (task.is_key, task.priority) == (True, TaskPriority.URGENT)


# --- The admin: filters and the scoped batch action ---------------------------------------


def test_the_admin_batch_action_marks_only_the_tasks_the_supervisor_manages(
    client, sam, town, bureau
):
    mine = TaskFactory(lead_unit=town, title="本区任务")
    supported = TaskFactory(lead_unit=bureau, title="配合任务", supporting_units=[town])
    outside = TaskFactory(lead_unit=bureau, title="他人任务")
    client.force_login(sam)
    response = client.post(reverse("admin:tracker_task_changelist"), {
        "action": "mark_key_selected", "index": 0,
        "_selected_action": [mine.pk, supported.pk, outside.pk],
    }, follow=True)
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert "已设为重点任务1条" in said, said
    assert any("配合任务" in m and "无权" in m for m in said), said
    assert list(Task.objects.filter(is_key=True)) == [mine]
    event = TaskEvent.objects.get(action=TaskAction.SET_PRIORITY)
    assert (event.task, event.actor, event.note) == (mine, sam, "后台批量设为重点任务")
    listed = client.get(reverse("admin:tracker_task_changelist"), {"is_key__exact": "1"})
    assert list(listed.context["cl"].queryset) == [mine]
    client.post(reverse("admin:tracker_task_changelist"), {
        "action": "unmark_key_selected", "index": 0, "_selected_action": [mine.pk]})
    assert not Task.objects.filter(is_key=True).exists()
    assert TaskEvent.objects.filter(action=TaskAction.SET_PRIORITY).count() == 2
