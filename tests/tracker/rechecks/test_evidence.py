"""回头看 with 佐证材料: the lead unit's re-check report carries evidence files, checked before
anything is written, stored on the (closed) task and linked to the re-check; a closed task takes
evidence in no other way; the API and the pages take the files and show them with download
links, which follow the evidence rule (who sees the task)."""

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.tracker.factories import EvidenceFactory, TaskRecheckFactory
from tests.tracker.rechecks.conftest import LOCAL
from tracker.errors import ActionForbidden, InvalidInput, TransitionNotAllowed
from tracker.models import Evidence, RecheckState, TaskAction, TaskEvent, TaskRecheck
from tracker.services import evidence as evidence_services
from tracker.services import rechecks

pytestmark = pytest.mark.django_db
DUE_DAY = dt.datetime(2026, 12, 1, 9, 20, tzinfo=LOCAL)
PDF = b"%PDF-1.4 recheck evidence"
PNG = b"\x89PNG\r\n\x1a\n recheck photo"


def _pdf(name="回头看报告.pdf", content=PDF):
    return SimpleUploadedFile(name, content)


def _stored_files(root) -> list[Path]:
    root = Path(root)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _report_events(task):
    return TaskEvent.objects.filter(task=task, action=TaskAction.RECHECK_REPORT)


# --- Service ---------------------------------------------------------------------------------


def test_report_stores_the_files_on_the_task_linked_to_the_recheck(
    closed, bob, private_media, django_capture_on_commit_callbacks
):
    recheck = TaskRecheck.objects.get(task=closed)
    with django_capture_on_commit_callbacks(execute=True):
        rechecks.recheck_report(
            actor=bob, recheck=recheck, recurred=False, note="未发现反弹。",
            files=[_pdf(), SimpleUploadedFile("现场照片.png", PNG)], now=DUE_DAY,
        )
    stored = list(Evidence.objects.filter(recheck=recheck).order_by("original_name"))
    assert [e.original_name for e in stored] == ["回头看报告.pdf", "现场照片.png"]
    assert all((e.task_id, e.uploaded_by, e.uploaded_at, e.progress_report_id)
               == (closed.pk, bob, DUE_DAY, None) for e in stored)
    assert stored[0].file.open("rb").read() == PDF
    recheck.refresh_from_db()
    assert recheck.state == RecheckState.REPORTED
    assert _report_events(closed).get().note == "问题未反弹：未发现反弹。（附佐证材料2份）"


@pytest.mark.parametrize(("upload", "message"), [
    (lambda: _pdf(content=PDF + b"0" * 2048), "回头看报告.pdf：文件过大"),
    (lambda: SimpleUploadedFile("病毒.exe", b"MZ\x90\x00"), "病毒.exe：文件类型不允许"),
    (lambda: SimpleUploadedFile("伪装.pdf", b"MZ\x90\x00"), "伪装.pdf：文件内容与扩展名"),
])
def test_a_refused_file_refuses_the_whole_report_in_chinese_and_stores_nothing(
    settings, closed, bob, private_media, upload, message
):
    settings.EVIDENCE_MAX_BYTES = 1024
    recheck = TaskRecheck.objects.get(task=closed)
    with pytest.raises(InvalidInput, match=message):
        rechecks.recheck_report(actor=bob, recheck=recheck, recurred=False, note="未反弹",
                                files=[_pdf("另一份.pdf"), upload()], now=DUE_DAY)
    recheck.refresh_from_db()
    assert (recheck.state, recheck.reported_at) == (RecheckState.SCHEDULED, None)
    assert not Evidence.objects.exists()
    assert not _report_events(closed).exists()
    assert _stored_files(private_media) == []


def test_a_file_already_on_the_task_refuses_the_report(closed, bob):
    EvidenceFactory(task=closed, content=PDF, sha256=hashlib.sha256(PDF).hexdigest())
    recheck = TaskRecheck.objects.get(task=closed)
    with pytest.raises(InvalidInput, match="该文件已上传过"):
        rechecks.recheck_report(actor=bob, recheck=recheck, recurred=False, note="未反弹",
                                files=[_pdf()], now=DUE_DAY)
    recheck.refresh_from_db()
    assert recheck.state == RecheckState.SCHEDULED
    assert not Evidence.objects.filter(recheck__isnull=False).exists()


def test_a_closed_task_takes_evidence_only_with_its_recheck_report(closed, bob, town):
    recheck = TaskRecheck.objects.get(task=closed)
    with pytest.raises(TransitionNotAllowed, match="任务已销号"):
        evidence_services.evidence_add(task=closed, actor=bob, uploaded=_pdf())
    # Nor by naming a re-check that is not being reported, or another task's re-check.
    with pytest.raises(TransitionNotAllowed, match="随回头看报告"):
        evidence_services.evidence_add(task=closed, actor=bob, uploaded=_pdf(), recheck=recheck)
    other = TaskRecheckFactory(task__lead_unit=town, state=RecheckState.DUE)
    with pytest.raises(InvalidInput, match="不属于此任务"):
        evidence_services.evidence_add(task=closed, actor=bob, uploaded=_pdf(), recheck=other)
    assert not Evidence.objects.exists()


def test_someone_who_may_not_report_hears_that_before_any_file_is_checked(closed, alice):
    recheck = TaskRecheck.objects.get(task=closed)
    with pytest.raises(ActionForbidden):
        rechecks.recheck_report(actor=alice, recheck=recheck, recurred=False, note="x",
                                files=[SimpleUploadedFile("病毒.exe", b"MZ")], now=DUE_DAY)


# --- API -------------------------------------------------------------------------------------


