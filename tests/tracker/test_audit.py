"""The audit log (审计日志, issue #14): every kind of event outside the task services writes
one entry with the right actor and changes, written by the services (or the view that hands
the data out); passwords and secrets never appear; the log is append-only in the ORM and, on
PostgreSQL, in the database; only administrators read it, in a read-only admin page whose
list costs the same number of queries however long it is."""

import datetime as dt
import json
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reports.services import report_import
from tests.tracker.factories import EvidenceFactory, ProblemFactory
from tests.tracker.ledger.helpers import edit, make_ledger
from tracker.errors import ActionForbidden, ImportRejected
from tracker.models import AuditAction, AuditAppendOnlyError, AuditEntry, Role, Task, Unit, User
from tracker.services import inspections as inspection_services
from tracker.services import units as unit_services
from tracker.services import users as user_services
from tracker.services.audit import audit_record
from tracker.services.ledger import ledger_export, ledger_import

pytestmark = pytest.mark.django_db

A = AuditAction
PASSWORD = "demo-pass-123"  # the factories' password
REPORT = Path(__file__).parents[1] / "reports" / "fixtures" / "qinghe_redacted_report.txt"
AUDIT_LIST = "/admin/tracker/auditentry/"


def entries(action) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def only(action) -> AuditEntry:
    found = entries(action)
    assert len(found) == 1, [(e.action, e.target_label) for e in found]
    return found[0]


def everything_written() -> str:
    """Every column of every entry, as one text, to look for what must never be there."""
    rows = AuditEntry.objects.values()
    return json.dumps([{k: str(v) for k, v in row.items()} for row in rows], ensure_ascii=False)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Units, users and roles ----------------------------------------------------------------------


def test_unit_create_edit_and_delete_each_write_one_entry_with_actor_and_changes(root_admin, city):
    unit = unit_services.unit_create(name="市审计局", kind="city_department", parent=city,
                                     actor=root_admin)
    created = AuditEntry.objects.get(action=A.UNIT_CREATE, target_id=unit.pk)
    assert (created.actor, created.target_type, created.target_id) == (
        root_admin, "tracker.unit", unit.pk)
    assert created.changes["name"] == [None, "市审计局"]
    assert created.changes["parent"] == [None, "江屿市委"]
    assert created.actor_name == f"{root_admin.full_name}（root）"
    # The fixture's city was made by the factory, i.e. by the system: recorded without actor.
    system = AuditEntry.objects.get(action=A.UNIT_CREATE, target_id=city.pk)
    assert (system.actor, system.actor_name) == (None, "")

    unit_services.unit_update(unit=unit, actor=root_admin, name="市审计局（新）", sort_order=0)
    updated = only(A.UNIT_UPDATE)
    # Only what changed (sort_order was already 0).
    assert updated.changes == {"name": ["市审计局", "市审计局（新）"]}
    assert updated.target_label == "市审计局（新）"

    pk = unit.pk
    unit_services.unit_delete(unit=unit, actor=root_admin)
    deleted = only(A.UNIT_DELETE)
    # The entry still names what is gone.
    assert (deleted.actor, deleted.target_type, deleted.target_id, deleted.target_label) == (
        root_admin, "tracker.unit", pk, "市审计局（新）")
    assert not Unit.objects.filter(name="市审计局（新）").exists()


def test_a_save_that_changes_nothing_writes_no_entry(root_admin, bureau):
    unit_services.unit_update(unit=bureau, actor=root_admin, name=bureau.name)
    assert entries(A.UNIT_UPDATE) == []


def test_a_refused_change_writes_no_entry(sam, bureau):
    with pytest.raises(ActionForbidden):
        unit_services.unit_update(unit=bureau, actor=sam, name="改名")
    assert entries(A.UNIT_UPDATE) == []


