"""Parse the rollup query parameters and render snapshots. No logic beyond that."""

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.serializers import (
    InputSerializer,
    InspectionBriefSerializer,
    RefuseUnknownFieldsMixin,
    UserBriefSerializer,
)
from reports.models import (
    ExtractedFigure,
    ExtractedItem,
    ReportImport,
    RollupSnapshot,
    SourceReport,
)
from tracker import access
from tracker.figures.rollups import Grouping, RollupFilters
from tracker.figures.trend import Period
from tracker.models import Inspection, InspectionKind, Problem, TaskPriority, TaskType, Unit


class RollupQuerySerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(
        choices=Grouping.choices, default=Grouping.TOTAL, label="分组方式"
    )
    inspection = serializers.IntegerField(required=False, min_value=1, label="巡视巡察")
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), required=False, label="责任单位（含下级）"
    )
    kind = serializers.ChoiceField(choices=InspectionKind.choices, required=False, label="类别")
    deadline_from = serializers.DateField(required=False, label="完成时限起")
    deadline_to = serializers.DateField(required=False, label="完成时限止")
    as_of = serializers.DateField(required=False, label="统计截止日期")
    is_key = serializers.BooleanField(default=False, label="只统计重点任务")
    tree = serializers.BooleanField(default=False, label="按单位树返回")

    def validate_unit(self, unit: Unit) -> Unit:
        if not access.reaches_unit(self.context["request"].user, unit):
            raise serializers.ValidationError("您无权查看该单位的统计")
        return unit

    def validate(self, attrs):
        start, end = attrs.get("deadline_from"), attrs.get("deadline_to")
        if start and end and start > end:
            raise serializers.ValidationError({"deadline_to": "结束日期不能早于开始日期"})
        return attrs

    def filters(self) -> RollupFilters:
        d = self.validated_data
        return RollupFilters(
            inspection_id=d.get("inspection"),
            unit=d.get("unit"),
            kind=d.get("kind"),
            deadline_from=d.get("deadline_from"),
            deadline_to=d.get("deadline_to"),
            as_of=d.get("as_of"),
            key_only=d.get("is_key", False),
        )


class TrendQuerySerializer(RollupQuerySerializer):
    period = serializers.ChoiceField(
        choices=[(Period.WEEK, "按周"), (Period.MONTH, "按月")], default=Period.MONTH,
        label="周期",
    )


class SnapshotCreateSerializer(RefuseUnknownFieldsMixin, RollupQuerySerializer):
    name = serializers.CharField(max_length=200, label="快照名称")


class SnapshotSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.display_name", read_only=True)

    class Meta:
        model = RollupSnapshot
        fields = [
            "id", "name", "group_by", "as_of", "params", "total", "rows", "created_by",
            "created_at",
        ]
        read_only_fields = fields


class SnapshotListSerializer(SnapshotSerializer):
    class Meta(SnapshotSerializer.Meta):
        fields = ["id", "name", "group_by", "as_of", "params", "total", "created_by", "created_at"]
        read_only_fields = fields


# --- Responses (documented in the OpenAPI schema) ---------------------------------------


class FiguresSerializer(serializers.Serializer):
    """One set of rollup figures, as the reports phrase them."""

    total = serializers.IntegerField(label="任务总数")
    completed = serializers.IntegerField(label="已完成整改（已销号）")
    basically_completed = serializers.IntegerField(label="基本完成整改")
    long_term = serializers.IntegerField(label="长期坚持")
    not_completed = serializers.IntegerField(label="未完成整改")
    not_started = serializers.IntegerField(label="未启动")
    in_progress = serializers.IntegerField(label="整改中")
    submitted = serializers.IntegerField(label="已提交待审核")
    overdue = serializers.IntegerField(label="逾期（红灯任务）")
    due_soon = serializers.IntegerField(label="即将到期（黄灯任务）")
    closed_on_time = serializers.IntegerField(label="按期销号")
    recheck_due = serializers.IntegerField(label="回头看待办（待单位报告、待督导确认）")
    recheck_done = serializers.IntegerField(label="回头看已确认")
    recheck_failed = serializers.IntegerField(label="回头看未通过（已重新打开）")
    completion_rate = serializers.FloatField(allow_null=True, label="整改完成率（%）")
    broad_rate = serializers.FloatField(allow_null=True, label="含基本完成的完成率（%）")
    on_time_rate = serializers.FloatField(allow_null=True, label="按期完成率（%），无销号时为空")
    light = serializers.CharField(label="红黄绿灯：其任务中最严重的灯色")
    light_label = serializers.CharField(label="灯色")
    sentence = serializers.CharField(label="报告表述")


