"""The 调整优先级 history row's from/to in words (tracker.services.priority)."""

from django import template

from tracker.services.priority import priority_change_text

register = template.Library()


@register.filter
def priority_change(data: dict) -> str:
    return priority_change_text(data or {})