def test_robot_secrets_are_recorded_as_changed_never_with_their_values(root_admin, bureau):
    secret, url = "SEC0123456789abcdef", "https://oapi.dingtalk.com/robot/send?access_token=tok999"
    unit_services.unit_set_robots(unit=bureau, actor=root_admin, dingtalk_secret=secret,
                                  dingtalk_webhook_url=url)
    entry = only(A.UNIT_UPDATE)
    assert entry.changes == {"dingtalk_secret": ["***", "***"],
                             "dingtalk_webhook_url": ["***", "***"]}
    written = everything_written()
    assert secret not in written
    assert "tok999" not in written


def test_any_password_field_handed_to_the_writer_is_kept_without_its_value(root_admin):
    entry = audit_record(actor=root_admin, action=A.PASSWORD_CHANGE, target=root_admin,
                         changes={"password": ["old-Secret-1", "new-Secret-2"],
                                  "full_name": ["甲", "乙"]})
    assert entry.changes == {"password": ["***", "***"], "full_name": ["甲", "乙"]}
    assert "Secret" not in everything_written()


def test_user_creation_records_the_administrator_and_never_the_password(root_admin, bureau):
    password = "Initial-Pass-4711"
    user = user_services.user_create(username="zhang", password=password, role=Role.OFFICER,
                                      unit=bureau, full_name="张三", actor=root_admin)
    entry = only(A.USER_CREATE)
    assert (entry.actor, entry.target_id, entry.target_label) == (root_admin, user.pk, "张三")
    assert entry.changes["role"] == [None, "officer"]
    assert entry.changes["unit"] == [None, "市教育局"]
    written = everything_written()
    assert password not in written
    assert user.password not in written  # nor the hash
    assert "password" not in entry.changes


def test_a_password_change_is_recorded_without_the_password(root_admin, alice):
    user_services.user_set_password(user=alice, password="Changed-Pass-0815", actor=root_admin)
    entry = only(A.PASSWORD_CHANGE)
    assert (entry.actor, entry.target_id) == (root_admin, alice.pk)
    written = everything_written()
    assert "Changed-Pass-0815" not in written
    assert alice.password not in written


def test_a_role_change_is_its_own_action_and_other_edits_are_user_edits(root_admin, alice):
    old_name = alice.full_name
    user_services.user_update(user=alice, actor=root_admin, full_name="爱丽丝")
    assert only(A.USER_UPDATE).changes == {"full_name": [old_name, "爱丽丝"]}
    assert entries(A.USER_ROLE_CHANGE) == []
    user_services.user_update(user=alice, actor=root_admin, role=Role.SUPERVISOR)
    role_entry = only(A.USER_ROLE_CHANGE)
    assert (role_entry.actor, role_entry.target_id) == (root_admin, alice.pk)
    assert role_entry.changes == {"role": ["officer", "supervisor"]}


