"""An uploaded report read by a real `celery worker` process, reached through the configured
broker (the worker fixture of the reminder tests: its own queue, the test database): the web
side stores and queues, the worker's child process reads, the report appears."""

from pathlib import Path

import pytest

import config.settings.test as worker_settings
from reports.models import ReportImport, ReportImportState, SourceReport
from reports.services import report_import_submit
from tests.tracker.reminders.conftest import (  # noqa: F401 - fixtures used by name
    celery_worker,
    smtp_server,
    wait_until,
)

REPORT = Path(__file__).parent / "fixtures" / "qinghe_redacted_report.txt"


@pytest.mark.worker
def test_an_upload_is_read_by_a_real_worker(
    transactional_db, celery_worker, settings, chief  # noqa: F811
):
    # The worker reads the upload where its own settings say; files are removed afterwards.
    settings.PRIVATE_MEDIA_ROOT = worker_settings.PRIVATE_MEDIA_ROOT
    job = report_import_submit(data=REPORT.read_bytes(), filename=REPORT.name, actor=chief)
    try:
        wait_until(
            lambda: ReportImport.objects.get(pk=job.pk).state in (
                ReportImportState.DONE, ReportImportState.FAILED
            ),
            timeout=60, what="worker 读取上传的报告",
        )
        job.refresh_from_db()
        assert (job.state, job.created_report) == ("done", True), job.message
        assert job.report.figures.filter(total=21).exists()
        assert not job.file  # the pending copy is gone
        assert "Traceback" not in celery_worker.output()
    finally:
        for report in SourceReport.objects.all():
            report.file.delete(save=False)
        if job.file:
            job.file.delete(save=False)
