"""One FilterSet per resource of the reports API."""

import django_filters as filters
from django.db.models import Exists, OuterRef, Q

from reports.models import ExtractedFigure, ExtractedItem, ReviewState, SourceReport
from tracker.filters import IdFilter


class SourceReportFilter(filters.FilterSet):
    inspection = IdFilter(field_name="inspection_id", label="对应巡视巡察")
    year = filters.NumberFilter(label="年度", min_value=1, max_value=9999)
    format = filters.ChoiceFilter(
        choices=[("txt", "txt"), ("docx", "docx"), ("pdf", "pdf")], label="格式"
    )
    pending = filters.BooleanFilter(method="filter_pending", label="有待确认的内容")

    class Meta:
        model = SourceReport
        fields = ["inspection", "year", "format", "pending"]

    def filter_pending(self, queryset, name, value):
        if value is None:
            return queryset
        proposed = ReviewState.PROPOSED
        pending = Q(Exists(ExtractedFigure.objects.filter(
            report_id=OuterRef("pk"), review_state=proposed
        ))) | Q(Exists(ExtractedItem.objects.filter(
            report_id=OuterRef("pk"), review_state=proposed
        )))
        return queryset.filter(pending if value else ~pending)
