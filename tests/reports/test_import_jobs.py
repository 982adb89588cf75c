"""Issue #14: an upload is parsed by a Celery job with time and memory limits, never in the web
process. The job reads the file in a child process capped in address space and wall-clock time;
the task has soft and hard time limits, runs on the "documents" queue and is idempotent."""

import datetime as dt
from pathlib import Path
from unittest import mock

import pytest
from celery.app.routes import MapRoute
from django.conf import settings
from django.utils import timezone

from config import celery_queues
from config.celery_app import app
from reports import tasks as report_tasks
from reports.models import ReportImport, ReportImportState, SourceReport
from reports.parsing.reading import DocumentError, ReadLimits
from reports.parsing.sandbox import read_report_in_child
from reports.services import (
    REPORT_IMPORT_TASK,
    report_import_failed,
    report_import_run,
    report_import_submit,
)
from tests.reports.hostile_files import pdf_with_inflating_stream

pytestmark = pytest.mark.django_db
REPORT = Path(__file__).parent / "fixtures" / "qinghe_redacted_report.txt"
MB = 1024 * 1024


def submit(actor, data: bytes | None = None, name: str = REPORT.name) -> ReportImport:
    return report_import_submit(data=REPORT.read_bytes() if data is None else data,
                                filename=name, actor=actor)


# --- The child process's caps (no database) ------------------------------------------------


@pytest.mark.django_db(False)
def test_a_stream_inflating_past_the_memory_cap_stops_the_child_not_the_worker():
    """Nothing in this PDF declares its size: only the memory cap stops it."""
    data = pdf_with_inflating_stream(200 * MB)
    assert len(data) < 2 * MB

    with pytest.raises(DocumentError) as error:
        read_report_in_child(data, "报告.pdf", ReadLimits(), memory_bytes=160 * MB, timeout=60)

    assert error.value.code == "parse_memory"
    assert "内存超过 160 MB 的上限" in error.value.message


@pytest.mark.django_db(False)
def test_a_child_over_its_time_is_killed():
    with pytest.raises(DocumentError) as error:
        read_report_in_child(REPORT.read_bytes(), "报告.txt", ReadLimits(), memory_bytes=512 * MB,
                             timeout=0.01)

    assert error.value.code == "parse_timeout"
    assert "超过 0.01 秒仍未完成" in error.value.message


@pytest.mark.django_db(False)
def test_the_child_reads_what_the_process_would():
    read = read_report_in_child(REPORT.read_bytes(), "报告.txt", ReadLimits(),
                                memory_bytes=512 * MB, timeout=60)
    assert read.document.encoding == "utf-8"
    assert any(f.total == 21 for f in read.extraction.figures)
    assert len(read.content_hash) == 64


# --- The job --------------------------------------------------------------------------------


def test_submitting_stores_the_upload_and_queues_the_job_after_commit(
    chief, private_media, django_capture_on_commit_callbacks
):
    with (mock.patch("reports.services._queue") as queued,
          django_capture_on_commit_callbacks(execute=True)):
        job = submit(chief)

    queued.assert_called_once_with(job.pk)
    assert (job.state, job.size, job.original_name) == ("queued", REPORT.stat().st_size,
                                                        REPORT.name)
    assert job.file.name.startswith("reports/pending/")
    assert not SourceReport.objects.exists()  # nothing read yet


def test_a_job_is_done_once_and_its_pending_copy_is_dropped(chief, private_media):
    job = submit(chief)
    pending = Path(job.file.path)

    assert report_import_run(job_id=job.pk) == "done"
    assert report_import_run(job_id=job.pk) == "done"  # a second delivery: nothing to do

    job.refresh_from_db()
    assert (job.created_report, job.report.figures.filter(total=21).count()) == (True, 1)
    assert SourceReport.objects.count() == 1
    assert not job.file
    assert not pending.exists()


def test_a_job_left_running_by_a_dead_worker_is_taken_again(chief, private_media):
    job = submit(chief)
    now = timezone.now()
    ReportImport.objects.filter(pk=job.pk).update(state="running", started_at=now)
    assert report_import_run(job_id=job.pk, now=now) == "running"  # another worker has it

    later = now + dt.timedelta(seconds=settings.REPORT_IMPORT_TIME_LIMIT + 1)
    assert report_import_run(job_id=job.pk, now=later) == "done"


def test_a_refused_file_fails_its_job_with_the_readers_reason(chief, private_media):
    job = submit(chief, data=bytes(range(256)) * 40, name="乱码.txt")

    assert report_import_run(job_id=job.pk) == "failed"

    job.refresh_from_db()
    assert job.reason == "undecodable"
    assert "无法读取" in job.message
    assert not job.file
    assert not SourceReport.objects.exists()


def test_a_job_the_worker_gave_up_on_is_recorded_as_failed(chief, private_media):
    job = submit(chief)
    with mock.patch("reports.services.report_import_run",
                    side_effect=report_tasks.SoftTimeLimitExceeded()):
        assert report_tasks.report_import_run.run(job.pk) == "failed"

    job.refresh_from_db()
    assert (job.state, job.reason) == ("failed", "parse_timeout")
    assert "超时" in job.message
    report_import_failed(job_id=job.pk, reason="x", message="y")  # a finished job stays as is
    job.refresh_from_db()
    assert job.reason == "parse_timeout"


# --- The Celery task ------------------------------------------------------------------------


def test_the_task_has_the_time_limits_and_runs_on_the_files_queue():
    app.loader.import_default_modules()
    task = app.tasks[REPORT_IMPORT_TASK]
    assert task.name == report_tasks.report_import_run.name == "reports.tasks.report_import_run"
    assert (task.soft_time_limit, task.time_limit) == (
        settings.REPORT_IMPORT_SOFT_TIME_LIMIT, settings.REPORT_IMPORT_TIME_LIMIT
    )
    assert settings.REPORT_PARSE_TIMEOUT_SECONDS < task.soft_time_limit < task.time_limit
    assert MapRoute(celery_queues.ROUTES)(REPORT_IMPORT_TASK)["queue"] == celery_queues.DOCUMENTS


def test_the_states_are_the_models():
    assert set(ReportImportState.values) == {"queued", "running", "done", "failed"}