class RollupRowSerializer(FiguresSerializer):
    # The key is an id (inspection, unit), a code (kind) or text (aspect, month).
    key = serializers.JSONField(label="分组键")
    label = serializers.CharField(allow_null=True, label="分组名称")
    children = serializers.ListField(
        child=serializers.DictField(), required=False, label="下级单位（tree=true 时）"
    )


class RollupResponseSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    as_of = serializers.DateField(allow_null=True)
    today = serializers.DateField()
    filters = serializers.DictField()
    total = FiguresSerializer()
    rows = RollupRowSerializer(many=True)


class TrendResponseSerializer(serializers.Serializer):
    period = serializers.CharField()
    series = serializers.ListField(child=serializers.DictField())


# --- Report documents -------------------------------------------------------------------


class ReportUploadSerializer(InputSerializer):
    # Empty and unreadable files are refused by the reader with its own code and message.
    file = serializers.FileField(
        max_length=255, allow_empty_file=True, label="报告文件",
        help_text=".txt（UTF-8、GBK、GB18030、UTF-16）、.docx 或带文字层的 .pdf",
    )


class ReportImportErrorSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="读取器或服务的错误码，如 undecodable、"
                                             "pdf_too_many_pages、parse_memory、already_imported")
    message = serializers.CharField()


class ReportImportSerializer(serializers.ModelSerializer):
    """An upload being read by the worker: poll `status_url` until `state` is done or
    failed; when done, `report` is the report's id (new, or the earlier import of the same
    content)."""

    state_label = serializers.CharField(source="get_state_display", read_only=True)
    file_name = serializers.CharField(source="original_name", read_only=True)
    report = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField()

    class Meta:
        model = ReportImport
        fields = ["id", "state", "state_label", "file_name", "size", "created_at",
                  "finished_at", "report", "created_report", "error", "status_url"]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_report(self, job: ReportImport) -> int | None:
        return job.report_id if job.state == "done" else None

    @extend_schema_field(ReportImportErrorSerializer(allow_null=True))
    def get_error(self, job: ReportImport) -> dict | None:
        if job.state != "failed":
            return None
        return {"reason": job.reason, "message": job.message}

    @extend_schema_field(OpenApiTypes.STR)
    def get_status_url(self, job: ReportImport) -> str:
        return f"/api/v1/reports/imports/{job.pk}/"


class ExtractedFigureSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    review_state_display = serializers.CharField(source="get_review_state_display",
                                                 read_only=True)
    reviewed_by = UserBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ExtractedFigure
        fields = [
            "id", "kind", "kind_display", "body", "counting_word", "total", "completed",
            "basically_completed", "long_term", "not_completed", "in_progress", "quote", "start",
            "end", "review_state", "review_state_display", "inspection", "reviewed_by",
            "reviewed_at",
        ]
        read_only_fields = fields


class ExtractedItemSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    review_state_display = serializers.CharField(source="get_review_state_display",
                                                 read_only=True)
    reviewed_by = UserBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ExtractedItem
        fields = [
            "id", "kind", "kind_display", "position", "text", "start", "end", "review_state",
            "review_state_display", "problem", "task", "reviewed_by", "reviewed_at",
        ]
        read_only_fields = fields


class SourceReportSerializer(serializers.ModelSerializer):
    """A report with what was read out of it; needs report_list()'s joins and prefetch."""

    imported_by = UserBriefSerializer(read_only=True, allow_null=True)
    inspection = InspectionBriefSerializer(read_only=True, allow_null=True)
    figures = ExtractedFigureSerializer(many=True, read_only=True)
    items = ExtractedItemSerializer(many=True, read_only=True)

    class Meta:
        model = SourceReport
        fields = [
            "id", "original_name", "title", "issuing_body", "year", "period", "report_date",
            "inspection", "format", "encoding", "size", "sha256", "imported_by", "imported_at",
            "figures", "items",
        ]
        read_only_fields = fields


