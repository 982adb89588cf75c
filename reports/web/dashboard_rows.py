"""The repeated table rows of 挂图作战, written out in Python.

The page prints up to 20 inspection rows, 20 unit rows, 10 key tasks and 50 overdue tasks,
each a dozen cells; through the template engine (a variable lookup, an {% if %}, an
{% include %} or a {% url %} at a time) those loops cost more than the rest of the page's
Python together at a million tasks (docs/performance.md, 挂图作战). Each row here is one
`str.format` of the markup the template wrote, every value escaped (html.escape, as Django's
`escape`), byte for byte the same: tests/reports/web/test_dashboard_rows.py renders the
template's own loops beside these and compares them. Like tracker/web/task_rows.py for
我的任务.

Each function returns the rows of one <tbody> joined, each with the whitespace the
template's loop put around it, so the page is unchanged.
"""

from html import escape

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from tracker.deadlines import deadline_states, light_cell_html
from tracker.models import TaskStatus

# reports_web/_figures_head.html's columns: the counts and rates of one row's figures.
CELLS = (
    '<td class="text-end fig-total">{total}</td>\n'
    '<td class="text-end fig-completed">{completed}</td>\n'
    '<td class="text-end">{basically_completed}</td>\n'
    '<td class="text-end">{long_term}</td>\n'
    '<td class="text-end">{not_completed}</td>\n'
    '<td class="text-end fig-rate">{completion_rate}%</td>\n'
    '<td class="text-end">{broad_rate}%</td>\n'
    '<td class="text-end{overdue_class}">{overdue}</td>\n'
)

INSPECTION_ROW = (
    '\n        <tr class="inspection-row" data-inspection="{key}" data-light="{light}">'
    '\n          <td><span class="light-dot light-{light}"></span>{light_label}</td>'
    '\n          <td><a href="?inspection={key}{key_only}">{label}</a> '
    '<a class="small no-print findings-link" href="{findings}?inspection={key}">对账</a></td>'
    "\n          {cells}"
    "\n        </tr>\n      "
)

UNIT_ROW = (
    '\n        <tr class="unit-row" data-unit="{key}" data-light="{light}">'
    '\n          <td><span class="light-dot light-{light}"></span>{light_label}</td>'
    "\n          <td>{name}</td>"
    "\n          {cells}"
    '\n          <td class="no-print"><a class="small" href="{task_list}?lead_unit={key}'
    '{list_query}">任务清单</a></td>'
    "\n        </tr>\n      "
)


KEY_TASK_ROW = (
    '\n        <tr class="key-task-row" data-task="{pk}"><td>{light}</td>'
    '<td><a href="{url}">{title}</a></td><td>{priority}</td><td>{lead_unit}</td>'
    "<td>{deadline}</td><td>{status}</td></tr>\n      "
)

OVERDUE_ROW = (
    '\n        <tr><td>{light}</td><td><a href="{url}">{title}</a>'
    '<div class="small text-muted">{inspection}</div></td><td>{lead_unit}</td>'
    "<td>{deadline}</td><td>{status}</td></tr>\n      "
)

STATUS_LABELS = {value: str(label) for value, label in TaskStatus.choices}

# The columns of an overdue row, read as plain values (no model instances).
OVERDUE_FIELDS = ("id", "title", "status", "deadline", "inspection__title", "lead_unit__name")


def _e(value) -> str:
    return escape(str(value))


def _cells(f) -> str:
    """One row's figures (a tracker.figures.rollups.Figures)."""
    return CELLS.format(
        total=f.total, completed=f.completed, basically_completed=f.basically_completed,
        long_term=f.long_term, not_completed=f.not_completed,
        completion_rate=_e(f.completion_rate), broad_rate=_e(f.broad_rate),
        overdue_class=" text-light-red" if f.overdue else "", overdue=f.overdue,
    )


def inspection_rows_html(rows, *, key_only: bool) -> SafeString:
    """The 各巡视巡察 table's rows (rollup rows keyed by inspection id)."""
    findings = reverse("reports_web:findings")
    key_query = "&amp;is_key=on" if key_only else ""
    out = []
    for row in rows:
        f = row.figures
        out.append(INSPECTION_ROW.format(
            key=_e(row.key), light=_e(f.light), light_label=_e(f.light_label),
            key_only=key_query, label=_e(row.label), findings=findings, cells=_cells(f),
        ))
    return mark_safe("".join(out))


def unit_rows_html(rows, *, inspection, unit, key_only: bool, drillable: set) -> SafeString:
    """The 各责任单位 table's rows (rollup rows keyed by unit id): a unit with units of its
    own below (`drillable`), other than the unit drilled into, links one level down."""
    task_list = reverse("web:task_list")
    drill_query = f"inspection={_e(inspection.pk)}&amp;" if inspection else ""
    list_query = f"&amp;inspection={_e(inspection.pk)}" if inspection else ""
    if key_only:
        list_query += "&amp;is_key=true"
    key_suffix = "&amp;is_key=on" if key_only else ""
    here = unit.pk if unit is not None else None
    out = []
    for row in rows:
        f = row.figures
        key, label = _e(row.key), _e(row.label)
        if row.key in drillable and (here is None or row.key != here):
            name = f'<a href="?{drill_query}unit={key}{key_suffix}">{label}</a>'
        else:
            name = label
        out.append(UNIT_ROW.format(
            key=key, light=_e(f.light), light_label=_e(f.light_label), name=name,
            cells=_cells(f), task_list=task_list, list_query=list_query,
        ))
    return mark_safe("".join(out))


def _light(state) -> str:
    """templates/_light.html, with the newline its include brings."""
    return light_cell_html(state, _e) + "\n"


def _detail_prefix() -> str:
    return reverse("web:task_detail", args=[0]).removesuffix("0/")  # then pk + "/"


def key_task_rows_html(pressing) -> SafeString:
    """The 重点任务 panel's rows: (task, its deadline state) pairs, the task with its lead
    unit (tracker.figures.key_tasks.key_task_panel)."""
    detail = _detail_prefix()
    return mark_safe("".join(
        KEY_TASK_ROW.format(
            pk=_e(task.pk), light=_light(state), url=f"{detail}{task.pk}/",
            title=_e(task.title), priority=_e(task.get_priority_display()),
            lead_unit=_e(task.lead_unit.name),
            deadline=task.deadline.isoformat() if task.deadline else "—",
            status=_e(task.get_status_display()),
        )
        for task, state in pressing
    ))


def overdue_rows_html(rows: list[dict], *, today) -> SafeString:
    """The 逾期任务清单's rows, from plain values (OVERDUE_FIELDS); each light and wording
    the rule book's (tracker.deadlines.deadline_states)."""
    detail = _detail_prefix()
    states = deadline_states(((r["status"], r["deadline"]) for r in rows), today=today)
    return mark_safe("".join(
        OVERDUE_ROW.format(
            light=_light(state), url=f"{detail}{row['id']}/", title=_e(row["title"]),
            inspection=_e(row["inspection__title"]), lead_unit=_e(row["lead_unit__name"]),
            deadline=row["deadline"].isoformat() if row["deadline"] else "",
            status=_e(STATUS_LABELS.get(row["status"], row["status"])),
        )
        for row, state in zip(rows, states, strict=True)
    ))