def test_api_report_takes_files_as_multipart_and_shows_them(
    client_for, bob, sam, alice, town, django_capture_on_commit_callbacks
):
    recheck = TaskRecheckFactory(task__lead_unit=town, state=RecheckState.DUE)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client_for(bob).post(
            f"/api/v1/rechecks/{recheck.pk}/report/",
            {"recurred": "false", "note": "未反弹",
             "files": [_pdf(), _pdf("第二份.pdf", PDF + b"2")]},
            format="multipart",
        )
    assert answer.status_code == 200, answer.json()
    files = answer.json()["evidence"]
    assert [f["original_name"] for f in files] == ["回头看报告.pdf", "第二份.pdf"]
    assert {f["recheck"] for f in files} == {recheck.pk}
    url = files[0]["download_url"]
    own = client_for(bob).get(url)
    assert b"".join(own.streaming_content) == PDF
    assert client_for(sam).get(url).status_code == 200
    # Another unit's officer does not see the task, so not its re-check's files either.
    assert client_for(alice).get(url).status_code == 404
    assert client_for(alice).get(f"/api/v1/rechecks/{recheck.pk}/").status_code == 404


def test_api_report_with_a_refused_file_is_400_in_chinese_and_changes_nothing(
    client_for, bob, town
):
    recheck = TaskRecheckFactory(task__lead_unit=town, state=RecheckState.DUE)
    refused = client_for(bob).post(
        f"/api/v1/rechecks/{recheck.pk}/report/",
        {"recurred": "true", "note": "有反弹", "files": [SimpleUploadedFile("脚本.html", b"<x>")]},
        format="multipart",
    )
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("脚本.html：文件类型不允许")
    assert refused.json()["fields"] == {"file": ["脚本.html：文件类型不允许"]}
    recheck.refresh_from_db()
    assert recheck.state == RecheckState.DUE
    assert not Evidence.objects.exists()


def test_api_task_evidence_upload_to_a_closed_task_is_still_refused(client_for, bob, closed):
    refused = client_for(bob).post(f"/api/v1/tasks/{closed.pk}/evidence/", {"file": _pdf()},
                                   format="multipart")
    assert refused.status_code == 409
    assert "任务已销号" in refused.json()["detail"]


# --- Pages -----------------------------------------------------------------------------------


def test_page_report_form_is_multipart_and_the_files_show_on_both_pages(
    bob, alice, town, django_capture_on_commit_callbacks
):
    recheck = TaskRecheckFactory(task__lead_unit=town, state=RecheckState.DUE)
    officer = Client()
    officer.force_login(bob)
    html = officer.get("/rechecks/").content.decode()
    assert 'class="recheck-report-form mt-2" enctype="multipart/form-data"' in html
    assert 'type="file" name="files" multiple' in html
    with django_capture_on_commit_callbacks(execute=True):
        done = officer.post(f"/rechecks/{recheck.pk}/report/", {
            "recurred": "no", "note": "未反弹", "next": "/rechecks/?tab=reported",
            "files": [_pdf()]})
    assert done.status_code == 302
    evidence = Evidence.objects.get(recheck=recheck)
    link = f'href="/evidence/{evidence.pk}/"'
    listed = officer.get("/rechecks/?tab=reported").content.decode()
    assert "回头看报告.pdf" in listed
    assert link in listed
    task_page = officer.get(f"/tasks/{recheck.task_id}/").content.decode()
    section = task_page.split('id="rechecks"', 1)[1]
    assert "回头看报告.pdf" in section
    assert link in section
    assert officer.get(f"/evidence/{evidence.pk}/").status_code == 200
    stranger = Client()
    stranger.force_login(alice)
    assert stranger.get(f"/evidence/{evidence.pk}/").status_code == 404


def test_page_report_with_a_too_large_file_shows_the_reason_and_stores_nothing(
    settings, bob, town
):
    settings.EVIDENCE_MAX_BYTES = 1024
    recheck = TaskRecheckFactory(task__lead_unit=town, state=RecheckState.DUE)
    officer = Client()
    officer.force_login(bob)
    refused = officer.post(f"/rechecks/{recheck.pk}/report/", {
        "recurred": "no", "note": "未反弹", "files": [_pdf(content=PDF + b"0" * 2048)]})
    assert refused.status_code == 400
    assert "回头看报告.pdf：文件过大" in refused.content.decode()
    recheck.refresh_from_db()
    assert recheck.state == RecheckState.DUE
    assert not Evidence.objects.exists()


def test_list_page_and_api_with_files_cost_the_same_queries_for_2_and_6_rechecks(
    django_assert_num_queries, sam, bob, town
):
    page, api = Client(), Client()
    page.force_login(sam)
    api.force_login(sam)

    def add(count):
        for _ in range(count):
            recheck = TaskRecheckFactory(task__lead_unit=town, state=RecheckState.REPORTED,
                                         recurred=False, report_note="未反弹", reported_by=bob,
                                         reported_at=timezone.now())
            EvidenceFactory(task=recheck.task, recheck=recheck, uploaded_by=bob)
            EvidenceFactory(task=recheck.task, recheck=recheck, uploaded_by=bob)

    page_counts = []
    for total in (2, 6):
        add(total - TaskRecheck.objects.count())
        with CaptureQueriesContext(connection) as ctx:
            listed = page.get("/rechecks/?tab=reported")
        assert listed.content.decode().count(">证明材料.pdf</a>") == 2 * total
        page_counts.append(len(ctx.captured_queries))
        # session, user with their unit (scope), the re-checks with task, unit and people,
        # their files with uploaders (one prefetch)
        with django_assert_num_queries(4):
            answer = api.get("/api/v1/rechecks/")
        assert sum(len(r["evidence"]) for r in answer.json()["results"]) == 2 * total
    assert page_counts[0] == page_counts[1]
