"""One FilterSet per resource of the ledger, shared by every face.

The API's viewsets and the pages read through the same selectors (tracker.selectors), which
apply these FilterSets after scoping to the reader, so a filter means the same everywhere.
Ordering is the API's business (tracker.api.filters.AliasOrderingFilter)."""

import datetime as dt

import django_filters as filters
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_filters import fields as filter_fields
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from tracker.models import (
    DeadlineExtension,
    Evidence,
    ExtensionStatus,
    Inspection,
    InspectionKind,
    InspectionMode,
    Problem,
    Task,
    TaskPriority,
    TaskStatus,
    TaskType,
    Unit,
    UnitKind,
    subtree_q,
)

# The database's integer range: an id outside it is a 400 naming the field, never an overflow
# inside the database driver (a 500; found by the schema fuzzing).
ID_MIN, ID_MAX = -(2**63), 2**63 - 1


class IdFilter(filters.NumberFilter):
    """An id in a query string, within the database's integer range."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", ID_MIN)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


class _BoundedModelChoiceField(filter_fields.ModelChoiceField):
    """Checks the id is a whole number in range before looking the object up."""

    def to_python(self, value):
        if value not in self.empty_values:
            try:
                number = int(str(value))
            except (TypeError, ValueError):
                number = None
            if number is None or not ID_MIN <= number <= ID_MAX:
                raise ValidationError(self.error_messages["invalid_choice"],
                                      code="invalid_choice")
        return super().to_python(value)


@extend_schema_field(OpenApiTypes.INT)
class UnitIdFilter(filters.ModelChoiceFilter):
    """A unit id; the filter method matches the unit and every unit below it."""

    field_class = _BoundedModelChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Unit.objects.all())
        super().__init__(*args, **kwargs)


def _subtree(units_field: str):
    def method(queryset, name, unit: Unit):
        return queryset.filter(subtree_q(unit, via=f"{units_field}__"))

    return method


def _search(*fields: str):
    """A filter method matching any of `fields` (case-insensitive containment)."""

    def method(queryset, name, value: str):
        value = value.strip()
        if not value:
            return queryset
        q = Q()
        for field in fields:
            q |= Q(**{f"{field}__icontains": value})
        return queryset.filter(q)

    return method


# 签收状态 (docs/acknowledgement.md).
ACK_CHOICES = [("awaiting", "待签收"), ("acknowledged", "已签收")]


class TaskFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=TaskStatus.choices, label="状态")
    unit = UnitIdFilter(
        method="filter_unit",
        label="单位（牵头或配合，含下级单位）",
    )
    lead_unit = UnitIdFilter(method=_subtree("lead_unit"), label="牵头单位（含下级单位）")
    inspection = IdFilter(field_name="inspection_id", label="巡视巡察")
    problem = IdFilter(field_name="problem_id", label="反馈问题")
    kind = filters.ChoiceFilter(
        field_name="inspection__kind", choices=InspectionKind.choices, label="巡视巡察类别"
    )
    type = filters.ChoiceFilter(field_name="task_type", choices=TaskType.choices, label="整改类型")
    overdue = filters.BooleanFilter(method="filter_overdue", label="是否逾期")
    is_key = filters.BooleanFilter(field_name="is_key", label="重点任务")
    priority = filters.MultipleChoiceFilter(choices=TaskPriority.choices, label="优先级")
    ack = filters.ChoiceFilter(
        choices=ACK_CHOICES, method="filter_ack", label="签收状态",
    )
    deadline = filters.DateFromToRangeFilter(label="完成时限范围")
    search = filters.CharFilter(method=_search(
        "title", "measures", "problem__text", "responsible_leader", "responsible_person"
    ), label="关键词")

    q = filters.CharFilter(
        method="filter_q", max_length=100,
        label="搜索（任务名称、牵头或配合单位、反馈问题，空格分隔多个词）",
    )

    class Meta:
        model = Task
        fields = ["status", "unit", "lead_unit", "inspection", "problem", "kind", "type",
                  "overdue", "is_key", "priority", "ack", "deadline", "search", "q"]

    def filter_q(self, queryset, name, value: str):
        """Every word must appear in the task's title, its lead or a supporting unit's name,
        or its problem's text (the task list's search box)."""
        for word in value.split()[:10]:
            supporting = Task.supporting_units.through.objects.filter(
                Q(unit__name__icontains=word) | Q(unit__short_name__icontains=word),
                task_id=OuterRef("pk"),
            )
            queryset = queryset.filter(
                Q(title__icontains=word)
                | Q(lead_unit__name__icontains=word)
                | Q(lead_unit__short_name__icontains=word)
                | Q(problem__text__icontains=word)
                | Q(Exists(supporting))
            )
        return queryset

    def filter_unit(self, queryset, name, unit: Unit):
        supporting = Task.supporting_units.through.objects.filter(
            subtree_q(unit, via="unit__"), task_id=OuterRef("pk")
        )
        return queryset.filter(subtree_q(unit, via="lead_unit__") | Q(Exists(supporting)))

    def filter_ack(self, queryset, name, value: str):
        """待签收: the current assignment awaits the lead unit's 签收; 已签收: it does not."""
        if not value:
            return queryset
        return queryset.filter(ack_requested_at__isnull=(value == "acknowledged"))

    def filter_overdue(self, queryset, name, value: bool | None):
        if value is None:
            return queryset
        today: dt.date = timezone.localdate()
        return queryset.overdue(today) if value else queryset.not_overdue(today)


class InspectionFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=InspectionKind.choices, label="类别")
    mode = filters.ChoiceFilter(choices=InspectionMode.choices, label="方式")
    unit = UnitIdFilter(
        method=_subtree("target_unit"),
        label="被巡视（巡察）单位（含下级单位）",
    )
    feedback_date = filters.DateFromToRangeFilter(label="反馈日期范围")
    search = filters.CharFilter(method=_search("title", "team", "target"), label="关键词")

    class Meta:
        model = Inspection
        fields = ["kind", "mode", "unit", "feedback_date", "search"]


class ProblemFilter(filters.FilterSet):
    inspection = IdFilter(field_name="inspection_id", label="巡视巡察")
    kind = filters.ChoiceFilter(
        field_name="inspection__kind", choices=InspectionKind.choices, label="巡视巡察类别"
    )
    search = filters.CharFilter(method=_search("text", "aspect"), label="关键词")

    class Meta:
        model = Problem
        fields = ["inspection", "kind", "search"]


class UnitFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=UnitKind.choices, label="单位类型")
    parent = IdFilter(field_name="parent_id", label="上级单位")
    within = UnitIdFilter(
        method="filter_within", label="某单位及其下级单位"
    )
    search = filters.CharFilter(method=_search("name", "short_name"), label="关键词")

    class Meta:
        model = Unit
        fields = ["kind", "parent", "within", "search"]

    def filter_within(self, queryset, name, unit: Unit):
        return queryset.filter(subtree_q(unit))


class ExtensionFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ExtensionStatus.choices, label="审批状态")
    task = IdFilter(field_name="task_id", label="整改任务")
    unit = UnitIdFilter(
        method=_subtree("task__lead_unit"),
        label="牵头单位（含下级单位）",
    )

    class Meta:
        model = DeadlineExtension
        fields = ["status", "task", "unit"]


class EvidenceFilter(filters.FilterSet):
    task = IdFilter(field_name="task_id", label="整改任务")

    class Meta:
        model = Evidence
        fields = ["task"]
