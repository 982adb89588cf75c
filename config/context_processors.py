"""The navigation bar: the pages this person has, in their words."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from config.routes import address
from tracker import access

# (url name, label, who may see it: a rule of tracker.access, None for everyone). Names not yet
# routed are left out, so a page appears in the bar as soon as its app is installed.
SUPERVISORS = access.is_supervisor_or_admin
NAV = [
    ("reports_web:dashboard", "挂图作战", SUPERVISORS),
    ("web:task_list", None, None),
    ("web:review", "审核", SUPERVISORS),
    ("web:notice_register", "督办单", None),
    ("web:score_ranking", "考评排名", access.may_view_scores),
    ("web:recheck_list", "回头看", None),
    ("reports_web:monthly_report", "月度报告", SUPERVISORS),
    ("reports_web:report_list", "报告文件", SUPERVISORS),
    ("reports_web:findings", "核对发现", SUPERVISORS),
    ("web:ledger", "整改台账", None),
    ("web:inbox", "消息", None),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    supervisor = access.is_supervisor_or_admin(user)
    items = []
    for name, label, may_see in NAV:
        if may_see is not None and not may_see(user):
            continue
        url = address(name)  # None: not routed (yet)
        if url is None:
            continue
        if label is None:
            label = "任务列表" if supervisor else "我的任务"
        if name == "web:inbox":
            from tracker.web.selectors import unread_count

            unread = unread_count(user=user)
            label = f"消息（{unread}）" if unread else label
        active = request.path == url or (url != "/" and request.path.startswith(url))
        items.append({"url": url, "label": label, "active": active})
    return {"nav_items": items}


def _today() -> dt.date:
    return timezone.localdate()


def holiday_banner(request):
    """Administrators see which of this year and the next has no holiday schedule (neither the
    chinesecalendar package nor the overrides they enter): working days are Monday to Friday."""
    user = getattr(request, "user", None)
    if user is None or not access.sees_everything(user):
        return {}
    from tracker import workdays

    year = _today().year
    missing = [y for y in (year, year + 1) if not workdays.year_is_known(y)]
    if not missing:
        return {}
    return {
        "holiday_years_missing": missing,
        "holiday_calendar_url": reverse("admin:tracker_holidayoverride_calendar"),
    }
