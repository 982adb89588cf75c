"""Ledger imports and exports as jobs (LedgerJob): small ones are done at once by the web
process, large ones (more than TRACKER_LEDGER_SYNC_MAX_ROWS rows) by the Celery worker, with
progress the page and the API poll. With TRACKER_LEDGER_IMPORTS_IN_WORKER (production's
default) every import is the worker's, however small.

An import job: upload (the bounds checked first: the file's size, the zip's declared
uncompressed sizes, each sheet's declared dimension; then the file is stored and its rows
counted from that dimension; nothing is parsed in the web process for a large file, nor for a
sheet that does not declare its size or whose XML is large) → preview (the
worker parses and plans: new, changed, unchanged, conflicts, errors) → confirm (the owner) →
apply (all or nothing, through tracker.services.ledger). Each step claims the job with a
conditional update on its state, so running a step twice has the effect of running it once.
"""

import datetime as dt
import uuid

from celery import current_app
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tracker.errors import ActionForbidden, DomainError, ImportRejected, InvalidInput
from tracker.models import Inspection, LedgerJob, LedgerJobKind, LedgerJobState, User
from tracker.selectors import task_list
from tracker.services import ledger as ledger_services

J = LedgerJobState
LEDGER_JOB_TASK = "tracker.tasks.ledger_job_run"
# A workbook whose sheets and shared strings are larger than this (as XML) is parsed by the
# worker whatever rows it declares (about 4,500 rows as the export writes them).
SYNC_MAX_SHEET_BYTES = 4 * 1024 * 1024


def ledger_job_is_large(job: LedgerJob) -> bool:
    """Whether the worker does this job (else the web process, at once)."""
    if job.kind == LedgerJobKind.IMPORT and settings.TRACKER_LEDGER_IMPORTS_IN_WORKER:
        return True
    return job.progress_total > settings.TRACKER_LEDGER_SYNC_MAX_ROWS


def ledger_jobs_of(*, user: User) -> QuerySet[LedgerJob]:
    """The person's own jobs, newest first: a job is its owner's alone (its preview and file
    hold what the owner may see), so the page, the status endpoint and the API ask this."""
    if not user.is_authenticated or not user.is_active:
        return LedgerJob.objects.none()
    return LedgerJob.objects.filter(user=user).select_related("inspection")


def recent_ledger_jobs(*, user: User, limit: int = 10) -> QuerySet[LedgerJob]:
    """The ledger page lists these to come back to."""
    return ledger_jobs_of(user=user)[:limit]


def may_see_ledger_job(user: User, job: LedgerJob) -> bool:
    """A job is its owner's: its preview and file hold what the owner may see, nobody else."""
    return user.is_authenticated and user.is_active and job.user_id == user.pk


def _claim(job: LedgerJob, source: str, target: str, now: dt.datetime, **extra) -> bool:
    changed = LedgerJob.objects.filter(pk=job.pk, state=source).update(state=target, **extra)
    if changed:
        job.refresh_from_db()
    return changed == 1


def _progress_writer(job: LedgerJob):
    def write(done: int, total: int) -> None:
        LedgerJob.objects.filter(pk=job.pk).update(progress_done=done, progress_total=total)

    return write


def _finish(job: LedgerJob, *, state: str, now: dt.datetime, **fields) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    job.state = state
    job.finished_at = now
    if state in (J.DONE, J.PREVIEW):
        job.progress_done = job.progress_total
    job.save()


# --- Import ----------------------------------------------------------------------------------


@transaction.atomic
def ledger_job_import_create(
    *, actor: User, inspection: Inspection, filename: str, data: bytes,
    now: dt.datetime | None = None,
) -> LedgerJob:
    """Store an uploaded ledger for preview. The size is checked here, before any work; the
    row count is read from the sheet's declared dimension only."""
    now = now or timezone.now()
    ledger_services.ensure_may_import(actor, inspection)
    shape = ledger_services.check_upload(data, filename=filename)
    rows = max((shape.rows or 0) - 2, 0)
    if shape.rows is None or shape.sheet_bytes > SYNC_MAX_SHEET_BYTES:
        # A sheet that does not declare its size, or XML that is large whatever the sheets
        # declare, is parsed by the worker (the estimate is replaced by the real count as it
        # reads).
        rows = max(rows, settings.TRACKER_LEDGER_SYNC_MAX_ROWS + 1)
    job = LedgerJob(
        kind=LedgerJobKind.IMPORT, user=actor, inspection=inspection, state=J.QUEUED,
        source_name=filename[:255], progress_total=rows, created_at=now,
    )
    job.source_file.save(f"{uuid.uuid4().hex}.xlsx", ContentFile(data), save=False)
    job.save()
    return job


def _preview(job: LedgerJob, now: dt.datetime) -> None:
    if not _claim(job, J.QUEUED, J.RUNNING, now, started_at=now):
        return
    try:
        with job.source_file.open("rb") as f:
            data = f.read()
        plan = ledger_services.ledger_preview(
            inspection=job.inspection, actor=job.user, data=data, filename=job.source_name,
            progress=_progress_writer(job),
        )
    except ImportRejected as exc:
        job.refresh_from_db()
        _finish(job, state=J.FAILED, now=timezone.now(), errors=exc.errors, message=exc.message)
        return
    except DomainError as exc:
        job.refresh_from_db()
        _finish(job, state=J.FAILED, now=timezone.now(), errors=[exc.message],
                message=exc.message)
        return
    job.refresh_from_db()
    preview = plan.as_json()
    _finish(job, state=J.PREVIEW, now=timezone.now(), preview=preview,
            errors=preview["errors"])


