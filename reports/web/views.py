"""挂图作战 (the dashboard) and the monthly report, for supervisors. Figures come from the
rollups (reports/web/rollups_source.py); lists from the scoped selectors."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from django.views.decorators.http import require_GET

from reports.rollups import Grouping, RollupFilters, rollup, trend
from reports.web import charts
from reports.web.forms import DashboardFilterForm, MonthlyReportForm
from reports.web.monthly_report import OverdueItem, build_monthly_report, subject_of
from tracker.selectors import task_overdue_list
from tracker.web.lights import deadline_state
from tracker.web.selectors import inspections_for_filter, unit_for_filter
from tracker.web.views import is_supervisor

OVERDUE_SHOWN = 50


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
    if not is_supervisor(request.user):
        raise PermissionDenied("只有督导人员可以查看")


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Per inspection and per unit: completion, the four buckets, lights, overdue, trend.

    Drill-down: all inspections → one inspection's units (?inspection=) → a unit's subtree
    (&unit=) → its tasks (the task list, filtered)."""
    _supervisors_only(request)
    user = request.user
    today = timezone.localdate()
    inspections = inspections_for_filter(user=user)
    form = DashboardFilterForm(request.GET or None, inspections=inspections)
    data = form.cleaned_data if form.is_valid() else {}
    inspection = data.get("inspection")
    unit = unit_for_filter(user=user, pk=data.get("unit"))
    filters = RollupFilters(inspection_id=inspection.pk if inspection else None, unit=unit)

    by_inspection = rollup(user=user, group_by=Grouping.INSPECTION, filters=filters)
    by_unit = rollup(user=user, group_by=Grouping.UNIT, filters=filters)
    unit_rows = units_one_level_down(by_unit.rows, unit)
    overdue = task_overdue_list(user=user, today=today).order_by("deadline", "id")
    if inspection:
        overdue = overdue.filter(inspection=inspection)
    if unit:
        overdue = overdue.filter(lead_unit__path__startswith=unit.path)
    overdue_rows = [
        (task, deadline_state(status=task.status, deadline=task.deadline, today=today))
        for task in overdue[:OVERDUE_SHOWN]
    ]
    series = trend(user=user, filters=filters)
    # Charts name an inspection by its team where it has one (short enough for an axis).
    inspection_names = {i.pk: i.team or i.title for i in inspections}
    total = by_inspection.total
    return render(request, "reports_web/dashboard.html", {
        "title": "挂图作战",
        "form": form,
        "inspection": inspection,
        "unit": unit,
        "today": today,
        "total": total,
        "sentence": total.sentence(
            subject=subject_of(inspection) if inspection else "各巡视巡察反馈意见"
        ),
        "inspection_rows": by_inspection.rows,
        "unit_rows": unit_rows,
        "drillable": {r.extra["parent_id"] for r in by_unit.rows if r.figures.total},
        "overdue_rows": overdue_rows,
        "overdue_count": total.overdue,
        "series": series,
        "charts": {
            "pie": charts.buckets_pie("整改任务完成情况", total),
            "inspections": charts.buckets_by_group(
                "各巡视巡察整改情况（项）", by_inspection.rows,
                label_of=lambda row: inspection_names.get(row.key, row.label),
            ),
            "units": charts.completion_rates(
                "各责任单位整改完成率",
                sorted(unit_rows, key=lambda r: -float(r.figures.completion_rate))[:25],
            ),
            "trend": charts.trend_line("整改完成率趋势", series) if series else "",
        },
    })


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
    overdue = task_overdue_list(user=user, today=as_of).filter(inspection=inspection)
    body = build_monthly_report(
        inspection=inspection,
        as_of=as_of,
        sentence=total.sentence(subject=subject_of(inspection)),
        figures=total,
        unit_rows=[row for row in units if row.figures.total and row.extra["depth"] > 0]
        or [row for row in units if row.figures.total],
        overdue=[
            OverdueItem(task.title, task.lead_unit.name, task.deadline)
            for task in overdue.order_by("deadline", "id")
        ],
        compiled_by=(user.unit.name if user.unit else "整改工作领导小组办公室"),
    )
    response = HttpResponse(
        body,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    filename = f"{inspection.title}进展情况（截至{as_of:%Y%m%d}）.docx"
    response["Content-Disposition"] = (
        f"attachment; filename=\"report.docx\"; filename*=UTF-8''{escape_uri_path(filename)}"
    )
    return response
