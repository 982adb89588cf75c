"""Celery tasks of the reports app (queue "documents", config/celery_queues.py). They take ids and
call services; no logic lives here."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from reports import services


@shared_task(
    name="reports.tasks.report_import_run", ignore_result=True, acks_late=True,
    soft_time_limit=settings.REPORT_IMPORT_SOFT_TIME_LIMIT,
    time_limit=settings.REPORT_IMPORT_TIME_LIMIT,
)
def report_import_run(job_id: int) -> str:
    """Read an uploaded report and store it (idempotent by the job's state: a second delivery
    finds nothing to do). The reading itself runs in a child process with a memory cap and a
    shorter time limit; the soft limit here is the last resort."""
    try:
        return services.report_import_run(job_id=job_id)
    except SoftTimeLimitExceeded:
        services.report_import_failed(
            job_id=job_id, reason="parse_timeout",
            message="读取文件超时，已停止。文件可能过于复杂，请另存为新文件或拆分后再上传。",
        )
        return "failed"
