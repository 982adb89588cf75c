"""Large imports and exports as jobs: the preview and the apply run in the worker (here the
Celery task's function is called directly, as the worker would), claim the job by its state
(a second run does nothing), report progress, and are seen by their owner only."""

import io
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook
from rest_framework.test import APIClient

from tests.tracker.ledger.helpers import edit, make_ledger
from tracker import tasks as celery_tasks
from tracker.models import LedgerJob, LedgerJobState, Task, TaskAction, TaskEvent
from tracker.services.ledger import ledger_export

pytestmark = pytest.mark.django_db
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def small_sync_limit(settings):
    settings.TRACKER_LEDGER_SYNC_MAX_ROWS = 3


@pytest.fixture
def ledger(bureau, county):
    return make_ledger(8, [bureau, county])


def upload(client, inspection, data: bytes):
    return client.post("/ledger/import/", {
        "inspection": inspection.pk,
        "file": SimpleUploadedFile("台账.xlsx", data, content_type=XLSX_TYPE),
    })


def test_a_large_import_is_previewed_and_applied_by_the_worker_once(
    small_sync_limit, ledger, chief, django_capture_on_commit_callbacks
):
    data = edit(ledger_export(tasks=Task.objects.filter(inspection=ledger)),
                {"任务1": {"责任人": "甲"}, "任务2": {"责任领导": "乙"}})
    client = logged_in(chief)

    with (mock.patch("tracker.services.ledger_jobs._queue") as queued,
          django_capture_on_commit_callbacks(execute=True)):
        response = upload(client, ledger, data)
    job = LedgerJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/ledger/jobs/{job.pk}/"
    queued.assert_called_once_with(job.pk)  # nothing parsed in the web process
    assert (job.state, job.progress_total) == (LedgerJobState.QUEUED, 8)
    page = client.get(f"/ledger/jobs/{job.pk}/").content.decode()
    assert 'id="ledger-job-progress"' in page
    assert "/static/web/js/ledger-job.js" in page

    progress = []
    with mock.patch("tracker.services.ledger_jobs._progress_writer") as writer:
        writer.side_effect = lambda job: (lambda done, total: progress.append((done, total)))
        assert celery_tasks.ledger_job_run(job.pk) == LedgerJobState.PREVIEW
    assert progress[0] == (0, 16)
    assert progress[-1] == (16, 16)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)

    job.refresh_from_db()
    assert job.preview["counts"] == {
        "new": 0, "changed": 2, "unchanged": 6, "conflict": 0, "errors": 0
    }
    assert job.percent == 100
    # Running the task again (a redelivered message) does nothing.
    assert celery_tasks.ledger_job_run(job.pk) == LedgerJobState.PREVIEW
    assert not TaskEvent.objects.filter(action=TaskAction.EDIT).exists()

    with (mock.patch("tracker.services.ledger_jobs._queue") as queued,
          django_capture_on_commit_callbacks(execute=True)):
        client.post(f"/ledger/jobs/{job.pk}/confirm/")
    queued.assert_called_once_with(job.pk)
    assert celery_tasks.ledger_job_run(job.pk) == LedgerJobState.DONE
    assert celery_tasks.ledger_job_run(job.pk) == LedgerJobState.DONE
    assert TaskEvent.objects.filter(action=TaskAction.EDIT).count() == 2
    assert Task.objects.get(title="任务1").responsible_person == "甲"
    job.refresh_from_db()
    assert "修改整改任务2项，未变6项" in job.message


def test_with_imports_in_the_worker_even_a_small_ledger_is_never_parsed_in_the_web_process(
    settings, ledger, chief, django_capture_on_commit_callbacks
):
    settings.TRACKER_LEDGER_IMPORTS_IN_WORKER = True  # production's default
    data = edit(ledger_export(tasks=Task.objects.filter(inspection=ledger)),
                {"任务1": {"责任人": "甲"}})
    client = logged_in(chief)
    with (mock.patch("tracker.services.ledger_jobs._queue") as queued,
          mock.patch("tracker.services.ledger.read_ledger",
                     side_effect=AssertionError("parsed in the web process")),
          django_capture_on_commit_callbacks(execute=True)):
        response = upload(client, ledger, data)
    job = LedgerJob.objects.get()
    assert response["Location"] == f"/ledger/jobs/{job.pk}/"
    queued.assert_called_once_with(job.pk)
    assert (job.state, job.progress_total) == (LedgerJobState.QUEUED, 8)  # 8 rows: small

    assert celery_tasks.ledger_job_run(job.pk) == LedgerJobState.PREVIEW
    with (mock.patch("tracker.services.ledger_jobs._queue") as queued,
          django_capture_on_commit_callbacks(execute=True)):
        client.post(f"/ledger/jobs/{job.pk}/confirm/")
    queued.assert_called_once_with(job.pk)  # applying reads the file too: the worker's
    job.refresh_from_db()
    assert job.state == LedgerJobState.APPLYING
    assert celery_tasks.ledger_job_run(job.pk) == LedgerJobState.DONE
    assert Task.objects.get(title="任务1").responsible_person == "甲"


