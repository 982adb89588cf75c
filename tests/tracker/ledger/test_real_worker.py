"""A large import's preview done by a real `celery worker` process, reached through the
configured broker (the worker fixture of the reminder tests: its own queue, the test database)."""

import pytest

import config.settings.test as worker_settings
from tests.tracker.ledger.helpers import edit, make_ledger
from tests.tracker.reminders.conftest import (  # noqa: F401 - fixtures used by name
    celery_worker,
    smtp_server,
    wait_until,
)
from tracker.models import LedgerJob, LedgerJobState, Task
from tracker.services import ledger_jobs
from tracker.services.ledger import ledger_export


@pytest.mark.worker
def test_a_queued_import_is_previewed_by_a_real_worker(
    transactional_db, celery_worker, settings, bureau, county, chief  # noqa: F811
):
    # The worker reads the upload where its own settings say; the file is removed afterwards.
    settings.PRIVATE_MEDIA_ROOT = worker_settings.PRIVATE_MEDIA_ROOT
    settings.TRACKER_LEDGER_SYNC_MAX_ROWS = 3
    inspection = make_ledger(8, [bureau, county])
    data = edit(ledger_export(tasks=Task.objects.filter(inspection=inspection)),
                {"任务1": {"责任人": "甲"}})

    job = ledger_jobs.ledger_job_import_create(
        actor=chief, inspection=inspection, filename="台账.xlsx", data=data
    )
    try:
        ledger_jobs.ledger_job_dispatch(job)  # not in a transaction: queued at once
        wait_until(
            lambda: LedgerJob.objects.get(pk=job.pk).state == LedgerJobState.PREVIEW,
            timeout=60, what="worker 完成台账预览",
        )
        job.refresh_from_db()
        assert job.preview["counts"]["changed"] == 1
        assert job.preview["counts"]["unchanged"] == 7
        assert job.progress_done == job.progress_total == 16
        assert "Traceback" not in celery_worker.output()
    finally:
        job.source_file.delete(save=False)
