"""The navigation bar: the pages this person has, in their words."""

from django.urls import NoReverseMatch, reverse

from tracker import access

# (url name, label, who: "all" | "supervisor"). Names not yet routed are left out, so a page
# appears in the bar as soon as its app is installed.
NAV = [
    ("reports_web:dashboard", "挂图作战", "supervisor"),
    ("web:task_list", None, "all"),
    ("web:review", "审核", "supervisor"),
    ("reports_web:monthly_report", "月度报告", "supervisor"),
    ("reports_web:report_list", "报告文件", "supervisor"),
    ("reports_web:findings", "核对发现", "supervisor"),
    ("web:ledger", "整改台账", "all"),
    ("web:inbox", "消息", "all"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    supervisor = access.is_supervisor_or_admin(user)
    items = []
    for name, label, who in NAV:
        if who == "supervisor" and not supervisor:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
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
