"""新建任务 on the pages: a supervisor files a task under a problem they see, for units they
manage, through the same service as the API and the admin; an officer cannot; a refusal keeps
what was typed."""

import datetime as dt

import pytest

from tests.tracker.factories import ProblemFactory
from tracker.models import Task, TaskAction, TaskStatus

pytestmark = pytest.mark.django_db


def _data(problem, unit, **changes):
    return {
        "problem": problem.pk, "title": "规范公务接待管理", "measures": "修订接待管理办法。",
        "task_type": "by_deadline", "lead_unit": unit.pk, "responsible_leader": "王副局长",
        "responsible_person": "李科长", "deadline": "2027-03-31", **changes,
    }


def test_a_supervisor_creates_a_task_with_its_history(chief, chief_client, bureau, town):
    problem = ProblemFactory()
    page = chief_client.get("/tasks/new/")
    assert page.status_code == 200
    assert "新建整改任务" in page.content.decode()

    response = chief_client.post("/tasks/new/", {**_data(problem, bureau),
                                                 "supporting_units": [town.pk]})
    task = Task.objects.get(title="规范公务接待管理")
    assert response.status_code == 302
    assert response["Location"] == f"/tasks/{task.pk}/"
    assert (task.problem, task.inspection, task.lead_unit, task.deadline, task.status) == (
        problem, problem.inspection, bureau, dt.date(2027, 3, 31), TaskStatus.NOT_STARTED)
    assert list(task.supporting_units.all()) == [town]
    assert list(task.events.values_list("action", "actor")) == [(TaskAction.CREATE, chief.pk)]
    assert 'id="task-create"' in chief_client.get("/tasks/").content.decode()


def test_an_officer_can_neither_open_nor_post_the_page(alice_client, bureau):
    problem = ProblemFactory()
    assert alice_client.get("/tasks/new/").status_code == 403
    assert alice_client.post("/tasks/new/", _data(problem, bureau)).status_code == 403
    assert not Task.objects.exists()
    assert 'id="task-create"' not in alice_client.get("/tasks/").content.decode()


def test_a_district_supervisor_is_offered_only_the_district_units(sam_client, bureau, town):
    problem = ProblemFactory()
    offered = sam_client.get("/tasks/new/").context["form"].fields["lead_unit"].queryset
    assert town in offered
    assert bureau not in offered
    response = sam_client.post("/tasks/new/", _data(problem, bureau))
    assert response.status_code == 400
    assert "该单位不在您的管理范围内" in response.content.decode()
    assert not Task.objects.exists()


def test_a_refusal_by_the_service_keeps_what_was_typed(chief_client, bureau):
    problem = ProblemFactory()
    response = chief_client.post("/tasks/new/", _data(problem, bureau, deadline=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert "请填写完成时限" in page
    assert 'value="规范公务接待管理"' in page
    assert "修订接待管理办法。" in page
    assert not Task.objects.exists()