class SourceReportDetailSerializer(SourceReportSerializer):
    """The detail adds the cleaned text, which every offset indexes."""

    class Meta(SourceReportSerializer.Meta):
        fields = [*SourceReportSerializer.Meta.fields, "text"]
        read_only_fields = fields


def _visible_inspections(serializer) -> models.QuerySet:
    request = serializer.context.get("request")
    if request is None:
        return Inspection.objects.none()
    return Inspection.objects.filter(access.visible_inspections_q(request.user))


@extend_schema_field(OpenApiTypes.INT)
class ScopedInspectionField(serializers.PrimaryKeyRelatedField):
    """An inspection the requesting user can see; any other id is refused as not found."""

    def get_queryset(self):
        return _visible_inspections(self.parent)


class ReportUpdateSerializer(InputSerializer):
    report_date = serializers.DateField(required=False, allow_null=True, label="报告日期")
    inspection = ScopedInspectionField(required=False, allow_null=True, label="对应巡视巡察")


class FigureConfirmSerializer(InputSerializer):
    inspection = ScopedInspectionField(label="对应巡视巡察")


class ItemConfirmAsProblemSerializer(InputSerializer):
    inspection = ScopedInspectionField(label="巡视巡察")
    aspect = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                   label="方面")
    number = serializers.IntegerField(min_value=1, max_value=32767, required=False,
                                      allow_null=True, label="问题序号（不填则排在最后）")


@extend_schema_field(OpenApiTypes.INT)
class ScopedProblemField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        request = self.parent.context.get("request")
        if request is None:
            return Problem.objects.none()
        return Problem.objects.filter(access.visible_problems_q(request.user))


class ItemConfirmAsTaskSerializer(InputSerializer):
    problem = ScopedProblemField(label="所属问题")
    lead_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), label="牵头单位")
    deadline = serializers.DateField(allow_null=True, label="完成时限（长期坚持可为空）")
    task_type = serializers.ChoiceField(choices=TaskType.choices, default=TaskType.BY_DEADLINE,
                                        label="任务类型")
    title = serializers.CharField(max_length=300, required=False, allow_blank=True, default="",
                                  label="任务名称（不填则取条目的第一句或第一分句）")
    is_key = serializers.BooleanField(required=False, default=False, label="重点任务")
    priority = serializers.ChoiceField(choices=TaskPriority.choices, default=TaskPriority.NORMAL,
                                       label="优先级（1 一般，2 较高，3 高，4 紧急）")


# --- Reconciliation -----------------------------------------------------------------------


class ReconciliationQuerySerializer(serializers.Serializer):
    inspection = serializers.IntegerField(min_value=1, max_value=2**62, label="巡视巡察")


class NumbersSerializer(serializers.Serializer):
    total = serializers.IntegerField(allow_null=True, label="总数")
    completed = serializers.IntegerField(allow_null=True, label="已完成整改（已销号）")
    basically_completed = serializers.IntegerField(allow_null=True, label="基本完成整改")
    long_term = serializers.IntegerField(allow_null=True, label="长期坚持")
    not_completed = serializers.IntegerField(allow_null=True, label="未完成整改")
    in_progress = serializers.IntegerField(allow_null=True, label="正在整改（台账含待审核）")


class DisagreementSerializer(serializers.Serializer):
    field = serializers.CharField(label="数据项")
    reported = serializers.IntegerField(label="报告数")
    ledger = serializers.IntegerField(label="台账数")
    message = serializers.CharField(label="说明")


class ReportBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(label="标题")
    report_date = serializers.DateField(allow_null=True, label="报告日期")


class ReconciledFigureSerializer(serializers.Serializer):
    figure = serializers.IntegerField(label="报告数据 id")
    quote = serializers.CharField(label="原文")
    body = serializers.CharField(label="报告主体")
    report = ReportBriefSerializer()
    as_of = serializers.DateField(label="台账截止日期")
    reported = NumbersSerializer(label="报告数（未写明或打码为空）")
    ledger = NumbersSerializer(label="台账数")
    disagreements = DisagreementSerializer(many=True, label="不一致之处")


class ReconciliationResponseSerializer(serializers.Serializer):
    inspection = InspectionBriefSerializer()
    figures = ReconciledFigureSerializer(many=True)