def ledger_job_confirm(*, job: LedgerJob, actor: User, now: dt.datetime | None = None
                       ) -> LedgerJob:
    """The owner confirms a preview without errors: the job moves to applying (the caller
    runs it at once or queues it)."""
    now = now or timezone.now()
    if not may_see_ledger_job(actor, job):
        raise ActionForbidden("只能确认您本人上传的台账")
    if job.kind != LedgerJobKind.IMPORT or job.state != J.PREVIEW:
        raise InvalidInput("该台账当前不能确认导入（已导入、失败或尚未完成预览）")
    if job.errors:
        raise InvalidInput("台账有错误，不能导入：请修改后重新上传")
    if not _claim(job, J.PREVIEW, J.APPLYING, now):
        raise InvalidInput("该台账已确认导入")
    return job


def _apply(job: LedgerJob, now: dt.datetime) -> None:
    # The job row is locked for the whole apply: a second run of the task (a redelivered
    # message) waits, then finds the job done and does nothing.
    with transaction.atomic():
        job = LedgerJob.objects.select_for_update().get(pk=job.pk)
        if job.state != J.APPLYING:
            return
        with job.source_file.open("rb") as f:
            data = f.read()
        try:
            result = ledger_services.ledger_apply(
                inspection=job.inspection, actor=job.user, data=data,
                filename=job.source_name, expected_fingerprint=job.preview.get("fingerprint"),
                now=now,
            )
        except ImportRejected as exc:
            _finish(job, state=J.FAILED, now=timezone.now(), errors=exc.errors,
                    message=exc.message)
            return
        except DomainError as exc:
            _finish(job, state=J.FAILED, now=timezone.now(), errors=[exc.message],
                    message=exc.message)
            return
        _finish(job, state=J.DONE, now=timezone.now(), message=result.message,
                errors=list(result.conflicts))


# --- Export ----------------------------------------------------------------------------------


def ledger_job_export_create(
    *, actor: User, filters: dict, filename: str, count: int, now: dt.datetime | None = None
) -> LedgerJob:
    """A large export for the worker: the reader's filters (the task list's names, plain
    values) are kept and applied again by the worker, scoped to the same reader."""
    now = now or timezone.now()
    return LedgerJob.objects.create(
        kind=LedgerJobKind.EXPORT, user=actor, inspection_id=filters.get("inspection"),
        state=J.QUEUED, filters=filters, result_name=filename[:255], progress_total=count,
        created_at=now,
    )


def _export(job: LedgerJob, now: dt.datetime) -> None:
    if not _claim(job, J.QUEUED, J.RUNNING, now, started_at=now):
        return
    tasks = task_list(user=job.user, filters=job.filters)
    body = ledger_services.ledger_export(tasks=tasks, now=now, progress=_progress_writer(job))
    job.refresh_from_db()
    job.result_file.save(f"{uuid.uuid4().hex}.xlsx", ContentFile(body), save=False)
    _finish(job, state=J.DONE, now=timezone.now(), message="导出完成")


# --- Running a job -----------------------------------------------------------------------------


def ledger_job_run(*, job_id: int, now: dt.datetime | None = None) -> str:
    """Do whatever the job is waiting for (preview, apply, export); nothing when it waits for
    nothing. The Celery task and the web process (small jobs) both call this."""
    now = now or timezone.now()
    job = LedgerJob.objects.select_related("user", "inspection").filter(pk=job_id).first()
    if job is None:
        return "missing"
    if job.kind == LedgerJobKind.IMPORT and job.state == J.QUEUED:
        _preview(job, now)
    elif job.kind == LedgerJobKind.IMPORT and job.state == J.APPLYING:
        _apply(job, now)
    elif job.kind == LedgerJobKind.EXPORT and job.state == J.QUEUED:
        _export(job, now)
    return LedgerJob.objects.values_list("state", flat=True).get(pk=job_id)


LEDGER_JOB_TIMED_OUT = "处理超时，已停止：文件可能过大或过于复杂，请拆分后重新上传或导出"


def ledger_job_timed_out(*, job_id: int, now: dt.datetime | None = None) -> None:
    """The worker's soft time limit stopped a job: it fails with a message, whatever step it
    was in (an apply's transaction has rolled back: nothing of it was written)."""
    now = now or timezone.now()
    LedgerJob.objects.filter(pk=job_id).exclude(state__in=[J.DONE, J.FAILED]).update(
        state=J.FAILED, finished_at=now, message=LEDGER_JOB_TIMED_OUT,
        errors=[LEDGER_JOB_TIMED_OUT],
    )


def _queue(job_id: int) -> None:
    # By name: the tasks import the services, never the reverse.
    current_app.signature(LEDGER_JOB_TASK, args=(job_id,)).delay()


def ledger_job_dispatch(job: LedgerJob) -> None:
    """Run a small job now; queue a large one for the worker (after the commit that stored
    it, so the worker finds it)."""
    if ledger_job_is_large(job):
        transaction.on_commit(lambda: _queue(job.pk))
    else:
        ledger_job_run(job_id=job.pk)
        job.refresh_from_db()
