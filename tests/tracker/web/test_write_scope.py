"""Regression tests for the write-scope findings: a supervisor manages a task through its lead
unit only, sets as supporting units only units they manage, imports only rows they may
create, and the pages' lists (review queue, unit filter) are the API's."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.tracker.factories import (
    DeadlineExtensionFactory,
    InspectionFactory,
    TaskFactory,
    UserFactory,
)
from tests.tracker.test_ledger_excel import HEADER, xlsx
from tests.tracker.web.conftest import logged_in
from tracker.errors import ActionForbidden
from tracker.models import Problem, Task, TaskStatus
from tracker.services import tasks as task_services

pytestmark = pytest.mark.django_db

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def city_task(bureau, county):
    """Closed, led by the city bureau; sam's county is only a supporting unit."""
    return TaskFactory(lead_unit=bureau, supporting_units=[county], status=TaskStatus.COMPLETED,
                       title="清理课后服务收费")


def test_district_supervisor_cannot_reopen_or_move_a_task_his_district_only_supports(
    sam, city_task, client_for
):
    """Finding: a district supervisor reopened closed tasks led by a city bureau and moved
    their deadlines to 2029. Both the page and the API refuse, and nothing changes."""
    page = logged_in(sam)
    html = page.get(f"/tasks/{city_task.pk}/").content.decode()
    assert 'id="reopen-form"' not in html
    assert 'id="edit-form"' not in html

    reopened = page.post(f"/tasks/{city_task.pk}/reopen/",
                         {"reopen-version": city_task.version, "reopen-note": "重新整改"})
    moved = client_for(sam).patch(f"/api/v1/tasks/{city_task.pk}/",
                                  {"deadline": "2029-12-31", "version": city_task.version},
                                  format="json")

    assert reopened.status_code == 403
    assert moved.status_code == 403
    city_task.refresh_from_db()
    assert city_task.status == TaskStatus.COMPLETED
    assert city_task.deadline == dt.date(2026, 12, 31)


def test_supervisor_cannot_add_a_supporting_unit_outside_his_scope(
    sam, town, bureau, alice, client_for
):
    """Finding: adding another city unit as a supporting unit let that unit read the task.
    The API (and the service under it) refuse, naming the unit, and the unit still cannot
    see the task."""
    task = TaskFactory(lead_unit=town)

    response = client_for(sam).patch(
        f"/api/v1/tasks/{task.pk}/", {"supporting_units": [bureau.pk], "version": task.version},
        format="json",
    )

    assert response.status_code == 403
    assert "市教育局" in response.json()["detail"]
    assert list(task.supporting_units.all()) == []
    assert client_for(alice).get(f"/api/v1/tasks/{task.pk}/").status_code == 404


def test_task_page_offers_only_manageable_units_and_refuses_others(sam, town, bureau):
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS)
    client = logged_in(sam)
    form = client.get(f"/tasks/{task.pk}/").context["forms"]["edit"]
    assert bureau not in form.fields["supporting_units"].queryset
    assert town in form.fields["supporting_units"].queryset

    response = client.post(f"/tasks/{task.pk}/edit/", {
        "edit-version": task.version, "edit-title": task.title, "edit-task_type": "by_deadline",
        "edit-lead_unit": town.pk, "edit-deadline": "2026-12-31",
        "edit-supporting_units": [bureau.pk],
    })

    assert response.status_code == 400
    assert list(task.supporting_units.all()) == []


def test_task_create_refuses_a_supporting_unit_outside_scope_but_an_admin_may(
    sam, root_admin, town, bureau
):
    task = TaskFactory(lead_unit=town)
    with pytest.raises(ActionForbidden, match="市教育局"):
        task_services.task_create(problem=task.problem, actor=sam, title="新任务", lead_unit=town,
                                  deadline=dt.date(2026, 12, 31), supporting_units=[bureau])
    created = task_services.task_create(
        problem=task.problem, actor=root_admin, title="新任务", lead_unit=town,
        deadline=dt.date(2026, 12, 31), supporting_units=[bureau],
    )
    assert list(created.supporting_units.all()) == [bureau]


def test_a_supporting_unit_the_task_already_has_stays_when_its_supervisor_edits(
    sam, town, bureau
):
    """The rule is about adding: a supervisor editing his own task keeps a city supporting
    unit an administrator set."""
    task = TaskFactory(lead_unit=town, supporting_units=[bureau])
    task_services.task_update(task=task, actor=sam, supporting_units=[bureau],
                              title="改过的任务")
    assert list(task.supporting_units.all()) == [bureau]


