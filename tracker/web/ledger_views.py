"""整改台账 pages: export (at once, or as a job for a large ledger), the blank template, and
the two-step import (upload → preview → confirm) with its job page and progress."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from django.views.decorators.http import require_GET, require_POST

from tracker import access
from tracker.errors import DomainError, ImportRejected
from tracker.models import LedgerJob, LedgerJobKind, LedgerJobState
from tracker.selectors import (
    inspection_choices_for_filter,
    unit_for_filter,
)
from tracker.services import ledger as ledger_services
from tracker.services import ledger_jobs
from tracker.services.audit import AuditAction, audit_origin, audit_record
from tracker.web import selectors
from tracker.web.forms import LedgerImportForm, TaskFilterForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = (
        f"attachment; filename=\"ledger.xlsx\"; filename*=UTF-8''{escape_uri_path(filename)}"
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _ledger_page(request: HttpRequest, *, import_form: LedgerImportForm | None = None,
                 export_form: TaskFilterForm | None = None, rejected: ImportRejected | None = None,
                 error: str = "", status: int = 200) -> HttpResponse:
    user = request.user
    if import_form is None:
        import_form = LedgerImportForm(
            inspections=selectors.inspections_for_import(user=user),
            initial={"inspection": request.GET.get("inspection") or None},
        )
    if export_form is None:
        export_form = TaskFilterForm(
            request.GET or None, inspection_choices=inspection_choices_for_filter(user=user),
        )
    return render(request, "web/ledger.html", {
        "title": "整改台账",
        "supervisor": access.is_supervisor_or_admin(user),
        "import_form": import_form,
        "export_form": export_form,
        "rejected": rejected,
        "error": error,
        "jobs": ledger_jobs.recent_ledger_jobs(user=user),
    }, status=status)


@login_required
@require_GET
def ledger(request: HttpRequest) -> HttpResponse:
    """整改台账: export the ledger for a filter (everyone, within their own scope); import a
    ledger into an inspection they see (each row as their role allows); their recent jobs."""
    return _ledger_page(request)


@login_required
@require_GET
def ledger_template(request: HttpRequest) -> HttpResponse:
    """The blank ledger with its 填写说明 sheet."""
    response = HttpResponse(ledger_services.ledger_template(), content_type=XLSX)
    return _attachment(response, "整改台账模板.xlsx")


@login_required
@require_POST
def ledger_import(request: HttpRequest) -> HttpResponse:
    """Step one: store the file and preview it (at once when small, in the worker when large)."""
    user = request.user
    form = LedgerImportForm(request.POST, request.FILES,
                            inspections=selectors.inspections_for_import(user=user))
    if not form.is_valid():
        return _ledger_page(request, import_form=form, status=400,
                            error="填写的内容有误，请按提示修改后重新提交")
    upload = form.cleaned_data["file"]
    try:
        # One byte over the limit is enough for the service to refuse a file as too large.
        job = ledger_jobs.ledger_job_import_create(
            actor=user, inspection=form.cleaned_data["inspection"], filename=upload.name,
            data=upload.read(settings.TRACKER_LEDGER_MAX_BYTES + 1),
        )
    except ImportRejected as rejected:
        return _ledger_page(request, import_form=form, rejected=rejected, status=400)
    except DomainError as error:
        return _ledger_page(request, import_form=form, error=error.message,
                            status=error.status_code)
    ledger_jobs.ledger_job_dispatch(job)
    if job.state == LedgerJobState.FAILED or (job.state == LedgerJobState.PREVIEW and job.errors):
        # A small file with errors: every error listed on the page, as before the preview.
        return _ledger_page(request, import_form=form, rejected=ImportRejected(job.errors),
                            status=400)
    return redirect("web:ledger_job", pk=job.pk)


def _own_job(request: HttpRequest, pk: int) -> LedgerJob:
    job = ledger_jobs.ledger_jobs_of(user=request.user).filter(pk=pk).first()
    if job is None:
        raise Http404("台账任务不存在")
    return job


@login_required
@require_GET
def ledger_job(request: HttpRequest, pk: int) -> HttpResponse:
    """A job's page: the progress bar while it runs, the preview to confirm, the result."""
    job = _own_job(request, pk)
    preview = job.preview or {}
    rows = preview.get("rows", [])
    return render(request, "web/ledger_job.html", {
        "title": "整改台账导入导出",
        "job": job,
        "running": job.state in (LedgerJobState.QUEUED, LedgerJobState.RUNNING,
                                 LedgerJobState.APPLYING),
        "counts": preview.get("counts", {}),
        "new_rows": [r for r in rows if r["kind"] == "new"],
        "changed_rows": [r for r in rows if r["kind"] == "changed"],
        "conflict_rows": [r for r in rows if r["kind"] == "conflict"],
        "may_confirm": job.state == LedgerJobState.PREVIEW and not job.errors,
    })