def test_a_job_stopped_by_the_soft_time_limit_fails_with_a_chinese_message(
    small_sync_limit, ledger, chief
):
    from celery.exceptions import SoftTimeLimitExceeded

    data = ledger_export(tasks=Task.objects.filter(inspection=ledger))
    with mock.patch("tracker.services.ledger_jobs._queue"):
        upload(logged_in(chief), ledger, data)
    job = LedgerJob.objects.get()
    with mock.patch("tracker.services.ledger_jobs._preview", side_effect=SoftTimeLimitExceeded):
        assert celery_tasks.ledger_job_run(job.pk) == "failed"
    job.refresh_from_db()
    assert job.state == LedgerJobState.FAILED
    assert "处理超时" in job.message
    page = logged_in(chief).get(f"/ledger/jobs/{job.pk}/").content.decode()
    assert "处理超时" in page
    limits = (celery_tasks.ledger_job_run.soft_time_limit, celery_tasks.ledger_job_run.time_limit)
    assert limits == (600, 660)


def test_the_queued_name_is_the_celery_task():
    from tracker.services.ledger_jobs import LEDGER_JOB_TASK

    assert celery_tasks.ledger_job_run.name == LEDGER_JOB_TASK


def test_the_status_endpoint_reports_progress_to_the_owner_only(
    small_sync_limit, ledger, chief, sam
):
    data = ledger_export(tasks=Task.objects.filter(inspection=ledger))
    with mock.patch("tracker.services.ledger_jobs._queue"):
        upload(logged_in(chief), ledger, data)
    job = LedgerJob.objects.get()

    status = logged_in(chief).get(f"/ledger/jobs/{job.pk}/status/").json()
    assert status == {"id": job.pk, "state": "queued", "state_label": "排队中", "done": 0,
                      "total": 8, "percent": 0, "finished": False}
    assert logged_in(sam).get(f"/ledger/jobs/{job.pk}/status/").status_code == 404
    assert logged_in(sam).get(f"/ledger/jobs/{job.pk}/").status_code == 404
    assert logged_in(sam).post(f"/ledger/jobs/{job.pk}/confirm/").status_code == 404

    celery_tasks.ledger_job_run(job.pk)
    status = logged_in(chief).get(f"/ledger/jobs/{job.pk}/status/").json()
    assert (status["state"], status["percent"], status["finished"]) == ("preview", 100, True)


def test_the_api_status_endpoint_is_the_owners_and_in_the_schema(
    small_sync_limit, ledger, chief, sam
):
    with mock.patch("tracker.services.ledger_jobs._queue"):
        upload(logged_in(chief), ledger,
               ledger_export(tasks=Task.objects.filter(inspection=ledger)))
    job = LedgerJob.objects.get()
    owner, other = APIClient(), APIClient()
    owner.force_authenticate(chief)
    other.force_authenticate(sam)

    body = owner.get(f"/api/v1/ledger-jobs/{job.pk}/").json()
    assert (body["kind"], body["state"], body["progress_total"], body["percent"]) == (
        "import", "queued", 8, 0
    )
    assert other.get(f"/api/v1/ledger-jobs/{job.pk}/").status_code == 404
    assert other.get("/api/v1/ledger-jobs/").json()["count"] == 0
    assert APIClient().get(f"/api/v1/ledger-jobs/{job.pk}/").status_code in (401, 403)
    schema = owner.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/ledger-jobs/{id}/" in schema


def test_a_large_export_is_a_job_with_a_download_for_its_owner(
    small_sync_limit, ledger, alice, chief, django_capture_on_commit_callbacks
):
    client = logged_in(chief)
    with mock.patch("tracker.services.ledger_jobs._queue"):
        response = client.get(f"/ledger/export/?inspection={ledger.pk}")
    job = LedgerJob.objects.get()
    assert response["Location"] == f"/ledger/jobs/{job.pk}/"
    assert client.get(f"/ledger/jobs/{job.pk}/download/").status_code == 404  # not yet

    assert celery_tasks.ledger_job_run(job.pk) == LedgerJobState.DONE
    download = client.get(f"/ledger/jobs/{job.pk}/download/")
    assert download.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    assert ws.max_row == 2 + 8
    assert logged_in(alice).get(f"/ledger/jobs/{job.pk}/download/").status_code == 404
    assert "我最近的导入导出" in client.get("/ledger/").content.decode()


def test_the_blank_template_is_downloadable_from_the_page(alice):
    response = logged_in(alice).get("/ledger/template/")
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.content)).sheetnames == ["整改台账", "填写说明"]