def test_ledger_import_rejects_a_row_whose_supporting_unit_is_outside_scope(
    sam, county, town, bureau
):
    """Every row's supporting units must be manageable by the importer; the whole file is
    refused with the row number."""
    mine = InspectionFactory(title="区委巡察反馈意见整改", target_unit=county)
    header = [*HEADER[:3], "牵头单位", "配合单位", *HEADER[4:]]
    data = xlsx([
        [1, "问题甲", "措施一", "湖滨街道", "东湖区", None, "2026-06-30", None, None],
        [2, "问题乙", "措施二", "湖滨街道", "市教育局", None, "2026-06-30", None, None],
    ], header=header)

    response = logged_in(sam).post("/ledger/import/", {
        "inspection": mine.pk, "file": SimpleUploadedFile("台账.xlsx", data, XLSX_TYPE),
    })

    assert response.status_code == 400
    assert response.context["rejected"].errors == ["第4行：您无权将“市教育局”设为配合单位"]
    assert Task.objects.count() == 0
    assert Problem.objects.count() == 0


def test_review_queue_lists_only_what_the_supervisor_may_decide(sam, town, bureau, county):
    """The queue is managed_tasks_q: a submitted task or a pending extension on a task the
    county only supports is not offered to the county's supervisor (the service would refuse
    it)."""
    mine = TaskFactory(lead_unit=town, status=TaskStatus.SUBMITTED, title="本区任务")
    TaskFactory(lead_unit=bureau, supporting_units=[county], status=TaskStatus.SUBMITTED,
                title="市局任务")
    supported = TaskFactory(lead_unit=bureau, supporting_units=[county],
                            status=TaskStatus.IN_PROGRESS)
    DeadlineExtensionFactory(task=supported, requested_by=UserFactory(unit=bureau))

    response = logged_in(sam).get("/review/")

    assert [t.pk for t in response.context["submitted"]] == [mine.pk]
    assert list(response.context["extensions"]) == []


def test_unit_filter_means_lead_or_supporting_on_the_pages_as_in_the_api(
    chief, town, county, bureau, client_for
):
    """Finding: `unit` meant "lead only" on the pages and "lead or supporting" in the API.
    Both now read tracker.filters.TaskFilter; `lead_unit` is the lead unit only."""
    led = TaskFactory(lead_unit=town, title="街道牵头")
    supported = TaskFactory(lead_unit=bureau, supporting_units=[town], title="街道配合")
    TaskFactory(lead_unit=bureau, title="与街道无关")
    page = logged_in(chief)

    def page_ids(query):
        return {task["id"] for task in page.get(f"/tasks/?{query}").context["tasks"]}

    def api_ids(query):
        return {t["id"] for t in client_for(chief).get(f"/api/v1/tasks/?{query}").json()[
            "results"]}

    assert page_ids(f"unit={county.pk}") == api_ids(f"unit={county.pk}") == {led.pk,
                                                                            supported.pk}
    assert page_ids(f"lead_unit={county.pk}") == api_ids(f"lead_unit={county.pk}") == {led.pk}


def test_page_overdue_choice_is_the_filtersets_overdue(alice, bureau, today):
    late = TaskFactory(lead_unit=bureau, status=TaskStatus.IN_PROGRESS,
                       deadline=today - dt.timedelta(days=3))
    TaskFactory(lead_unit=bureau, status=TaskStatus.COMPLETED,
                deadline=today - dt.timedelta(days=3))
    TaskFactory(lead_unit=bureau, status=TaskStatus.IN_PROGRESS,
                deadline=today + dt.timedelta(days=3))
    tasks = logged_in(alice).get("/tasks/?status=overdue").context["tasks"]
    assert [task["id"] for task in tasks] == [late.pk]


def test_task_detail_in_the_api_lists_allowed_actions(sam, bob, town, client_for):
    task = TaskFactory(lead_unit=town, status=TaskStatus.SUBMITTED)
    assert client_for(sam).get(f"/api/v1/tasks/{task.pk}/").json()["allowed_actions"] == [
        "close", "send_back", "mark_basically_completed", "mark_long_term", "evidence",
        "extension_request", "edit", "set_priority",
    ]
    assert client_for(bob).get(f"/api/v1/tasks/{task.pk}/").json()["allowed_actions"] == [
        "evidence", "extension_request",
    ]


def test_an_inactive_supervisor_has_no_supervision_pages(sam):
    """Who is a supervisor is access.is_supervisor_or_admin everywhere, is_active included
    (the navigation bar checked the role alone)."""
    from django.test import RequestFactory

    from config.context_processors import navigation

    request = RequestFactory().get("/tasks/")
    sam.is_active = False
    request.user = sam
    labels = {item["label"] for item in navigation(request)["nav_items"]}
    assert "审核" not in labels
    assert "挂图作战" not in labels
