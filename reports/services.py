"""Writes of the reports app: importing report documents, confirming what they propose, and
saving frozen rollup snapshots."""

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from reports.models import (
    ExtractedFigure,
    ExtractedItem,
    ItemKind,
    ReportImport,
    ReportImportState,
    ReviewState,
    RollupSnapshot,
    SourceReport,
)
from reports.parsing import DocumentError, report_title
from reports.parsing.reading import ReadLimits, check_upload, too_large
from reports.parsing.sandbox import ReadReport, read_report, read_report_in_child
from tracker import access
from tracker.errors import ActionForbidden, DomainError, InvalidInput, TransitionNotAllowed
from tracker.figures.rollups import Grouping, RollupFilters, rollup, rollup_as_dict
from tracker.models import Inspection, Problem, Task, TaskType, Unit, User
from tracker.services.audit import AuditAction, audit_record
from tracker.services.inspections import problem_create
from tracker.services.tasks import task_create
from tracker.text import derive_title


class DocumentRefused(DomainError):
    """A report file that cannot be read faithfully; `reason` is the reader's stable code.

    In the API's error shape: code "document_refused", the Chinese message as `detail` and as
    `fields.file`, and the reader's code as `fields.reason` (e.g. "empty", "undecodable").
    """

    code = "document_refused"
    status_code = 400

    def __init__(self, error: DocumentError):
        super().__init__(error.message, fields={"file": error.message, "reason": error.code})
        self.reason = error.code


class ReportAlreadyImported(DomainError):
    """The same content was imported before, as a report the actor may not read. The answer
    names nothing about it: not who imported it, when, its id or its title, nor that it lies
    outside the actor's scope (tracker.access.visible_reports_q decides what they read)."""

    code = "already_imported"
    status_code = 409
    default_message = "该报告（内容相同的文件）此前已经导入，本次未重复导入。"


@dataclass(frozen=True)
class ImportOutcome:
    report: SourceReport
    # False: the same content (by its normalised text, or the same bytes) was imported
    # before, as a report the actor may read; nothing changed.
    created: bool


def read_limits() -> ReadLimits:
    """The live limits on one report file (REPORT_MAX_* settings)."""
    return ReadLimits(
        max_bytes=settings.REPORT_MAX_BYTES,
        max_text_bytes=settings.REPORT_MAX_TEXT_BYTES,
        max_text_chars=settings.REPORT_MAX_TEXT_CHARS,
        max_docx_members=settings.REPORT_MAX_DOCX_PARTS,
        max_docx_inflated=settings.REPORT_MAX_DOCX_INFLATED_BYTES,
        max_docx_main_part=settings.REPORT_MAX_DOCX_MAIN_PART_BYTES,
        max_docx_ratio=settings.REPORT_MAX_DOCX_RATIO,
        max_pdf_pages=settings.REPORT_MAX_PDF_PAGES,
    )


def ensure_upload_size(size: int) -> None:
    """Refuse an upload by its declared size, before it is read into memory."""
    if size > settings.REPORT_MAX_BYTES:
        raise DocumentRefused(too_large(size, settings.REPORT_MAX_BYTES))


def report_read(*, data: bytes, filename: str, limits: ReadLimits) -> ReadReport:
    """Read and extract one file within the limits, in this process (no database)."""
    return read_report(data, filename, limits)


def report_read_bounded(*, data: bytes, filename: str) -> ReadReport:
    """Read and extract one file within the live limits, in a child process with the memory
    and time caps (REPORT_PARSE_*): what the worker and the import command do."""
    return read_report_in_child(
        data, filename, read_limits(),
        memory_bytes=settings.REPORT_PARSE_MEMORY_MB * 1024 * 1024,
        timeout=settings.REPORT_PARSE_TIMEOUT_SECONDS,
    )


def _ensure_supervisor(actor: User | None) -> None:
    # None is the command line, run by whoever administers the server.
    if actor is not None and not access.is_supervisor_or_admin(actor):
        raise ActionForbidden("只有督导人员可以导入和确认报告内容")


def _ensure_may_manage(actor: User, report: SourceReport) -> None:
    """Every write on a report (its date, inspection, figures, items) is for a supervisor who
    sees the report (tracker.access.may_manage_report)."""
    _ensure_supervisor(actor)
    if not access.may_manage_report(actor, report):
        raise ActionForbidden("该报告不在您的查看范围内，您无权处理")


def _ensure_inspection_visible(actor: User, inspection: Inspection | None) -> None:
    if inspection is not None and not Inspection.objects.filter(
        access.visible_inspections_q(actor), pk=inspection.pk
    ).exists():
        raise InvalidInput("您无权查看该巡视巡察", fields={"inspection": "无效的巡视巡察"})


