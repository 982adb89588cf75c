"""Reads of supervision notices (督办单), scoped to the reader. The API and the pages call
these; the states come from tracker.filters import UnitIdFilter
from tracker.deadlines, counted over the parts the reader sees (an
officer reads their own unit's part of a notice on several units' tasks, and its state)."""

import datetime as dt
from collections.abc import Mapping

import django_filters
from django.db.models import Count, Prefetch, Q, QuerySet

from tracker import access
from tracker.deadlines import notice_item_state_expression, notice_state_expression
from tracker.filters import UnitIdFilter
from tracker.models import (
    CLOSED_STATUSES,
    NoticeColour,
    NoticeState,
    SupervisionNotice,
    SupervisionNoticeItem,
    Task,
    User,
    subtree_q,
)
from tracker.selectors import _filtered, task_list


class NoticeFilter(django_filters.FilterSet):
    """The register's filters: state (derived), colour, unit (a part addressed to a unit in
    that unit's subtree)."""

    state = django_filters.ChoiceFilter(choices=NoticeState.choices, label="状态")
    colour = django_filters.ChoiceFilter(choices=NoticeColour.choices, label="督办等级")
    unit = UnitIdFilter(method="filter_unit", label="承办单位（含下级）")

    class Meta:
        model = SupervisionNotice
        fields = ["state", "colour", "unit"]

    def filter_unit(self, queryset, name, value):
        return queryset.filter(
            pk__in=SupervisionNoticeItem.objects.filter(subtree_q(value, via="unit__")).values(
                "notice_id"
            )
        )


def visible_items(*, user: User, today: dt.date) -> QuerySet[SupervisionNoticeItem]:
    """The parts of notices the user sees, with their task, unit, replier and state."""
    return (
        SupervisionNoticeItem.objects.filter(access.visible_notice_items_q(user))
        .select_related("task__lead_unit", "unit", "replied_by", "notice")
        .annotate(state=notice_item_state_expression(today))
        .order_by("id")
    )


def notice_list(
    *, user: User, today: dt.date, filters: Mapping | None = None
) -> QuerySet[SupervisionNotice]:
    """Notices with a part the user sees, each with `parts`, `replied` and `state` counted
    over those parts, the parts prefetched: three queries for any length of list."""
    seen = access.visible_notice_items_q(user, prefix="items__")
    qs = (
        SupervisionNotice.objects.filter(access.visible_notices_q(user))
        .select_related("issued_by")
        .annotate(
            parts=Count("items", filter=seen),
            replied=Count("items", filter=seen & Q(items__replied_at__isnull=False)),
        )
        .annotate(state=notice_state_expression(today))
        .prefetch_related(Prefetch("items", queryset=visible_items(user=user, today=today),
                                   to_attr="seen_items"))
        .order_by("-id")
    )
    return _filtered(qs, NoticeFilter, filters)


def notices_on_task(*, user: User, task: Task, today: dt.date) -> QuerySet[SupervisionNoticeItem]:
    """The notice parts about one task (its timeline's notices), newest first."""
    return visible_items(user=user, today=today).filter(task=task).order_by("-notice_id")


CANDIDATES_SHOWN = 200


def notice_candidates(*, user: User, filters: Mapping | None = None) -> QuerySet[Task]:
    """Tasks the user may issue a notice on (tracker.access.managed_tasks_q, not closed),
    narrowed by the task list's filters, the most urgent first."""
    return (
        task_list(user=user, filters=filters)
        .filter(access.managed_tasks_q(user))
        .exclude(status__in=CLOSED_STATUSES)
        .order_by("deadline", "id")
    )
