"""签收 on every face: the API action and fields, the 签收状态 filter, the task page's button
and badge, the task list's column (constant queries), the Excel ledger's read-only column."""

import datetime as dt
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from tests.tracker.factories import ProblemFactory, TaskFactory, UserFactory
from tracker import workdays
from tracker.models import Role, Task, TaskAction
from tracker.services import tasks as svc
from tracker.services.ledger import ledger_export

pytestmark = pytest.mark.django_db


def _new_task(chief, unit, title="规范公务接待"):
    return svc.task_create(problem=ProblemFactory(), actor=chief, title=title, lead_unit=unit,
                           deadline=dt.date(2027, 6, 30))


def test_api_officer_acknowledges_and_the_task_shows_who_and_when(client_for, town, bob, sam,
                                                                    chief):
    task = _new_task(chief, town)
    detail = client_for(bob).get(f"/api/v1/tasks/{task.pk}/").json()
    assert detail["awaiting_ack"] is True
    assert detail["acknowledged_by"] is None
    assert detail["allowed_actions"][0] == "acknowledge"
    assert "acknowledge" not in client_for(sam).get(f"/api/v1/tasks/{task.pk}/").json()[
        "allowed_actions"]

    response = client_for(bob).post(f"/api/v1/tasks/{task.pk}/acknowledge/",
                                    {"version": task.version}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["awaiting_ack"] is False
    assert body["ack_requested_at"] is None
    assert body["acknowledged_by"] == bob.display_name
    assert body["acknowledged_at"].endswith("+08:00")
    assert "acknowledge" not in body["allowed_actions"]

    again = client_for(bob).post(f"/api/v1/tasks/{task.pk}/acknowledge/",
                                 {"version": body["version"]}, format="json")
    assert again.status_code == 409
    assert "无需重复签收" in again.json()["detail"]
    assert task.events.filter(action=TaskAction.ACKNOWLEDGE).count() == 1


def test_api_a_supervisor_is_refused_in_chinese_and_nothing_changes(client_for, town, sam,
                                                                     chief):
    task = _new_task(chief, town)
    response = client_for(sam).post(f"/api/v1/tasks/{task.pk}/acknowledge/",
                                    {"version": task.version}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "您没有执行该操作的权限"
    assert Task.objects.get(pk=task.pk).awaiting_ack


def test_the_ack_filter_means_the_same_on_the_api_and_the_page(client_for, town, bob, chief):
    waiting = _new_task(chief, town, "待签收的任务")
    done = _new_task(chief, town, "已签收的任务")
    svc.task_acknowledge(task=done, actor=bob)
    api = client_for(bob)
    assert [t["id"] for t in api.get("/api/v1/tasks/?ack=awaiting").json()["results"]] == [
        waiting.pk]
    assert [t["id"] for t in api.get("/api/v1/tasks/?ack=acknowledged").json()["results"]] \
        == [done.pk]
    assert api.get("/api/v1/tasks/?ack=maybe").status_code == 400

    page = Client()
    page.force_login(bob)
    html = page.get("/tasks/?ack=awaiting").content.decode()
    assert "待签收的任务" in html
    assert "已签收的任务" not in html
    html = page.get("/tasks/?ack=acknowledged").content.decode()
    assert "已签收的任务" in html
    assert "待签收的任务" not in html


def test_task_page_offers_the_button_to_the_officer_and_shows_who_acknowledged(town, bob,
                                                                               sam, chief):
    task = _new_task(chief, town)
    supervisor = Client()
    supervisor.force_login(sam)
    html = supervisor.get(f"/tasks/{task.pk}/").content.decode()
    assert "待签收" in html
    assert 'id="acknowledge-form"' not in html

    officer = Client()
    officer.force_login(bob)
    html = officer.get(f"/tasks/{task.pk}/").content.decode()
    assert 'id="acknowledge-form"' in html

    response = officer.post(f"/tasks/{task.pk}/acknowledge/",
                            {"acknowledge-version": task.version, "acknowledge-note": ""})
    assert response.status_code == 302
    html = officer.get(f"/tasks/{task.pk}/").content.decode()
    assert "已签收" in html
    assert bob.display_name in html
    assert 'id="acknowledge-form"' not in html

    stale = officer.post(f"/tasks/{task.pk}/acknowledge/",
                         {"acknowledge-version": task.version, "acknowledge-note": ""})
    assert stale.status_code == 409
    assert "无需重复签收" in stale.content.decode()


def _list_queries(client) -> int:
    client.get("/tasks/")  # the filter's options read once (then cached): rows alone differ
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/tasks/")
    assert response.status_code == 200
    return len(queries)


def test_the_task_list_with_the_ack_column_costs_the_same_queries_for_2_or_6_tasks(
    town, sam, chief
):
    """Each task acknowledged by a different officer: the names come with the page's one
    query (joined), not one query per row."""
    page = Client()
    page.force_login(sam)

    def add(n):
        for _i in range(n):
            officer = UserFactory(unit=town, role=Role.OFFICER)
            task = TaskFactory(lead_unit=town)
            Task.objects.filter(pk=task.pk).update(acknowledged_by=officer,
                                                   acknowledged_at=timezone.now())

    workdays.is_workday(timezone.localdate())
    add(2)
    two = _list_queries(page)
    add(4)
    six = _list_queries(page)
    assert six == two
    html = page.get("/tasks/").content.decode()
    assert html.count('class="cell-ack"') == 6


def test_the_ledger_export_has_a_read_only_ack_column(town, bob, chief):
    waiting = _new_task(chief, town, "甲任务")
    done = _new_task(chief, town, "乙任务")
    svc.task_acknowledge(task=done, actor=bob)
    done.refresh_from_db()
    ws = load_workbook(io.BytesIO(ledger_export(tasks=Task.objects.all()))).active
    header = [c.value for c in ws[2]]
    title, ack = header.index("整改任务"), header.index("签收情况")
    cells = {row[title].value: row[ack].value for row in ws.iter_rows(min_row=3)}
    when = timezone.localtime(done.acknowledged_at)
    assert cells == {"甲任务": "待签收",
                     "乙任务": f"{bob.display_name} {when:%Y-%m-%d %H:%M}签收"}
    assert waiting.awaiting_ack