def _already_imported(report: SourceReport, actor: User | None) -> ImportOutcome:
    """The earlier import, if the actor may read it; otherwise a 409 that says nothing of it."""
    if actor is None or SourceReport.objects.filter(
        access.visible_reports_q(actor), pk=report.pk
    ).exists():
        return ImportOutcome(report, created=False)
    raise ReportAlreadyImported()


def report_find_duplicate(*, data: bytes | None = None, content_hash: str = "",
                          ) -> SourceReport | None:
    """The report already imported with these bytes or this content, if any."""
    if data is not None:
        found = SourceReport.objects.filter(sha256=hashlib.sha256(data).hexdigest()).first()
        if found is not None:
            return found
    if content_hash:
        return SourceReport.objects.filter(content_hash=content_hash).first()
    return None


def report_import(
    *, data: bytes, filename: str, actor: User | None, now: dt.datetime | None = None,
    read: ReadReport | None = None,
) -> ImportOutcome:
    """Read a report and store it with its proposed figures and items, all or nothing.

    The same report imported again - the same bytes, or the same text in another encoding,
    with a BOM, CRLF line ends, or as another format - changes nothing and returns the first
    import; when the actor may not read that first import, ReportAlreadyImported (409).
    `read` is the reading done elsewhere (the worker's child process, reports.sandbox);
    without it the file is read here, within the same limits.
    """
    _ensure_supervisor(actor)
    existing = report_find_duplicate(data=data)
    if existing is not None:
        return _already_imported(existing, actor)
    if read is None:
        try:
            read = report_read(data=data, filename=filename, limits=read_limits())
        except DocumentError as error:
            raise DocumentRefused(error) from error
    existing = report_find_duplicate(content_hash=read.content_hash)
    if existing is not None:
        return _already_imported(existing, actor)
    digest = hashlib.sha256(data).hexdigest()
    try:
        report = _store(read, data, filename, digest, actor, now or timezone.now())
    except IntegrityError:
        # The same report, imported by someone else a moment ago: theirs stands.
        existing = report_find_duplicate(data=data, content_hash=read.content_hash)
        if existing is None:
            raise
        return _already_imported(existing, actor)
    audit_record(actor=actor, action=AuditAction.REPORT_IMPORT, target=report, note=filename)
    return ImportOutcome(report, created=True)


@transaction.atomic
def _store(read: ReadReport, data, filename, digest, actor, now) -> SourceReport:
    document, extraction = read.document, read.extraction
    metadata = extraction.metadata
    report = SourceReport(
        original_name=filename[:255], sha256=digest, content_hash=read.content_hash,
        size=len(data), format=document.format,
        encoding=document.encoding or "", text=extraction.text,
        title=report_title(metadata.title, filename)[:500],
        issuing_body=metadata.issuing_body or "",
        year=metadata.year, period=metadata.period or "",
        report_date=dt.date.fromisoformat(metadata.date) if metadata.date else None,
        imported_by=actor, imported_at=now,
    )
    report.file.save(f"{digest[:16]}.{document.format}", ContentFile(data), save=False)
    try:
        report.save()
        ExtractedFigure.objects.bulk_create(
            ExtractedFigure(
                report=report, kind=f.kind, body=f.body or "", counting_word=f.counting_word,
                total=f.total, completed=f.completed, basically_completed=f.basically_completed,
                long_term=f.long_term, not_completed=f.not_completed, in_progress=f.in_progress,
                counted_noun=(f.counted_noun or "")[:20], category=f.category,
                source=f.source or "", rate=f.rate or "", adds_up=f.adds_up,
                confidence=f.confidence, quote=f.quote, start=f.start, end=f.end,
            )
            for f in extraction.figures
        )
        ExtractedItem.objects.bulk_create(
            ExtractedItem(report=report, kind=kind, position=position, text=item.text,
                          start=item.start, end=item.end)
            for kind, items in ((ItemKind.PROBLEM, extraction.problems),
                                (ItemKind.MEASURE, extraction.measures))
            for position, item in enumerate(items or (), start=1)
        )
    except Exception:
        # Nothing half-stored: the rows roll back with the transaction, the file goes here.
        report.file.delete(save=False)
        raise
    return report


# --- Uploads read by the worker (issue #14) ------------------------------------------------

REPORT_IMPORT_TASK = "reports.tasks.report_import_run"
J = ReportImportState


def report_imports_of(*, user: User) -> QuerySet[ReportImport]:
    """The person's own uploads, newest first: a job is its uploader's alone (its result may
    name a report only they were allowed to see), so the page and the API ask this."""
    if not user.is_authenticated or not user.is_active:
        return ReportImport.objects.none()
    return ReportImport.objects.filter(user=user)


