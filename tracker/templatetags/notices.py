"""Template helpers of the supervision notices: a state's words, and the notices section of
the task page (`{% task_notices task %}`), read through tracker.notice_selectors."""

from django import template
from django.utils import timezone

from tracker import access, notice_selectors
from tracker.models import NoticeState

register = template.Library()


@register.filter
def notice_state_label(state: str) -> str:
    return NoticeState(state).label if state in NoticeState.values else ""


@register.inclusion_tag("web/notices/_task_notices.html", takes_context=True)
def task_notices(context, task):
    user = context["request"].user
    items = list(notice_selectors.notices_on_task(user=user, task=task,
                                                  today=timezone.localdate()))
    return {"items": items, "task": task,
            "may_issue": access.can_issue_notice(user, task)}
