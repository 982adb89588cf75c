"""Issue #11: every API write refuses fields it does not know, with a 400 that names them.

The rule lives once, in config.api.serializers.RefuseUnknownFieldsMixin; the last test walks
the OpenAPI schema to check that every write's request serializer carries it.
"""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular import openapi
from drf_spectacular.generators import SchemaGenerator

from config.api.serializers import RefuseUnknownFieldsMixin
from reports.models import RollupSnapshot
from tests.reports.factories import SourceReportFactory
from tests.tracker.factories import DeadlineExtensionFactory, InspectionFactory, TaskFactory
from tracker.models import Inspection, TaskStatus, Unit

pytestmark = pytest.mark.django_db


def assert_named(response, *names):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == f"未知字段：{', '.join(sorted(names))}"
    for name in names:
        assert name in body["fields"]


def test_task_edit_with_unknown_fields_is_refused_and_changes_nothing(client_for, sam, town):
    task = TaskFactory(lead_unit=town, title="原任务名称")
    response = client_for(sam).patch(
        f"/api/v1/tasks/{task.pk}/", {"title": "新名称", "foo": 1, "bar": "x", "version": 1},
        format="json",
    )
    assert_named(response, "bar", "foo")
    task.refresh_from_db()
    assert (task.title, task.version) == ("原任务名称", 1)


def test_task_status_is_still_refused_with_its_own_hint(client_for, sam, town):
    task = TaskFactory(lead_unit=town)
    response = client_for(sam).patch(f"/api/v1/tasks/{task.pk}/",
                                     {"status": "completed", "version": 1}, format="json")
    assert_named(response, "status")
    assert "状态只能通过流转操作改变" in response.json()["fields"]["status"][0]


def test_transition_with_a_misspelt_field_is_refused(client_for, bob, town):
    task = TaskFactory(lead_unit=town, status=TaskStatus.NOT_STARTED)
    response = client_for(bob).post(f"/api/v1/tasks/{task.pk}/start/",
                                    {"version": 1, "notes": "已部署"}, format="json")
    assert_named(response, "notes")
    task.refresh_from_db()
    assert task.status == TaskStatus.NOT_STARTED


def test_model_serializer_create_refuses_unknown_but_accepts_read_only(client_for, root_admin,
                                                                         city):
    client = client_for(root_admin)
    body = {"name": "市审计局", "kind": "city_department", "parent": city.pk}
    assert_named(client.post("/api/v1/units/", {**body, "code": "A1"}, format="json"), "code")
    assert not Unit.objects.filter(name="市审计局").exists()
    # "depth" is a read-only field the client read: known, so not refused (and not saved).
    created = client.post("/api/v1/units/", {**body, "depth": 9}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["depth"] == 1


def test_inspection_and_extension_decision_refuse_unknown_fields(client_for, sam, county, town):
    client = client_for(sam)
    response = client.post("/api/v1/inspections/", {
        "title": "区委第二巡察组反馈意见整改", "kind": "inspection", "mode": "regular",
        "target_unit": county.pk, "feedback_date": "2026-03-01", "leader": "张三",
    }, format="json")
    assert_named(response, "leader")
    assert not Inspection.objects.filter(title="区委第二巡察组反馈意见整改").exists()

    extension = DeadlineExtensionFactory(task=TaskFactory(lead_unit=town))
    response = client.post(f"/api/v1/extensions/{extension.pk}/approve/",
                           {"note": "同意", "days": 30}, format="json")
    assert_named(response, "days")


def test_multipart_upload_refuses_unknown_fields(client_for, bob, town):
    task = TaskFactory(lead_unit=town, status=TaskStatus.IN_PROGRESS)
    response = client_for(bob).post(f"/api/v1/tasks/{task.pk}/evidence/", {
        "file": SimpleUploadedFile("会议纪要.txt", "整改会议纪要".encode()), "remark": "补充",
    })
    assert_named(response, "remark")
    assert not task.evidence.exists()


def test_reports_writes_refuse_unknown_fields(client_for, sam, county):
    client = client_for(sam)
    report = SourceReportFactory(imported_by=sam)
    response = client.patch(f"/api/v1/reports/{report.pk}/",
                            {"report_date": "2026-05-05", "date": "2026-05-05"}, format="json")
    assert_named(response, "date")
    report.refresh_from_db()
    assert report.report_date != dt.date(2026, 5, 5)

    response = client.post("/api/v1/rollups/snapshots/",
                           {"name": "五月快照", "group_by": "total", "colour": "红"},
                           format="json")
    assert_named(response, "colour")
    assert not RollupSnapshot.objects.exists()


def test_token_login_refuses_unknown_fields(client_for, bob):
    response = client_for().post("/api/v1/auth/token/",
                                 {"username": bob.username, "password": "x", "remember": True},
                                 format="json")
    assert_named(response, "remember")


def test_read_queries_are_not_affected(client_for, sam):
    """Query parameters are filters, pagination and ordering, not a write's body."""
    InspectionFactory()
    assert client_for(sam).get("/api/v1/rollups/?group_by=total&page=1").status_code == 200


def test_every_write_in_the_schema_uses_the_refusing_base(monkeypatch):
    seen: dict[str, object] = {}
    original = openapi.AutoSchema._get_request_body

    def record(schema, direction="request"):
        if schema.method in ("POST", "PUT", "PATCH"):
            seen[f"{schema.method} {schema.path}"] = schema.get_request_serializer()
        return original(schema, direction)

    monkeypatch.setattr(openapi.AutoSchema, "_get_request_body", record)
    SchemaGenerator().get_schema(public=True)

    def classes(serializer):
        if isinstance(serializer, dict):
            return [c for value in serializer.values() for c in classes(value)]
        if serializer is None:
            return []
        return [serializer if isinstance(serializer, type) else type(serializer)]

    assert len(seen) > 20  # the walk did reach the writes
    lax = sorted(
        f"{operation}: {cls.__name__}"
        for operation, serializer in seen.items() for cls in classes(serializer)
        if not issubclass(cls, RefuseUnknownFieldsMixin)
    )
    assert lax == []


def test_the_schema_says_request_bodies_admit_no_other_fields():
    schemas = SchemaGenerator().get_schema(public=True)["components"]["schemas"]
    requests = {name: schema for name, schema in schemas.items() if name.endswith("Request")}
    assert {"TaskCreateRequest", "PatchedTaskUpdateRequest", "SnapshotCreateRequest"} <= set(
        requests)
    assert all(schema["additionalProperties"] is False for schema in requests.values())
