"""The rows of 我的任务, written out in Python.

The list prints 50 rows of a dozen cells; through the template engine (a variable lookup, an
{% if %} or an include at a time) the loop cost more than the rest of the page together
(docs/performance.md, 列表与我的任务). Here each row is one `format_html` of the markup below:
the same HTML the template wrote (tests compare them), every value escaped. The light cell is
templates/_light.html (tracker.deadlines.light_cell_html) and the badges
web/_priority_badges.html, as the task page shows them.
"""

from html import escape

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from tracker.deadlines import deadline_states, light_cell_html
from tracker.selectors import TaskRows

ROW = """<tr class="task-row" data-light="{light}">
  <td>{light_cell}</td>
  <td>{badges}<a class="task-title" href="{url}">{title}</a>
    <div class="small text-muted text-break">{inspection}</div></td>
  <td data-label="牵头单位">{lead_unit}{supporting}</td>
  <td class="text-nowrap" data-label="完成时限">{deadline}</td>
  <td data-label="状态"><span class="badge text-bg-{status_class}">{status}</span></td>
  <td class="cell-ack" data-label="签收">{ack}</td>
  <td class="text-nowrap cell-percent" data-label="进度">{percent}</td>
</tr>"""

STATUS_CLASSES = {"completed": "success", "submitted": "info", "not_started": "secondary",
                  "long_term": "dark", "basically_completed": "primary"}  # else warning
KEY_BADGE = mark_safe(
    '<span class="badge text-bg-danger me-1 badge-key" title="重点任务">重点</span>'
)
NO_ACK = mark_safe('<span class="text-muted">—</span>')
AWAITING_ACK = mark_safe('<span class="badge text-bg-warning">待签收</span>')
NO_PERCENT = mark_safe('<span class="text-muted" title="尚未填报完成进度">—</span>')


def _html(template: str, **values) -> SafeString:
    """`format_html` for the row: each value escaped unless already safe, with the standard
    library's escape (Django's `escape` is the same function behind a lazy-string wrapper,
    which cost half the row's time)."""
    return mark_safe(template.format(**{
        name: value if isinstance(value, SafeString) else escape(str(value))
        for name, value in values.items()
    }))


def _priority_class(priority: int) -> str:
    if priority >= 4:
        return "text-bg-danger"
    return "text-bg-warning" if priority == 3 else "text-bg-light border"


def _badges(row: dict) -> SafeString:
    """重点任务 and a priority above 一般 (web/_priority_badges.html)."""
    badges = KEY_BADGE if row["is_key"] else mark_safe("")
    if row["priority"] > 1:
        badges += format_html('<span class="badge {} me-1 badge-priority" title="优先级">{}</span>',
                              _priority_class(row["priority"]), row["priority_display"])
    return badges


ACK_PICK = ('<input class="form-check-input me-1 no-print ack-pick" type="checkbox" '
            'name="tasks" value="{pk}" form="ack-batch" aria-label="选择签收：{title}">'
            '<input type="hidden" name="v{pk}" value="{version}" form="ack-batch">')


def _ack(row: dict, pickable: bool) -> SafeString:
    """The 签收 cell; a task the reader may acknowledge gets the 批量签收 checkbox (outside
    the row, in the page's form="ack-batch", so that no forms are nested)."""
    if row["awaiting_ack"]:
        if pickable:
            return _html(ACK_PICK, pk=row["id"], title=row["title"],
                         version=row["version"]) + AWAITING_ACK
        return AWAITING_ACK
    if row["acknowledged_at"] is None:
        return NO_ACK
    at = timezone.localtime(row["acknowledged_at"])
    return format_html('<span class="small" title="{}">{}<br><span class="text-muted">{}</span>'
                       "</span>", f"{at:%Y-%m-%d %H:%M}", row["acknowledged_by"] or "已签收",
                       f"{at:%Y-%m-%d}")


def task_rows_html(page: TaskRows, *, today, ackable: set[int] = frozenset()
                   ) -> list[SafeString]:
    """The <tr> of each task of the page (tracker.selectors.task_rows_page), in order; its
    light and deadline wording are the rule book's (tracker.deadlines.deadline_states);
    `ackable`: the tasks whose 签收 cell offers the 批量签收 checkbox."""
    detail_url = reverse("web:task_detail", args=[0]).removesuffix("0/")  # then pk + "/"
    states = deadline_states(((r["status"], r["deadline"]) for r in page.rows), today=today)
    # A page repeats most of its values (lights, units, inspections, statuses, dates): each
    # distinct one is escaped once.
    escaped: dict = {}

    def esc(value) -> str:
        text = str(value)
        safe = escaped.get(text)
        if safe is None:
            safe = escaped[text] = escape(text)
        return safe

    rows = []
    for row, state in zip(page.rows, states, strict=True):
        supporting = page.supporting[row["id"]]
        percent = row["progress_percent"]
        rows.append(mark_safe(ROW.format(
            light=esc(state.light), light_cell=light_cell_html(state, esc),
            badges=_badges(row), url=esc(f"{detail_url}{row['id']}/"), title=esc(row["title"]),
            inspection=esc(row["inspection__title"]), lead_unit=esc(row["lead_unit__name"]),
            supporting='<div class="small text-muted">配合：{}</div>'.format(
                esc("、".join(unit["name"] for unit in supporting))) if supporting else "",
            deadline=esc(row["deadline"].isoformat() if row["deadline"] else "—"),
            status_class=esc(STATUS_CLASSES.get(row["status"], "warning")),
            status=esc(row["status_display"]), ack=_ack(row, row["id"] in ackable),
            percent=f'<span class="percent">{esc(percent)}%</span>'
            if percent is not None else NO_PERCENT,
        )))
    return rows
