"""回头看 (re-checks) under /api/v1/rechecks/: the list of the reader's re-checks (scoped,
filtered, cursor pages), one re-check, and its actions: the lead unit's report, the
supervisor's confirmation or failure (which reopens the task). Rules: tracker.access; writes:
tracker.services.rechecks."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api.pagination import TaskCursorPagination
from config.api.permissions import anyone_signed_in
from config.api.serializers import InputSerializer, UnitBriefSerializer, UserBriefSerializer
from tracker import recheck_selectors
from tracker.api.serializers import EvidenceSerializer
from tracker.api.views import FilteredBySelector
from tracker.models import Task, TaskRecheck
from tracker.services import rechecks as recheck_services


class RecheckTaskSerializer(serializers.ModelSerializer):
    lead_unit = UnitBriefSerializer(read_only=True)
    effectiveness_display = serializers.CharField(source="get_effectiveness_display",
                                                  read_only=True, allow_null=True)

    class Meta:
        model = Task
        fields = ["id", "title", "status", "lead_unit", "closed_at", "effectiveness",
                  "effectiveness_display", "root_cause"]
        read_only_fields = fields


class RecheckSerializer(serializers.ModelSerializer):
    task = RecheckTaskSerializer(read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    reported_by = UserBriefSerializer(read_only=True, allow_null=True)
    decided_by = UserBriefSerializer(read_only=True, allow_null=True)
    evidence = EvidenceSerializer(many=True, read_only=True,
                                  help_text="随回头看报告上传的佐证材料")

    class Meta:
        model = TaskRecheck
        fields = ["id", "task", "due_on", "state", "state_display", "scheduled_at",
                  "became_due_at", "recurred", "report_note", "reported_by", "reported_at",
                  "evidence", "decision_note", "decided_by", "decided_at"]
        read_only_fields = fields


class RecheckReportSerializer(InputSerializer):
    recurred = serializers.BooleanField(help_text="问题是否反弹")
    note = serializers.CharField(max_length=4000, help_text="回头看情况说明")
    # An empty file is refused by the service, which names it ("文件为空：…").
    files = serializers.ListField(
        child=serializers.FileField(max_length=255, allow_empty_file=True), required=False,
        default=list, help_text="佐证材料（multipart/form-data，可多个）",
    )


class RecheckDecisionSerializer(InputSerializer):
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="",
                                 help_text="督导意见（未通过时必填）")


class RecheckViewSet(FilteredBySelector, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    """回头看：可见任务的回头看（按状态、牵头单位筛选）；牵头单位报告问题是否反弹，督导人员确认或
    认定未通过（任务重新打开）。"""

    serializer_class = RecheckSerializer
    filterset_class = recheck_selectors.RecheckFilter
    pagination_class = TaskCursorPagination
    rules = {"list": anyone_signed_in, "retrieve": anyone_signed_in,
             "report": anyone_signed_in, "confirm": anyone_signed_in,
             "fail": anyone_signed_in}

    def get_queryset(self):
        return recheck_selectors.recheck_list(user=self.request.user,
                                              filters=self.list_filters())

    def _answer(self, recheck):
        return Response(RecheckSerializer(self.get_queryset().get(pk=recheck.pk)).data)

    @extend_schema(request={"application/json": RecheckReportSerializer,
                            "multipart/form-data": RecheckReportSerializer},
                   responses=RecheckSerializer, filters=False)
    @action(detail=True, methods=["post"], filter_backends=[])
    def report(self, request, pk=None):
        """牵头单位报告回头看：问题是否反弹及情况说明；佐证材料随报告以 multipart 上传
        （files，可多个）。"""
        recheck = self.get_object()
        data = RecheckReportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recheck_services.recheck_report(actor=request.user, recheck=recheck,
                                        recurred=data.validated_data["recurred"],
                                        note=data.validated_data["note"],
                                        files=data.validated_data["files"])
        return self._answer(recheck)

    @extend_schema(request=RecheckDecisionSerializer, responses=RecheckSerializer,
                   filters=False)
    @action(detail=True, methods=["post"], filter_backends=[])
    def confirm(self, request, pk=None):
        """督导人员确认回头看（整改成果巩固）。"""
        recheck = self.get_object()
        data = RecheckDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recheck_services.recheck_confirm(actor=request.user, recheck=recheck,
                                         note=data.validated_data["note"])
        return self._answer(recheck)

    @extend_schema(request=RecheckDecisionSerializer, responses=RecheckSerializer,
                   filters=False)
    @action(detail=True, methods=["post"], filter_backends=[])
    def fail(self, request, pk=None):
        """督导人员认定回头看未通过：任务重新打开，恢复为整改中。"""
        recheck = self.get_object()
        data = RecheckDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recheck_services.recheck_fail(actor=request.user, recheck=recheck,
                                      note=data.validated_data["note"])
        return self._answer(recheck)
