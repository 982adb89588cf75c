"""Parse the rollup query parameters and render snapshots. No logic beyond that."""

from rest_framework import serializers

from reports.models import RollupSnapshot
from reports.rollups import Grouping, Period, RollupFilters, unit_in_reach
from tracker.models import InspectionKind, Unit


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
    tree = serializers.BooleanField(default=False, label="按单位树返回")

    def validate_unit(self, unit: Unit) -> Unit:
        if not unit_in_reach(self.context["request"].user, unit):
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
        )


class TrendQuerySerializer(RollupQuerySerializer):
    period = serializers.ChoiceField(
        choices=[(Period.WEEK, "按周"), (Period.MONTH, "按月")], default=Period.MONTH,
        label="周期",
    )


class SnapshotCreateSerializer(RollupQuerySerializer):
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
    overdue = serializers.IntegerField(label="逾期")
    overdue_red = serializers.IntegerField(label="严重逾期（红灯）")
    due_soon = serializers.IntegerField(label="即将到期")
    closed_on_time = serializers.IntegerField(label="按期销号")
    completion_rate = serializers.FloatField(allow_null=True, label="整改完成率（%）")
    broad_rate = serializers.FloatField(allow_null=True, label="含基本完成的完成率（%）")
    on_time_rate = serializers.FloatField(allow_null=True, label="按期完成率（%），无销号时为空")
    light = serializers.CharField(label="红黄绿灯")
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
