"""Supervisors' pages of the reports app: 挂图作战 (the dashboard), the monthly report, report
documents (upload, read, confirm or reject what was extracted) and 核对发现 (reconciliation).
Figures come from the rollups; lists from the scoped selectors; writes from reports.services.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from reports import services as report_services
from reports.models import ItemKind, ReportImportState, ReviewState
from reports.selectors import reconciliation
from reports.web import charts, dashboard_rows
from reports.web import selectors as report_selectors
from reports.web.forms import (
    DashboardFilterForm,
    FigureConfirmForm,
    MeasureConfirmForm,
    MonthlyReportForm,
    ProblemConfirmForm,
    ReportDetailsForm,
    ReportUploadForm,
    first_error,
)
from reports.web.highlight import Span, pieces
from reports.web.monthly_report import OverdueItem, build_monthly_report, subject_of
from tracker import access
from tracker.deadlines import days_left_text, light_rule_text
from tracker.errors import DomainError
from tracker.figures.key_tasks import key_task_panel
from tracker.figures.rollups import (
    Grouping,
    RollupFilters,
    overdue_tasks,
    rollup,
    rollups,
)
from tracker.figures.trend import trend
from tracker.models import TaskPriority, TaskType, subtree_q
from tracker.selectors import (
    inspection_choices_for_filter,
    inspections_for_filter,
    task_overdue_list,
    unit_for_filter,
    unit_list_to_manage,
)
from tracker.services.audit import AuditAction, audit_origin, audit_record

OVERDUE_SHOWN = 50
# Rows per page of the dashboard's inspection and unit tables (and of their charts).
DASHBOARD_ROWS = 20
# The trend chart's points: the last three years by month.
DASHBOARD_TREND_PERIODS = 36
# The numbers a reported figure is compared on, as the findings table heads them.
COMPARED_FIELDS = [
    ("total", "总数"), ("completed", "已完成整改"), ("basically_completed", "基本完成整改"),
    ("long_term", "长期坚持"), ("not_completed", "未完成整改"), ("in_progress", "正在整改"),
]


def units_one_level_down(rows, unit):
    """The unit rows a drill-down level shows: the children of the chosen unit (or of the
    single top of the reader's scope), each with tasks; a unit with no such child shows
    itself."""
    listed = [row for row in rows if row.figures.total]
    keys = {row.key for row in listed}
    if unit is not None:
        parents = [unit.pk]
    else:
        tops = [row for row in listed if row.extra["parent_id"] not in keys]
        if len(tops) != 1:
            return tops
        parents = [tops[0].key]
    children = [row for row in listed if row.extra["parent_id"] in parents]
    return children or [row for row in listed if row.key in parents]


def _supervisors_only(request: HttpRequest) -> None:
    if not access.is_supervisor_or_admin(request.user):
        raise PermissionDenied("只有督导人员可以查看")


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Per inspection and per unit: completion, the four buckets, lights, overdue, trend.

    Drill-down: all inspections → one inspection's units (?inspection=) → a unit's subtree
    (&unit=) → its tasks (the task list, filtered)."""
    _supervisors_only(request)
    user = access.as_instance(request.user)
    today = timezone.localdate()
    form = DashboardFilterForm(request.GET or None,
                               inspection_choices=inspection_choices_for_filter(user=user))
    data = form.cleaned_data if form.is_valid() else {}
    inspection = data.get("inspection")
    unit = unit_for_filter(user=user, pk=data.get("unit"))
    key_only = bool(data.get("is_key"))
    filters = RollupFilters(inspection_id=inspection.pk if inspection else None, unit=unit,
                            key_only=key_only)

    # Both tables from one pass over the figures (tracker.figures.rollups.rollups).
    figures = rollups(user=user, groupings=[Grouping.INSPECTION, Grouping.UNIT], filters=filters)
    by_inspection, by_unit = figures[Grouping.INSPECTION], figures[Grouping.UNIT]
    unit_rows = units_one_level_down(by_unit.rows, unit)
    # The page does not grow with the ledger: both tables (and their charts) are paged, the
    # overdue list shows its first rows and links to the whole list, the trend its last periods.
    inspection_page = Paginator(by_inspection.rows, DASHBOARD_ROWS).get_page(
        request.GET.get("inspections_page"))
    unit_page = Paginator(unit_rows, DASHBOARD_ROWS).get_page(request.GET.get("units_page"))
    overdue = task_overdue_list(user=user, today=today).order_by("deadline", "id")
    if inspection:
        overdue = overdue.filter(inspection=inspection)
    if unit:
        overdue = overdue.filter(subtree_q(unit, via="lead_unit__"))
    if key_only:
        overdue = overdue.filter(is_key=True)
    # Plain values, not model instances: the rows are written out in Python (dashboard_rows).
    overdue_rows = list(
        overdue.prefetch_related(None).values(*dashboard_rows.OVERDUE_FIELDS)[:OVERDUE_SHOWN]
    )
    overdue_query = {"status": "overdue"}
    if inspection:
        overdue_query["inspection"] = inspection.pk
    if unit:
        overdue_query["lead_unit"] = unit.pk
    if key_only:
        overdue_query["is_key"] = "true"
    key_panel = key_task_panel(
        user=user, today=today, inspection_id=inspection.pk if inspection else None, unit=unit
    )
    key_query = {"is_key": "true"}
    if inspection:
        key_query["inspection"] = inspection.pk
    if unit:
        key_query["lead_unit"] = unit.pk
    series = trend(user=user, filters=filters)[-DASHBOARD_TREND_PERIODS:]
    total = by_inspection.total
    here = request.GET.copy()
    return render(request, "reports_web/dashboard.html", {
        "title": "挂图作战",
        "form": form,
        "inspection": inspection,
        "unit": unit,
        "key_only": key_only,
        "today": today,
        "total": total,
        "sentence": total.sentence(
            subject=subject_of(inspection) if inspection else "各巡视巡察反馈意见"
        ),
        "inspection_rows": inspection_page.object_list,
        "inspection_rows_html": dashboard_rows.inspection_rows_html(
            inspection_page.object_list, key_only=key_only),
        "inspection_page": inspection_page,
        "inspection_page_query": _without(here, "inspections_page"),
        "unit_rows": unit_page.object_list,
        "unit_rows_html": dashboard_rows.unit_rows_html(
            unit_page.object_list, inspection=inspection, unit=unit, key_only=key_only,
            drillable={r.extra["parent_id"] for r in by_unit.rows if r.figures.total}),
        "unit_page": unit_page,
        "unit_page_query": _without(here, "units_page"),
        "overdue_rows": overdue_rows,
        "overdue_rows_html": dashboard_rows.overdue_rows_html(overdue_rows, today=today),
        "overdue_count": total.overdue,
        "overdue_shown": OVERDUE_SHOWN,
        "overdue_list_url": f"{reverse('web:task_list')}?{urlencode(overdue_query)}",
        "light_rule": light_rule_text(),
        "key_panel": key_panel,
        "key_rows_html": dashboard_rows.key_task_rows_html(key_panel.pressing),
        "key_list_url": f"{reverse('web:task_list')}?{urlencode(key_query)}",
        "series": series,
        "charts": {
            "pie": charts.buckets_pie("整改任务完成情况", total),
            "inspections": charts.buckets_by_group(
                "各巡视巡察整改情况（项）", inspection_page.object_list,
                # An inspection by its team where it has one (short enough for an axis).
                label_of=lambda row: row.short_label or row.label,
            ),
            "units": charts.completion_rates(
                "各责任单位整改完成率",
                sorted(unit_page.object_list, key=lambda r: -float(r.figures.completion_rate)),
            ),
            "trend": charts.trend_line("整改完成率趋势", series) if series else "",
        },
    })


def _without(query: QueryDict, name: str) -> str:
    """The page's query string without one parameter (a pager adds its own)."""
    query = query.copy()
    query.pop(name, None)
    return query.urlencode()


@login_required
@require_GET
def monthly_report(request: HttpRequest) -> HttpResponse:
    """Choose an inspection and a date; with both, answer the .docx."""
    _supervisors_only(request)
    user = request.user
    inspections = inspections_for_filter(user=user)
    form = MonthlyReportForm(
        request.GET or None, inspections=inspections,
        initial={"as_of": timezone.localdate()},
    )
    if not form.is_valid():
        return render(request, "reports_web/monthly_report.html", {
            "title": "月度整改进展报告", "form": form,
        })
    inspection, as_of = form.cleaned_data["inspection"], form.cleaned_data["as_of"]
    # A past date reads the ledger back from the history rows; today (or later) is the ledger
    # as it stands, the same figures as the dashboard.
    past = as_of < timezone.localdate()
    filters = RollupFilters(inspection_id=inspection.pk, as_of=as_of if past else None)
    total = rollup(user=user, group_by=Grouping.TOTAL, filters=filters).total
    units = rollup(user=user, group_by=Grouping.UNIT, filters=filters).rows
    # Overdue as the ledger stood on that day (a task closed since still counts then), the
    # same tasks the figures count.
    overdue = overdue_tasks(user=user, filters=filters)
    body = build_monthly_report(
        inspection=inspection,
        as_of=as_of,
        sentence=total.sentence(subject=subject_of(inspection)),
        figures=total,
        unit_rows=[row for row in units if row.figures.total and row.extra["depth"] > 0]
        or [row for row in units if row.figures.total],
        overdue=[
            OverdueItem(task.title, task.lead_unit, task.deadline,
                        days_left_text(task.status, task.deadline, as_of))
            for task in overdue
        ],
        compiled_by=(user.unit.name if user.unit else "整改工作领导小组办公室"),
    )
    response = HttpResponse(
        body,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    filename = f"{inspection.title}进展情况（截至{as_of:%Y%m%d}）.docx"
    audit_record(actor=user, action=AuditAction.REPORT_EXPORT, target=inspection,
                 target_label=filename, **audit_origin(request))
    response["Content-Disposition"] = (
        f"attachment; filename=\"report.docx\"; filename*=UTF-8''{escape_uri_path(filename)}"
    )
    return response


# --- Report documents -----------------------------------------------------------------------


def _report_list_page(request: HttpRequest, *, form: ReportUploadForm | None = None,
                      error: str = "", status: int = 200) -> HttpResponse:
    return render(request, "reports_web/report_list.html", {
        "title": "报告文件",
        "form": form or ReportUploadForm(),
        "reports": report_selectors.report_list(user=request.user),
        "error": error,
    }, status=status)


@login_required
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    """报告文件: the reports in the reader's scope and an upload form."""
    _supervisors_only(request)
    return _report_list_page(request)


@login_required
@require_POST
def report_upload(request: HttpRequest) -> HttpResponse:
    _supervisors_only(request)
    form = ReportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _report_list_page(request, form=form, status=400, error="请选择要上传的报告文件")
    upload = form.cleaned_data["file"]
    try:
        report_services.ensure_upload_size(upload.size)  # before it is read into memory
        job = report_services.report_import_submit(
            data=upload.read(), filename=upload.name, actor=request.user
        )
    except DomainError as error:
        return _report_list_page(request, form=form, status=error.status_code,
                                 error=f"“{upload.name}”未能导入：{error.message}")
    return redirect("reports_web:report_import", pk=job.pk)


# While the worker reads an upload, its page asks the browser to come back this often.
IMPORT_REFRESH_SECONDS = 2


@login_required
@require_GET
def report_import(request: HttpRequest, pk: int) -> HttpResponse:
    """An upload being read by the worker: "正在读取…" until it is done, then the report (or
    the reason it was not imported). Only the uploader's own uploads."""
    _supervisors_only(request)
    job = report_services.report_imports_of(user=request.user).filter(pk=pk).first()
    if job is None:
        raise Http404("该上传记录不存在")
    if job.state == ReportImportState.DONE and job.report_id is None:  # deleted since
        return _report_list_page(request, error=f"“{job.original_name}”导入的报告已被删除。")
    if job.state == ReportImportState.DONE:
        if job.created_report:
            report = job.report
            messages.success(request, f"已导入“{job.original_name}”：提取到数据"
                                      f"{report.figures.count()}条、条目{report.items.count()}条，"
                                      "请逐条确认或驳回。")
        else:
            messages.info(request, f"“{job.original_name}”与已导入的报告内容相同，未重复导入。")
        return redirect("reports_web:report_detail", pk=job.report_id)
    if job.state == ReportImportState.FAILED:
        return _report_list_page(request, error=f"“{job.original_name}”未能导入：{job.message}")
    response = render(request, "reports_web/report_import.html", {
        "title": "正在读取报告", "job": job, "refresh": IMPORT_REFRESH_SECONDS,
    })
    response["Refresh"] = str(IMPORT_REFRESH_SECONDS)
    return response


def _visible_report(request: HttpRequest, pk: int):
    report = report_selectors.report_detail(user=request.user, pk=pk)
    if report is None:
        raise Http404("报告不存在或您无权查看")
    return report


def _report_page(request: HttpRequest, report, *, error: str = "", failed: str = "",
                 status: int = 200) -> HttpResponse:
    user = request.user
    figures = list(report.figures.all())
    items = list(report.items.all())
    # The refused form shows again with what was chosen and typed in it.
    typed = request.POST.dict() if failed and request.method == "POST" else {}
    for f in figures:
        f.typed = typed if failed == f"figure-{f.pk}" else {}
    for i in items:
        i.typed = typed if failed == f"item-{i.pk}" else {}
    details = typed if failed == "report-details" else {
        "report_date": report.report_date.isoformat() if report.report_date else "",
        "inspection": str(report.inspection_id or ""),
    }
    spans = [Span(f.start, f.end, "figure", f"figure-{f.pk}") for f in figures] + [
        Span(i.start, i.end, i.kind, f"item-{i.pk}") for i in items
    ]
    return render(request, "reports_web/report_detail.html", {
        "title": report.title or report.original_name,
        "report": report,
        "pieces": pieces(report.text, spans),
        "figures": figures,
        "problems": [i for i in items if i.kind == ItemKind.PROBLEM],
        "measures": [i for i in items if i.kind == ItemKind.MEASURE],
        "proposed": ReviewState.PROPOSED,
        # Reading a report is not acting on it (tracker.access.may_manage_report).
        "may_act": access.may_manage_report(user, report),
        "choices": {
            "inspections": list(report_selectors.visible_inspections(user=user)),
            "problem_inspections": list(report_selectors.inspections_for_problems(user=user)),
            "problems": list(report_selectors.problems_for_tasks(user=user)),
            "units": list(unit_list_to_manage(user=user)),
            "task_types": TaskType.choices,
            "priorities": TaskPriority.choices,
        },
        "details": details,
        "error": error,
        "failed": failed,
    }, status=status)


@login_required
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One report: its cleaned text with what was extracted marked, and a confirm or reject
    form for each proposal."""
    _supervisors_only(request)
    return _report_page(request, _visible_report(request, pk))


def _review(request: HttpRequest, report_id: int, anchor: str, form, call, done: str
            ) -> HttpResponse:
    """Validate `form` (None: nothing to fill), run the service, back to the report."""
    report = _visible_report(request, report_id)
    if form is not None and not form.is_valid():
        return _report_page(request, report, error=first_error(form), failed=anchor, status=400)
    try:
        call(form.cleaned_data if form is not None else {})
    except DomainError as error:
        return _report_page(request, report, error=error.message, failed=anchor,
                            status=error.status_code)
    messages.success(request, done)
    return redirect(f"{reverse('reports_web:report_detail', args=[report.pk])}#{anchor}")


@login_required
@require_POST
def report_details(request: HttpRequest, pk: int) -> HttpResponse:
    """Set a report's date and inspection (reports.services.report_update)."""
    _supervisors_only(request)
    report = _visible_report(request, pk)
    form = ReportDetailsForm(
        request.POST, inspections=report_selectors.visible_inspections(user=request.user)
    )
    return _review(request, report.pk, "report-details", form, lambda data: (
        report_services.report_update(report=report, actor=request.user,
                                      report_date=data["report_date"],
                                      inspection=data["inspection"])
    ), "已保存报告日期和对应巡视巡察")


def _figure(request: HttpRequest, pk: int):
    _supervisors_only(request)
    figure = report_selectors.figure_for_review(user=request.user, pk=pk)
    if figure is None:
        raise Http404("该条数据不存在或您无权查看")
    return figure


def _item(request: HttpRequest, pk: int):
    _supervisors_only(request)
    item = report_selectors.item_for_review(user=request.user, pk=pk)
    if item is None:
        raise Http404("该条内容不存在或您无权查看")
    return item


@login_required
@require_POST
def figure_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    figure = _figure(request, pk)
    form = FigureConfirmForm(
        request.POST, inspections=report_selectors.visible_inspections(user=request.user)
    )
    return _review(request, figure.report_id, f"figure-{pk}", form, lambda data: (
        report_services.figure_confirm(figure=figure, actor=request.user,
                                       inspection=data["inspection"])
    ), "已确认该条数据，将用于对账")


@login_required
@require_POST
def figure_reject(request: HttpRequest, pk: int) -> HttpResponse:
    figure = _figure(request, pk)
    return _review(request, figure.report_id, f"figure-{pk}", None, lambda data: (
        report_services.figure_reject(figure=figure, actor=request.user)
    ), "已驳回该条数据")


@login_required
@require_POST
def item_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """A problem item becomes a 反馈问题 of an inspection; a measure item an 整改任务."""
    item = _item(request, pk)
    user = request.user
    if item.kind == ItemKind.PROBLEM:
        form = ProblemConfirmForm(
            request.POST, inspections=report_selectors.inspections_for_problems(user=user)
        )
        return _review(request, item.report_id, f"item-{pk}", form, lambda data: (
            report_services.item_confirm_as_problem(
                item=item, actor=user, inspection=data["inspection"], aspect=data["aspect"]
            )
        ), "已确认为反馈问题")
    form = MeasureConfirmForm(
        request.POST, problems=report_selectors.problems_for_tasks(user=user),
        units=unit_list_to_manage(user=user),
    )
    return _review(request, item.report_id, f"item-{pk}", form, lambda data: (
        report_services.item_confirm_as_task(
            item=item, actor=user, problem=data["problem"], lead_unit=data["lead_unit"],
            deadline=data["deadline"], task_type=TaskType(data["task_type"]),
            is_key=data["is_key"], priority=data["priority"],
        )
    ), "已确认为整改任务")


@login_required
@require_POST
def item_reject(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    return _review(request, item.report_id, f"item-{pk}", None, lambda data: (
        report_services.item_reject(item=item, actor=request.user)
    ), "已驳回该条内容")


# --- 核对发现: reported figures against the ledger -----------------------------------------


def _finding_row(result) -> dict:
    """One reconciled figure as the table shows it: per compared number the reported value
    (None when the report does not state it, or redacts it), the ledger's, and whether they
    disagree."""
    differing = {d.field for d in result.disagreements}
    return {
        "figure": result.figure,
        "report": result.figure.report,
        "as_of": result.as_of,
        "cells": [
            {"reported": getattr(result.figure, field), "ledger": result.ledger[field],
             "differs": field in differing}
            for field, _ in COMPARED_FIELDS
        ],
        "disagreements": result.disagreements,
    }


@login_required
@require_GET
def findings(request: HttpRequest) -> HttpResponse:
    """Per inspection, each confirmed reported figure next to the ledger as of its report's
    date, with every disagreement ("一致" when there is none)."""
    _supervisors_only(request)
    user = request.user
    with_findings = report_selectors.inspections_with_findings(user=user)
    form = DashboardFilterForm(request.GET or None,
                               inspections=report_selectors.visible_inspections(user=user))
    chosen = form.cleaned_data.get("inspection") if form.is_valid() else None
    if request.GET.get("inspection") and chosen is None:
        raise Http404("巡视巡察不存在或您无权查看")
    shown = [chosen] if chosen else list(with_findings)
    sections = [
        {"inspection": inspection,
         "rows": [_finding_row(r) for r in reconciliation(user=user, inspection=inspection)]}
        for inspection in shown
    ]
    return render(request, "reports_web/findings.html", {
        "title": "核对发现",
        "form": form,
        "inspection": chosen,
        "sections": sections,
        "compared": [label for _, label in COMPARED_FIELDS],
    })
