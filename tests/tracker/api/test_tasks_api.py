"""Task list cost, optimistic concurrency and field-level rules of the task API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.tracker.factories import EvidenceFactory, TaskFactory, UnitFactory
from tracker import workdays
from tracker.models import Task, TaskAction, TaskEvent, TaskStatus

pytestmark = pytest.mark.django_db


def _make_tasks(n, lead_unit, supporting):
    for _ in range(n):
        TaskFactory(lead_unit=lead_unit, supporting_units=supporting)


def _list_queries(client) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/tasks/?page_size=200")
    assert response.status_code == 200
    return len(queries), response.json()


def test_task_list_issues_the_same_queries_for_5_and_100_tasks(
    client_for, sam, town, county, django_assert_num_queries
):
    """Acceptance 2. Expected queries: (1) the page of tasks joined with lead unit, problem
    and inspection, each task's supporting units a JSON column of the same query."""
    helper = UnitFactory(name="区民政局", parent=county)
    client = client_for(sam)
    _make_tasks(5, town, [helper])
    # The working-day calendar loads once per process, in whichever test comes first: load it
    # here so that what is counted is the list alone, whatever the test order.
    workdays.is_workday(timezone.localdate())
    with django_assert_num_queries(1):
        body = client.get("/api/v1/tasks/?page_size=200").json()
    assert len(body["results"]) == 5

    _make_tasks(95, town, [helper, county])
    with django_assert_num_queries(1):
        body = client.get("/api/v1/tasks/?page_size=200").json()
    assert len(body["results"]) == 100

    first = body["results"][0]
    assert first["lead_unit"]["name"] == "湖滨街道"
    assert {u["name"] for u in first["supporting_units"]} == {"区民政局", "东湖区"}
    assert first["problem"]["text"]
    assert first["inspection"]["title"]


def test_task_list_with_filters_keeps_a_constant_query_count(client_for, sam, town):
    _make_tasks(3, town, [])
    few, _ = _list_queries(client_for(sam))
    _make_tasks(30, town, [])
    many, _ = _list_queries(client_for(sam))
    assert few == many


