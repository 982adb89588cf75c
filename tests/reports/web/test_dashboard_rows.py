"""挂图作战's table rows are written in Python (reports/web/dashboard_rows.py): they must be
byte for byte what the template's own loops wrote. The loops below are the template's, as
they stood before (reports_web/dashboard.html with reports_web/_figures_cells.html inlined),
rendered beside the functions on the same rows: awkward names, every light, with and
without the drill-down, 重点 only, a key task without a deadline."""

import datetime as dt
import re

import pytest
from django.template import engines
from django.utils import timezone

from reports.web import dashboard_rows
from tracker.deadlines import deadline_state
from tracker.figures.rollups import Figures, Row
from tracker.models import Inspection, Task, TaskPriority, TaskStatus, Unit

CELLS = """<td class="text-end fig-total">{{ f.total }}</td>
<td class="text-end fig-completed">{{ f.completed }}</td>
<td class="text-end">{{ f.basically_completed }}</td>
<td class="text-end">{{ f.long_term }}</td>
<td class="text-end">{{ f.not_completed }}</td>
<td class="text-end fig-rate">{{ f.completion_rate }}%</td>
<td class="text-end">{{ f.broad_rate }}%</td>
<td class="text-end{% if f.overdue %} text-light-red{% endif %}">{{ f.overdue }}</td>
"""

INSPECTION_LOOP = """{% for row in inspection_rows %}{% with f=row.figures %}
        <tr class="inspection-row" data-inspection="{{ row.key }}" data-light="{{ f.light }}">
          <td><span class="light-dot light-{{ f.light }}"></span>{{ f.light_label }}</td>
          <td><a href="?inspection={{ row.key }}{% if key_only %}&amp;is_key=on{% endif %}">{{ row.label }}</a> <a class="small no-print findings-link" href="{% url 'reports_web:findings' %}?inspection={{ row.key }}">对账</a></td>
          """ + CELLS + """
        </tr>
      {% endwith %}{% endfor %}"""  # noqa: E501

UNIT_LOOP = """{% for row in unit_rows %}{% with f=row.figures %}
        <tr class="unit-row" data-unit="{{ row.key }}" data-light="{{ f.light }}">
          <td><span class="light-dot light-{{ f.light }}"></span>{{ f.light_label }}</td>
          <td>{% if row.key in drillable and row.key != unit.pk %}<a href="?{% if inspection %}inspection={{ inspection.pk }}&amp;{% endif %}unit={{ row.key }}{% if key_only %}&amp;is_key=on{% endif %}">{{ row.label }}</a>{% else %}{{ row.label }}{% endif %}</td>
          """ + CELLS + """
          <td class="no-print"><a class="small" href="{% url 'web:task_list' %}?lead_unit={{ row.key }}{% if inspection %}&amp;inspection={{ inspection.pk }}{% endif %}{% if key_only %}&amp;is_key=true{% endif %}">任务清单</a></td>
        </tr>
      {% endwith %}{% endfor %}"""  # noqa: E501

KEY_LOOP = """{% for task, state in key_panel.pressing %}
        <tr class="key-task-row" data-task="{{ task.pk }}"><td>{% include "_light.html" %}</td><td><a href="{% url 'web:task_detail' task.pk %}">{{ task.title }}</a></td><td>{{ task.get_priority_display }}</td><td>{{ task.lead_unit.name }}</td><td>{{ task.deadline|date:"Y-m-d"|default:"—" }}</td><td>{{ task.get_status_display }}</td></tr>
      {% endfor %}"""  # noqa: E501

OVERDUE_LOOP = """{% for task, state in overdue_rows %}
        <tr><td>{% include "_light.html" %}</td><td><a href="{% url 'web:task_detail' task.pk %}">{{ task.title }}</a><div class="small text-muted">{{ task.inspection.title }}</div></td><td>{{ task.lead_unit.name }}</td><td>{{ task.deadline|date:"Y-m-d" }}</td><td>{{ task.get_status_display }}</td></tr>
      {% endfor %}"""  # noqa: E501

AWKWARD = 'A&B <i>"局"</i> \'x\''


