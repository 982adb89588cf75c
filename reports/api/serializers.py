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