def test_task_list_is_cursor_paginated_and_walks_every_task_once(client_for, sam, town):
    _make_tasks(7, town, [])
    client = client_for(sam)
    seen, url = [], "/api/v1/tasks/?page_size=3&ordering=deadline"
    while url:
        body = client.get(url).json()
        assert "count" not in body  # a cursor never counts the whole table
        seen += [task["id"] for task in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(Task.objects.values_list("id", flat=True))
    assert len(seen) == len(set(seen))


def test_second_of_two_writers_with_the_same_version_gets_409_and_history_shows_one_change(
    client_for, sam, chief, town
):
    """Acceptance 3 (version field)."""
    task = TaskFactory(lead_unit=town, status=TaskStatus.SUBMITTED)
    first, second = client_for(sam), client_for(chief)
    version_first = first.get(f"/api/v1/tasks/{task.pk}/").json()["version"]
    version_second = second.get(f"/api/v1/tasks/{task.pk}/").json()["version"]

    ok = first.post(f"/api/v1/tasks/{task.pk}/close/",
                    {"version": version_first, "confirm_no_evidence": True,
                     "effectiveness": "effective"})
    stale = second.post(f"/api/v1/tasks/{task.pk}/send-back/",
                        {"version": version_second, "note": "材料不全"})

    assert ok.status_code == 200
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version"
    assert "已被他人修改" in stale.json()["detail"]
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED
    assert list(TaskEvent.objects.filter(task=task).values_list("action", flat=True)) == [
        TaskAction.CLOSE
    ]


def test_closing_without_evidence_through_the_api_needs_the_same_confirmation_as_the_pages(
    client_for, sam, town
):
    bare = TaskFactory(lead_unit=town, status=TaskStatus.SUBMITTED)
    refused = client_for(sam).post(f"/api/v1/tasks/{bare.pk}/close/",
                                   {"note": "核查属实", "version": bare.version,
                                    "effectiveness": "effective"})
    assert refused.status_code == 400
    assert "尚未上传佐证材料" in refused.json()["detail"]
    assert "confirm_no_evidence" in refused.json()["fields"]
    bare.refresh_from_db()
    assert bare.status == TaskStatus.SUBMITTED

    confirmed = client_for(sam).post(f"/api/v1/tasks/{bare.pk}/close/",
                                     {"note": "核查属实", "confirm_no_evidence": True,
                                      "version": bare.version, "effectiveness": "effective"})
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == TaskStatus.COMPLETED

    with_evidence = TaskFactory(lead_unit=town, status=TaskStatus.SUBMITTED)
    EvidenceFactory(task=with_evidence)
    closed = client_for(sam).post(f"/api/v1/tasks/{with_evidence.pk}/close/",
                                  {"version": with_evidence.version,
                                   "effectiveness": "effective"})
    assert closed.status_code == 200


def test_second_of_two_editors_with_the_same_etag_gets_412_and_nothing_changes(
    client_for, sam, chief, town
):
    """Acceptance 3 (If-Match / ETag)."""
    task = TaskFactory(lead_unit=town)
    first, second = client_for(sam), client_for(chief)
    etag_first = first.get(f"/api/v1/tasks/{task.pk}/")["ETag"]
    etag_second = second.get(f"/api/v1/tasks/{task.pk}/")["ETag"]

    ok = first.patch(f"/api/v1/tasks/{task.pk}/", {"measures": "甲的措施"},
                     HTTP_IF_MATCH=etag_first)
    stale = second.patch(f"/api/v1/tasks/{task.pk}/", {"measures": "乙的措施"},
                         HTTP_IF_MATCH=etag_second)

    assert ok.status_code == 200
    assert ok["ETag"] != etag_first
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    task.refresh_from_db()
    assert task.measures == "甲的措施"
    assert TaskEvent.objects.filter(task=task, action=TaskAction.EDIT).count() == 1


def test_write_without_a_version_is_refused_with_428(client_for, bob, town):
    task = TaskFactory(lead_unit=town)
    response = client_for(bob).post(f"/api/v1/tasks/{task.pk}/start/", {})
    assert response.status_code == 428
    assert "版本号" in response.json()["detail"]
    task.refresh_from_db()
    assert task.status == TaskStatus.NOT_STARTED


@pytest.mark.parametrize(
    "field_value",
    [{"status": "completed"}, {"progress_percent": 100}, {"closed_at": "2026-01-01T00:00:00Z"},
     {"original_deadline": "2030-01-01"}],
)
def test_status_and_derived_fields_cannot_be_set_directly(client_for, sam, town, field_value):
    task = TaskFactory(lead_unit=town)
    response = client_for(sam).patch(f"/api/v1/tasks/{task.pk}/", {**field_value, "version": 1})
    assert response.status_code == 400
    (field,) = field_value
    assert "不能修改" in response.json()["fields"][field][0]
    task.refresh_from_db()
    assert (task.status, task.version) == (TaskStatus.NOT_STARTED, 1)


@pytest.mark.parametrize(
    "change", [{"lead_unit": "county"}, {"deadline": "2030-01-01"}, {"measures": "改措施"}]
)
def test_officer_cannot_change_unit_deadline_or_measures(client_for, bob, town, county, change):
    task = TaskFactory(lead_unit=town)
    if change.get("lead_unit") == "county":
        change = {"lead_unit": county.pk}
    response = client_for(bob).patch(f"/api/v1/tasks/{task.pk}/", {**change, "version": 1})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    task.refresh_from_db()
    assert (task.lead_unit, task.version) == (town, 1)


def test_approved_extension_keeps_every_deadline_the_task_had(client_for, bob, sam, town):
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS)
    officer, supervisor = client_for(bob), client_for(sam)
    for new_deadline in ("2027-03-31", "2027-06-30"):
        ext = officer.post(f"/api/v1/tasks/{task.pk}/extensions/",
                           {"requested_deadline": new_deadline, "reason": "需跨部门协调"})
        assert ext.status_code == 201, ext.json()
        assert supervisor.post(f"/api/v1/extensions/{ext.json()['id']}/approve/",
                               {"note": "同意"}).status_code == 200

    deadlines = supervisor.get(f"/api/v1/tasks/{task.pk}/deadlines/").json()
    assert [(d["deadline"], d["source"]) for d in deadlines] == [
        ("2026-12-31", "original"), ("2027-03-31", "extension"), ("2027-06-30", "extension"),
    ]
    detail = supervisor.get(f"/api/v1/tasks/{task.pk}/").json()
    assert (detail["deadline"], detail["original_deadline"]) == ("2027-06-30", "2026-12-31")


def test_rejecting_an_extension_needs_a_reason_in_chinese(client_for, bob, sam, town):
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS)
    ext = client_for(bob).post(f"/api/v1/tasks/{task.pk}/extensions/",
                               {"requested_deadline": "2027-03-31", "reason": "协调中"}).json()
    response = client_for(sam).post(f"/api/v1/extensions/{ext['id']}/reject/", {"note": ""})
    assert response.status_code == 400
    assert response.json()["fields"] == {"note": ["请填写驳回理由"]}


def test_bad_input_gets_field_errors_in_chinese_not_a_500(client_for, sam, town):
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS)
    client = client_for(sam)
    response = client.post(f"/api/v1/tasks/{task.pk}/progress/",
                           {"note": "", "percent": 150, "version": "x"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"note", "percent", "version"}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in msgs[0])
               for msgs in body["fields"].values())

    malformed = client.generic("POST", f"/api/v1/tasks/{task.pk}/progress/", "{not json",
                               content_type="application/json")
    assert malformed.status_code == 400
    assert malformed.json()["code"] == "parse_error"
