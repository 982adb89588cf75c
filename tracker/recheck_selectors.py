"""Reads of 回头看 (re-checks), scoped to the reader (tracker.access.visible_rechecks_q). The
API and the pages call the same selector with the same FilterSet."""

from collections.abc import Mapping

import django_filters
from django.db.models import Prefetch, QuerySet

from tracker import access
from tracker.filters import UnitIdFilter
from tracker.models import Evidence, RecheckState, Task, TaskRecheck, User, subtree_q
from tracker.selectors import _filtered


class RecheckFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=RecheckState.choices, label="状态")
    unit = UnitIdFilter(method="filter_unit", label="牵头单位（含下级）")
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte",
                                           label="回头看日期不晚于")

    class Meta:
        model = TaskRecheck
        fields = ["state", "unit", "due_before"]

    def filter_unit(self, queryset, name, value):
        return queryset.filter(subtree_q(value, via="task__lead_unit__"))


def _report_evidence() -> Prefetch:
    """The files sent with each re-check's report (downloads go through the evidence rule: who
    sees the task, tracker.selectors.evidence_list), oldest first: one query for the lot."""
    return Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by")
                    .order_by("uploaded_at", "id"))


def recheck_list(*, user: User, filters: Mapping | None = None) -> QuerySet[TaskRecheck]:
    """The re-checks of tasks the user sees, with their task, lead unit, people and report
    files: two queries for any length of list."""
    qs = (
        TaskRecheck.objects.filter(access.visible_rechecks_q(user))
        .select_related("task__lead_unit", "reported_by", "decided_by", "scheduled_by")
        .prefetch_related(_report_evidence())
        .order_by("due_on", "id")
    )
    return _filtered(qs, RecheckFilter, filters)


def rechecks_on_task(*, task: Task) -> list[TaskRecheck]:
    """A task's re-checks, newest first (the task page's 回头看 section; the task is visible)."""
    return list(
        TaskRecheck.objects.filter(task=task)
        .select_related("reported_by", "decided_by", "scheduled_by")
        .prefetch_related(_report_evidence())
        .order_by("-scheduled_at", "-id")
    )