def report_import_submit(
    *, data: bytes, filename: str, actor: User, now: dt.datetime | None = None
) -> ReportImport:
    """Store an upload for the worker and queue it (after the commit). Only what needs no
    parsing is checked here (size, type, emptiness): the web process never reads a report."""
    now = now or timezone.now()
    _ensure_supervisor(actor)
    try:
        suffix = check_upload(data, filename, read_limits())
    except DocumentError as error:
        raise DocumentRefused(error) from error
    job = ReportImport(user=actor, original_name=filename[:255], size=len(data),
                       state=J.QUEUED, created_at=now)
    job.file.save(f"{uuid.uuid4().hex}.{suffix}", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            job.save()
            transaction.on_commit(lambda: _queue(job.pk))
    except Exception:
        job.file.delete(save=False)
        raise
    return job


def _queue(job_id: int) -> None:
    # By name: the tasks import the services, never the reverse.
    current_app.signature(REPORT_IMPORT_TASK, args=(job_id,)).delay()


def _finish(job: ReportImport, *, state: str, now: dt.datetime, **fields) -> None:
    """Record the outcome and drop the pending copy of the upload (a stored report keeps its
    own copy; a refused file is not kept)."""
    if job.file:
        job.file.delete(save=False)
    ReportImport.objects.filter(pk=job.pk).update(state=state, finished_at=now, file="",
                                                  **fields)


def report_import_run(*, job_id: int, now: dt.datetime | None = None) -> str:
    """Read a queued upload (in a child process with memory and time caps) and store the
    report through report_import. Claimed with a conditional update: a second delivery of the
    task finds nothing to do; a job left running past the task's hard time limit (its worker
    died) is claimed again. Returns the job's state."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.REPORT_IMPORT_TIME_LIMIT)
    claimed = ReportImport.objects.filter(
        Q(state=J.QUEUED) | Q(state=J.RUNNING, started_at__lt=stale), pk=job_id
    ).update(state=J.RUNNING, started_at=now)
    job = ReportImport.objects.select_related("user").filter(pk=job_id).first()
    if job is None:
        return "missing"
    if not claimed:
        return job.state
    try:
        with job.file.open("rb") as stored:
            data = stored.read()
        read = report_read_bounded(data=data, filename=job.original_name)
        outcome = report_import(data=data, filename=job.original_name, actor=job.user,
                                read=read, now=now)
    except DocumentError as error:
        _finish(job, state=J.FAILED, now=timezone.now(), reason=error.code,
                message=error.message)
    except DomainError as error:
        _finish(job, state=J.FAILED, now=timezone.now(),
                reason=getattr(error, "reason", error.code), message=error.message)
    else:
        message = ("已导入，请逐条确认或驳回提取到的内容。" if outcome.created
                   else "与已导入的报告内容相同，未重复导入。")
        _finish(job, state=J.DONE, now=timezone.now(), report=outcome.report,
                created_report=outcome.created, message=message)
    return ReportImport.objects.values_list("state", flat=True).get(pk=job_id)


def report_import_failed(*, job_id: int, reason: str, message: str,
                         now: dt.datetime | None = None) -> None:
    """The worker gave up on a job (its time limit): record it as failed, if still open."""
    job = ReportImport.objects.filter(pk=job_id, state__in=[J.QUEUED, J.RUNNING]).first()
    if job is not None:
        _finish(job, state=J.FAILED, now=now or timezone.now(), reason=reason,
                message=message)


_UNSET = object()


@transaction.atomic
def report_update(
    *, report: SourceReport, actor: User, report_date=_UNSET, inspection=_UNSET,
) -> SourceReport:
    """Set the date a report speaks for (reconciliation reads the ledger as of it) and the
    inspection it reports on. Only what is passed changes."""
    _ensure_may_manage(actor, report)
    changed = []
    if report_date is not _UNSET:
        report.report_date = report_date
        changed.append("report_date")
    if inspection is not _UNSET:
        _ensure_inspection_visible(actor, inspection)
        report.inspection = inspection
        changed.append("inspection")
    if changed:
        report.save(update_fields=changed)
    return report


def _mark_reviewed(model, pk: int, state: ReviewState, actor: User, now, **links) -> None:
    rows = model.objects.filter(pk=pk, review_state=ReviewState.PROPOSED).update(
        review_state=state, reviewed_by=actor, reviewed_at=now, **links
    )
    if rows != 1:
        raise TransitionNotAllowed("该条内容已确认或驳回，不能重复处理")


@transaction.atomic
def figure_confirm(
    *, figure: ExtractedFigure, actor: User, inspection: Inspection,
    now: dt.datetime | None = None,
) -> ExtractedFigure:
    """Link a reported figure to the inspection it reports on, for reconciliation."""
    _ensure_may_manage(actor, figure.report)
    _ensure_inspection_visible(actor, inspection)
    _mark_reviewed(ExtractedFigure, figure.pk, ReviewState.CONFIRMED, actor,
                   now or timezone.now(), inspection=inspection)
    figure.refresh_from_db()
    return figure


@transaction.atomic
def figure_reject(
    *, figure: ExtractedFigure, actor: User, now: dt.datetime | None = None
) -> ExtractedFigure:
    _ensure_may_manage(actor, figure.report)
    _mark_reviewed(ExtractedFigure, figure.pk, ReviewState.REJECTED, actor, now or timezone.now())
    figure.refresh_from_db()
    return figure


@transaction.atomic
def item_confirm_as_problem(
    *, item: ExtractedItem, actor: User, inspection: Inspection, aspect: str = "",
    number: int | None = None, now: dt.datetime | None = None,
) -> Problem:
    """A problem item becomes a Problem of the inspection (numbered after the last one)."""
    _ensure_may_manage(actor, item.report)
    if item.kind != ItemKind.PROBLEM:
        raise InvalidInput("只有“存在的问题”条目可以确认为反馈问题")
    if number is None:
        last = inspection.problems.order_by("-number").values_list("number", flat=True).first()
        number = (last or 0) + 1
    problem = problem_create(
        inspection=inspection, number=number, text=item.text, aspect=aspect, actor=actor
    )
    _mark_reviewed(ExtractedItem, item.pk, ReviewState.CONFIRMED, actor, now or timezone.now(),
                   problem=problem)
    return problem


@transaction.atomic
def item_confirm_as_task(
    *, item: ExtractedItem, actor: User, problem: Problem, lead_unit: Unit,
    deadline: dt.date | None, task_type: TaskType = TaskType.BY_DEADLINE, title: str = "",
    is_key: bool = False, priority: int = 1, now: dt.datetime | None = None,
) -> Task:
    """A measure item becomes a Task once a lead unit and a deadline are given. Without a
    title the task is named by the measure's first sentence or clause (tracker.text); the whole
    item is its measures."""
    _ensure_may_manage(actor, item.report)
    if item.kind != ItemKind.MEASURE:
        raise InvalidInput("只有“下步措施”条目可以确认为整改任务")
    task = task_create(
        problem=problem, actor=actor, title=title or derive_title(item.text), measures=item.text,
        lead_unit=lead_unit, deadline=deadline, task_type=task_type, is_key=is_key,
        priority=priority, now=now,
    )
    _mark_reviewed(ExtractedItem, item.pk, ReviewState.CONFIRMED, actor, now or timezone.now(),
                   task=task)
    return task


@transaction.atomic
def item_reject(*, item: ExtractedItem, actor: User, now: dt.datetime | None = None) -> None:
    _ensure_may_manage(actor, item.report)
    _mark_reviewed(ExtractedItem, item.pk, ReviewState.REJECTED, actor, now or timezone.now())


@transaction.atomic
def snapshot_create(
    *,
    actor: User,
    name: str,
    group_by: str,
    filters: RollupFilters,
    now: dt.datetime | None = None,
) -> RollupSnapshot:
    """Freeze the actor's rollup under a name. Without as_of it is the figures of today."""
    now = now or timezone.now()
    if not access.is_supervisor_or_admin(actor):
        raise ActionForbidden("只有督导人员可以保存统计快照")
    name = (name or "").strip()
    if not name:
        raise InvalidInput("请填写快照名称", fields={"name": "不能为空"})
    if group_by not in Grouping.values:
        raise InvalidInput("分组方式无效", fields={"group_by": "无效"})
    if RollupSnapshot.objects.filter(name=name).exists():
        raise InvalidInput(f"已有名为“{name}”的快照", fields={"name": "名称已被使用"})
    as_of = filters.as_of or timezone.localdate(now)
    result = rollup(user=actor, group_by=group_by, filters=filters)
    data = rollup_as_dict(result)
    try:
        with transaction.atomic():
            return RollupSnapshot.objects.create(
                name=name,
                group_by=group_by,
                as_of=as_of,
                params=data["filters"],
                rows=data["rows"],
                total=data["total"],
                scope_unit=None if access.sees_everything(actor) else access.scope_unit(actor),
                created_by=actor,
                created_at=now,
            )
    except IntegrityError as exc:  # the same name saved concurrently
        raise InvalidInput(f"已有名为“{name}”的快照", fields={"name": "名称已被使用"}) from exc