def test_admin_saves_of_units_and_users_go_through_the_services_and_are_audited(
    root_admin, bureau, city
):
    client = signed_in(root_admin)
    response = client.post(reverse("admin:tracker_unit_change", args=[bureau.pk]), {
        "name": "市教育体育局", "short_name": "", "kind": bureau.kind, "parent": city.pk,
        "sort_order": 0,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert only(A.UNIT_UPDATE).changes == {"name": ["市教育局", "市教育体育局"]}

    response = client.post(reverse("admin:tracker_user_add"), {
        "username": "li", "password1": "Admin-Typed-Pass-88", "password2": "Admin-Typed-Pass-88",
        "full_name": "李四", "email": "", "unit": bureau.pk, "role": Role.OFFICER,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    created = only(A.USER_CREATE)
    assert (created.actor, created.target_label) == (root_admin, "李四")
    assert "Admin-Typed-Pass-88" not in everything_written()


def test_api_user_creation_and_unit_edit_record_the_administrator(root_admin, bureau, client_for):
    api = client_for(root_admin)
    created = api.post("/api/v1/users/", {"username": "wang", "password": "Api-Typed-Pass-77",
                                          "role": "officer", "unit": bureau.pk,
                                          "full_name": "王五"})
    assert created.status_code == 201, created.content
    entry = only(A.USER_CREATE)
    assert (entry.actor, entry.target_id) == (root_admin, created.json()["id"])
    assert "Api-Typed-Pass-77" not in everything_written()

    assert api.patch(f"/api/v1/units/{bureau.pk}/", {"short_name": "教育局"}).status_code == 200
    assert only(A.UNIT_UPDATE).changes == {"short_name": ["", "教育局"]}


# --- Inspections and problems --------------------------------------------------------------------


def test_inspection_and_problem_edits_record_old_and_new_values(chief, city):
    inspection = inspection_services.inspection_create(
        title="市委第二轮巡察", kind="city_patrol", target="市教育局",
        feedback_date=dt.date(2026, 3, 1), actor=chief)
    assert only(A.INSPECTION_CREATE).actor == chief
    inspection_services.inspection_update(inspection=inspection, actor=chief,
                                          team="市委第二巡察组", feedback_date=dt.date(2026, 3, 2))
    assert only(A.INSPECTION_UPDATE).changes == {
        "feedback_date": ["2026-03-01", "2026-03-02"], "team": ["", "市委第二巡察组"]}

    problem = inspection_services.problem_create(inspection=inspection, number=1,
                                                 text="制度执行不严", actor=chief)
    assert only(A.PROBLEM_CREATE).note == "市委第二轮巡察"
    inspection_services.problem_update(problem=problem, actor=chief, text="制度执行不够严格")
    updated = only(A.PROBLEM_UPDATE)
    assert (updated.actor, updated.target_id) == (chief, problem.pk)
    assert updated.changes == {"text": ["制度执行不严", "制度执行不够严格"]}

    problem_pk, inspection_pk = problem.pk, inspection.pk
    inspection_services.problem_delete(problem=problem, actor=chief)
    inspection_services.inspection_delete(inspection=inspection, actor=chief)
    assert (only(A.PROBLEM_DELETE).actor, only(A.PROBLEM_DELETE).target_id) == (chief, problem_pk)
    assert (only(A.INSPECTION_DELETE).target_id, only(A.INSPECTION_DELETE).target_label) == (
        inspection_pk, "市委第二轮巡察")


def test_admin_problem_edit_is_audited(root_admin):
    problem = ProblemFactory(text="原问题")
    client = signed_in(root_admin)
    response = client.post(reverse("admin:tracker_problem_change", args=[problem.pk]), {
        "number": problem.number, "aspect": problem.aspect, "text": "改写后的问题",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = only(A.PROBLEM_UPDATE)
    assert (entry.actor, entry.changes) == (root_admin, {"text": ["原问题", "改写后的问题"]})


# --- Logins and logouts --------------------------------------------------------------------------


def test_a_page_login_records_the_user_the_address_and_the_request_id(alice):
    response = Client().post(reverse("web:login"), {"username": "alice", "password": PASSWORD},
                             REMOTE_ADDR="10.1.2.3", HTTP_X_REQUEST_ID="req-login-0001")
    assert response.status_code == 302
    entry = only(A.LOGIN)
    assert (entry.actor, entry.target_id, entry.address, entry.request_id) == (
        alice, alice.pk, "10.1.2.3", "req-login-0001")


def test_failed_logins_name_the_account_tried_never_the_password(alice, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 2
    client = Client()
    for _ in range(3):  # wrong, wrong (now waiting), refused while waiting
        client.post(reverse("web:login"), {"username": "alice", "password": "Guess-Pass-321"},
                    REMOTE_ADDR="10.9.9.9")
    failed = entries(A.LOGIN_FAILED)
    assert len(failed) == 3
    assert {(e.actor, e.target_label, e.address) for e in failed} == {(None, "alice", "10.9.9.9")}
    assert "未校验密码" in failed[-1].note  # the attempt during the wait
    assert entries(A.LOGIN) == []
    assert "Guess-Pass-321" not in everything_written()


def test_logout_from_the_page_and_the_api_is_recorded(alice, client_for):
    client = signed_in(alice)
    assert client.post(reverse("web:logout"), REMOTE_ADDR="10.1.2.4").status_code == 302
    page = only(A.LOGOUT)
    assert (page.actor, page.address) == (alice, "10.1.2.4")

    api = client_for(alice)
    assert api.post("/api/v1/auth/logout/").status_code == 204
    assert [e.actor for e in entries(A.LOGOUT)] == [alice, alice]


def test_logout_from_the_admin_is_recorded(chief):
    assert signed_in(chief).post("/admin/logout/").status_code in (200, 302)
    entry = only(A.LOGOUT)
    assert (entry.actor, entry.note) == (chief, "管理后台")


# --- Downloads, exports and imports --------------------------------------------------------------


def test_evidence_downloads_from_page_and_api_are_recorded(alice, bureau, client_for):
    evidence = EvidenceFactory(task__lead_unit=bureau)
    page = signed_in(alice).get(reverse("web:evidence_download", args=[evidence.pk]),
                                REMOTE_ADDR="10.1.2.5")
    assert page.status_code == 200
    api = client_for(alice).get(f"/api/v1/evidence/{evidence.pk}/download/")
    assert api.status_code == 200
    downloads = entries(A.EVIDENCE_DOWNLOAD)
    assert [(e.actor, e.target_type, e.target_id) for e in downloads] == [
        (alice, "tracker.evidence", evidence.pk)] * 2
    assert downloads[0].address == "10.1.2.5"
    assert downloads[0].note == evidence.task.title


def test_a_refused_download_writes_no_entry(bob, bureau):
    evidence = EvidenceFactory(task__lead_unit=bureau)
    assert signed_in(bob).get(
        reverse("web:evidence_download", args=[evidence.pk])).status_code == 404
    assert entries(A.EVIDENCE_DOWNLOAD) == []


def test_ledger_export_and_import_are_recorded_and_a_refused_import_is_not(chief, bureau, county):
    inspection = make_ledger(2, [bureau, county])
    response = signed_in(chief).get(f"/ledger/export/?inspection={inspection.pk}")
    assert response.status_code == 200
    export = only(A.LEDGER_EXPORT)
    assert (export.actor, export.target_id, export.note) == (chief, inspection.pk, "2项")
    assert export.target_label.endswith(".xlsx")

    data = ledger_export(tasks=Task.objects.filter(inspection=inspection))
    ledger_import(inspection=inspection, actor=chief, data=data, filename="台账.xlsx")
    imported = only(A.LEDGER_IMPORT)
    assert (imported.actor, imported.target_id, imported.note) == (chief, inspection.pk,
                                                                  "台账.xlsx")

    broken = edit(data, {"任务1": {"完成时限": "明年"}})
    with pytest.raises(ImportRejected):
        ledger_import(inspection=inspection, actor=chief, data=broken, filename="错.xlsx")
    assert len(entries(A.LEDGER_IMPORT)) == 1


def test_report_import_is_recorded_once_per_stored_report(chief):
    outcome = report_import(data=REPORT.read_bytes(), filename="报告.txt", actor=chief)
    again = report_import(data=REPORT.read_bytes(), filename="报告.txt", actor=chief)
    assert again.created is False
    entry = only(A.REPORT_IMPORT)
    assert (entry.actor, entry.target_type, entry.target_id, entry.note) == (
        chief, "reports.sourcereport", outcome.report.pk, "报告.txt")


def test_report_exports_docx_and_spreadsheet_are_recorded(chief, bureau, client_for):
    inspection = make_ledger(1, [bureau])
    today = timezone.localdate()
    docx = signed_in(chief).get(
        f"/reports/monthly/?inspection={inspection.pk}&as_of={today.isoformat()}")
    assert docx.status_code == 200
    xlsx = client_for(chief).get("/api/v1/rollups/", {"group_by": "unit", "format": "xlsx"})
    assert xlsx.status_code == 200
    json_rollup = client_for(chief).get("/api/v1/rollups/", {"group_by": "unit"})
    assert json_rollup.status_code == 200  # reading figures on screen is not an export
    exports = entries(A.REPORT_EXPORT)
    assert [(e.actor, e.target_label[-5:]) for e in exports] == [(chief, ".docx"),
                                                                 (chief, ".xlsx")]
    assert exports[0].target_id == inspection.pk


# --- Append-only ---------------------------------------------------------------------------------


@pytest.fixture
def entry(root_admin):
    return audit_record(actor=root_admin, action=A.LOGIN, target=root_admin, address="10.0.0.1")


def test_the_orm_refuses_to_change_or_delete_an_entry(entry):
    entry.address = "10.6.6.6"
    with pytest.raises(AuditAppendOnlyError):
        entry.save()
    with pytest.raises(AuditAppendOnlyError):
        entry.delete()
    with pytest.raises(AuditAppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(address="10.6.6.6")
    with pytest.raises(AuditAppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    # bulk_update runs in the caller's transaction (no savepoint of its own): give it one.
    with pytest.raises(AuditAppendOnlyError), transaction.atomic():
        AuditEntry.objects.bulk_update([entry], ["address"])
    assert AuditEntry.objects.get(pk=entry.pk).address == "10.0.0.1"


def test_a_user_with_entries_cannot_be_deleted_only_deactivated(entry, root_admin):
    with pytest.raises(ProtectedError):
        User.objects.filter(pk=root_admin.pk).delete()
    assert AuditEntry.objects.filter(actor=root_admin).count() == 1


@pytest.mark.postgres
def test_postgresql_rejects_update_and_delete_in_sql(entry):
    for sql in ("UPDATE tracker_auditentry SET address = '10.6.6.6' WHERE id = %s",
                "DELETE FROM tracker_auditentry WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    with connection.cursor() as cursor:
        cursor.execute("SELECT address FROM tracker_auditentry WHERE id = %s", [entry.pk])
        assert cursor.fetchone() == ("10.0.0.1",)


# --- The admin page ------------------------------------------------------------------------------


def test_administrators_read_the_log_in_a_read_only_page(entry, root_admin, bureau):
    client = signed_in(root_admin)
    listing = client.get(AUDIT_LIST, {"action": "login"})
    assert listing.status_code == 200
    text = listing.content.decode()
    assert "审计日志" in text
    assert "10.0.0.1" in text
    assert client.get(AUDIT_LIST, {"q": "10.0.0.1"}).context["cl"].result_count == 1
    assert client.get(AUDIT_LIST, {"q": "10.7.7.7"}).context["cl"].result_count == 0
    detail = client.get(f"{AUDIT_LIST}{entry.pk}/change/")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    changed = audit_record(actor=root_admin, action=A.UNIT_UPDATE, target=bureau,
                           changes={"name": ["<b>甲</b>", "乙"]})
    shown = client.get(f"{AUDIT_LIST}{changed.pk}/change/").content.decode()
    assert "单位名称：&lt;b&gt;甲&lt;/b&gt; → 乙" in shown  # the field's own label, escaped
    assert client.get(f"{AUDIT_LIST}add/").status_code == 403
    assert client.post(f"{AUDIT_LIST}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize("who", ["chief", "sam"])
def test_supervisors_neither_see_nor_open_the_log(entry, who, request):
    client = signed_in(request.getfixturevalue(who))
    assert client.get(AUDIT_LIST).status_code == 403
    assert client.get(f"{AUDIT_LIST}{entry.pk}/change/").status_code == 403
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "审计日志" not in index.content.decode()


def test_officers_are_kept_out_of_the_admin(entry, alice):
    response = signed_in(alice).get(AUDIT_LIST)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_changelist_costs_the_same_queries_however_many_entries(root_admin, bureau):
    client = signed_in(root_admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(AUDIT_LIST).status_code == 200
        return len(captured)

    audit_record(actor=root_admin, action=A.UNIT_UPDATE, target=bureau,
                 changes={"name": ["甲", "乙"]})
    few = queries()
    for i in range(30):
        audit_record(actor=root_admin if i % 2 else None, action=A.EVIDENCE_DOWNLOAD,
                     target=bureau, note=f"第{i}次")
    # Session and user, the date hierarchy's bounds, the page of rows, the action filter's
    # choices come from the model: nothing per row.
    assert queries() == few