def _template(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


def _rows() -> list[Row]:
    return [
        Row(7, AWKWARD, Figures(total=10, completed=4, basically_completed=1, long_term=2,
                                in_progress=3, overdue=2, due_soon=1),
            {"parent_id": 1, "path": "/1/7/", "depth": 1}),
        Row(8, "乡镇", Figures(total=3, completed=1, not_started=2, due_soon=1),
            {"parent_id": 7, "path": "/1/7/8/", "depth": 2}),
        Row(9, "村", Figures(total=6, completed=6), {"parent_id": 7, "path": "/1/7/9/",
                                                    "depth": 2}),
        Row(10, "空", Figures(), {"parent_id": 7, "path": "/1/7/10/", "depth": 2}),
    ]


@pytest.mark.parametrize("key_only", [False, True])
def test_inspection_rows_are_the_templates(key_only):
    rows = _rows()
    assert {row.figures.light for row in rows} == {"red", "yellow", "green"}
    html = dashboard_rows.inspection_rows_html(rows, key_only=key_only)
    assert html == _template(INSPECTION_LOOP, inspection_rows=rows, key_only=key_only)
    assert "A&amp;B &lt;i&gt;&quot;局&quot;&lt;/i&gt; &#x27;x&#x27;" in html


@pytest.mark.parametrize("key_only", [False, True])
@pytest.mark.parametrize("drilled", [False, True])
def test_unit_rows_are_the_templates(key_only, drilled):
    rows = _rows()
    inspection = Inspection(pk=3, title="巡察") if drilled else None
    unit = Unit(pk=7, name=AWKWARD, path="/1/7/") if drilled else None
    drillable = {1, 7, 8}
    html = dashboard_rows.unit_rows_html(rows, inspection=inspection, unit=unit,
                                         key_only=key_only, drillable=drillable)
    expected = _template(UNIT_LOOP, unit_rows=rows, inspection=inspection, unit=unit,
                         key_only=key_only, drillable=drillable)
    assert html == expected
    # The drilled-into unit is not a link to itself; a unit with units below it is.
    def drills_to(pk):
        return re.search(rf'href="\?(inspection=3&amp;)?unit={pk}[&"]', html) is not None

    assert drills_to(7) is not drilled
    assert drills_to(8)
    assert not drills_to(9)


def test_key_task_and_overdue_rows_are_the_templates():
    today = timezone.localdate()
    town = Unit(pk=4, name=AWKWARD)
    inspection = Inspection(pk=2, title="第一<轮>巡察")
    tasks = [
        Task(pk=11, title=AWKWARD, priority=TaskPriority.URGENT, status=TaskStatus.IN_PROGRESS,
             deadline=today - dt.timedelta(days=9), lead_unit=town, inspection=inspection),
        Task(pk=12, title="临期", priority=TaskPriority.HIGH, status=TaskStatus.NOT_STARTED,
             deadline=today, lead_unit=town, inspection=inspection),
        Task(pk=13, title="远", priority=TaskPriority.NORMAL, status=TaskStatus.SUBMITTED,
             deadline=today + dt.timedelta(days=90), lead_unit=town, inspection=inspection),
        Task(pk=14, title="无时限", priority=TaskPriority.ELEVATED,
             status=TaskStatus.IN_PROGRESS, deadline=None, lead_unit=town,
             inspection=inspection),
    ]
    pairs = [(task, deadline_state(status=task.status, deadline=task.deadline, today=today))
             for task in tasks]
    assert {state.light for _, state in pairs} == {"red", "yellow", "green", "none"}
    key_html = dashboard_rows.key_task_rows_html(pairs)
    assert key_html == _template(KEY_LOOP, key_panel={"pressing": pairs})
    assert "<td>—</td>" in key_html  # no deadline

    overdue = pairs[:3]  # the list's rows have a deadline
    values = [{"id": task.pk, "title": task.title, "status": task.status,
               "deadline": task.deadline, "inspection__title": task.inspection.title,
               "lead_unit__name": task.lead_unit.name} for task, _ in overdue]
    assert set(values[0]) == set(dashboard_rows.OVERDUE_FIELDS)
    overdue_html = dashboard_rows.overdue_rows_html(values, today=today)
    assert overdue_html == _template(OVERDUE_LOOP, overdue_rows=overdue)
    assert "第一&lt;轮&gt;巡察" in overdue_html


def test_no_rows_write_nothing():
    assert dashboard_rows.inspection_rows_html([], key_only=False) == ""
    assert dashboard_rows.unit_rows_html([], inspection=None, unit=None, key_only=False,
                                         drillable=set()) == ""
    assert dashboard_rows.key_task_rows_html([]) == ""
    assert dashboard_rows.overdue_rows_html([], today=timezone.localdate()) == ""