@login_required
@require_GET
def ledger_job_status(request: HttpRequest, pk: int) -> JsonResponse:
    """What the progress bar polls."""
    job = _own_job(request, pk)
    return JsonResponse({
        "id": job.pk, "state": job.state, "state_label": job.get_state_display(),
        "done": job.progress_done, "total": job.progress_total, "percent": job.percent,
        "finished": job.state not in (LedgerJobState.QUEUED, LedgerJobState.RUNNING,
                                      LedgerJobState.APPLYING),
    })


@login_required
@require_POST
def ledger_job_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Step two: apply the previewed ledger, all or nothing."""
    job = _own_job(request, pk)
    try:
        ledger_jobs.ledger_job_confirm(job=job, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("web:ledger_job", pk=job.pk)
    ledger_jobs.ledger_job_dispatch(job)
    if job.state == LedgerJobState.DONE:
        messages.success(request, f"{job.inspection.title}：{job.message}")
    return redirect("web:ledger_job", pk=job.pk)


@login_required
@require_GET
def ledger_job_download(request: HttpRequest, pk: int) -> FileResponse:
    job = _own_job(request, pk)
    if job.kind != LedgerJobKind.EXPORT or job.state != LedgerJobState.DONE:
        raise Http404("导出文件尚未生成")
    audit_record(actor=request.user, action=AuditAction.LEDGER_EXPORT, target=job.inspection,
                 target_label=job.result_name, note=f"{job.progress_total}项（后台导出）",
                 **audit_origin(request))
    response = FileResponse(job.result_file.open("rb"), content_type=XLSX)
    return _attachment(response, job.result_name or "整改台账.xlsx")


@login_required
@require_GET
def ledger_export(request: HttpRequest) -> HttpResponse:
    """The ledger .xlsx of the tasks the reader sees, narrowed by the same filters as the task
    list (inspection, status including 已逾期, unit); a large one as a job for the worker."""
    user = request.user
    form = TaskFilterForm(request.GET, inspection_choices=inspection_choices_for_filter(user=user))
    if not form.is_valid():
        return _ledger_page(request, export_form=form, status=400,
                            error="筛选条件有误，请重新选择后导出")
    filters = form.task_filters()
    asked = filters.get("lead_unit") or filters.get("unit")
    unit = unit_for_filter(user=user, pk=asked)
    if asked and unit is None:
        raise Http404("单位不存在或不在您的查看范围内")
    inspection = form.cleaned_data.get("inspection")
    tasks = selectors.task_list_for_page(user=user, filters=filters)
    name = inspection.title if inspection else "整改台账"
    if unit is not None:
        name += f"（{unit.name}）"
    filename = f"{name}台账（{timezone.localdate():%Y%m%d}）.xlsx"
    count = tasks.count()
    if count > settings.TRACKER_LEDGER_SYNC_MAX_ROWS:
        job = ledger_jobs.ledger_job_export_create(
            actor=user, filters=filters, filename=filename, count=count
        )
        ledger_jobs.ledger_job_dispatch(job)
        return redirect("web:ledger_job", pk=job.pk)
    response = HttpResponse(ledger_services.ledger_export(tasks=tasks), content_type=XLSX)
    audit_record(actor=user, action=AuditAction.LEDGER_EXPORT, target=inspection,
                 target_label=filename, note=f"{count}项", **audit_origin(request))
    return _attachment(response, filename)

