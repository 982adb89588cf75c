"""Rollup, reconciliation and report endpoints. Thin: parse the input, call the selector or
service, render."""

from urllib.parse import quote

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.parsers import BoundedJSONParser
from config.api.permissions import anyone_signed_in, supervisor_or_admin
from reports import services
from reports.api import serializers
from reports.api.renderers import CSVRenderer, XLSXRenderer
from reports.api.serializers import (
    RollupQuerySerializer,
    RollupResponseSerializer,
    SnapshotCreateSerializer,
    SnapshotListSerializer,
    SnapshotSerializer,
    TrendQuerySerializer,
    TrendResponseSerializer,
)
from reports.filters import SourceReportFilter
from reports.models import ExtractedFigure, ExtractedItem
from reports.reconcile import COMPARED
from reports.selectors import reconciliation, report_list, snapshot_list
from tracker import access
from tracker.figures.rollups import rollup, rollup_as_dict
from tracker.figures.trend import trend
from tracker.models import Inspection
from tracker.services.audit import AuditAction, audit_origin, audit_record

RENDERERS = [JSONRenderer, BrowsableAPIRenderer, XLSXRenderer, CSVRenderer]


class DownloadMixin:
    """Spreadsheet downloads get a file name and an audit entry (导出报表); the JSON is
    unchanged."""

    download_name = "整改完成率统计"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        renderer = getattr(request, "accepted_renderer", None)
        if response.status_code >= 400:
            # Refusals keep the API's one JSON error shape, whatever format was asked for.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        elif renderer is not None and renderer.format in ("xlsx", "csv"):
            name = f"{self.download_name}.{renderer.format}"
            audit_record(actor=request.user, action=AuditAction.REPORT_EXPORT, target_label=name,
                         note=request.get_full_path(), **audit_origin(request))
            response["Content-Disposition"] = (
                f"attachment; filename=\"rollup.{renderer.format}\"; "
                f"filename*=UTF-8''{quote(name)}"
            )
        return response


class RollupView(DownloadMixin, APIView):
    """GET /api/v1/rollups/: the figures of the visible ledger, grouped and filtered."""

    rules = {"get": anyone_signed_in}
    renderer_classes = RENDERERS

    @extend_schema(parameters=[RollupQuerySerializer], responses=RollupResponseSerializer)
    def get(self, request):
        query = RollupQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        result = rollup(
            user=request.user,
            group_by=query.validated_data["group_by"],
            filters=query.filters(),
        )
        return Response(rollup_as_dict(result, tree=query.validated_data["tree"]))


class TrendView(DownloadMixin, APIView):
    """GET /api/v1/rollups/trend/: completions per week or month."""

    rules = {"get": anyone_signed_in}
    renderer_classes = RENDERERS
    download_name = "整改进度趋势"

    @extend_schema(parameters=[TrendQuerySerializer], responses=TrendResponseSerializer)
    def get(self, request):
        query = TrendQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        period = query.validated_data["period"]
        series = trend(user=request.user, filters=query.filters(), period=period)
        return Response({"period": period, "series": series})


class SnapshotListView(DownloadMixin, APIView):
    """GET: the snapshots the user may read. POST: freeze a rollup under a name."""

    rules = {"get": anyone_signed_in, "post": supervisor_or_admin}
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]

    @extend_schema(operation_id="rollups_snapshots_list",
                   responses=SnapshotListSerializer(many=True))
    def get(self, request):
        snapshots = snapshot_list(user=request.user)
        return Response(SnapshotListSerializer(snapshots, many=True).data)

    @extend_schema(request=SnapshotCreateSerializer, responses={201: SnapshotSerializer})
    def post(self, request):
        body = SnapshotCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        snapshot = services.snapshot_create(
            actor=request.user,
            name=body.validated_data["name"],
            group_by=body.validated_data["group_by"],
            filters=body.filters(),
        )
        return Response(SnapshotSerializer(snapshot).data, status=status.HTTP_201_CREATED)


class SnapshotDetailView(DownloadMixin, APIView):
    """GET one snapshot, as JSON or as the same .xlsx / CSV as a live rollup."""

    rules = {"get": anyone_signed_in}
    renderer_classes = RENDERERS
    download_name = "整改完成率统计快照"

    @extend_schema(responses=SnapshotSerializer)
    def get(self, request, pk: int):
        snapshot = get_object_or_404(snapshot_list(user=request.user), pk=pk)
        return Response(SnapshotSerializer(snapshot).data)


# --- Report documents --------------------------------------------------------------------


class ReportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, viewsets.GenericViewSet,
):
    """报告文件：督导人员和管理员上传报告，查看从中读取的整改数据、存在的问题和下步措施。

    联络员无权使用（403）；不在可见范围内的报告返回 404。
    """

    serializer_class = serializers.SourceReportSerializer
    filterset_class = SourceReportFilter
    ordering_fields = ["id", "imported_at", "report_date", "year"]
    ordering = ["-imported_at", "-id"]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]
    parser_classes = [BoundedJSONParser, MultiPartParser, FormParser]
    rules = dict.fromkeys(["list", "retrieve", "create", "partial_update"], supervisor_or_admin)

    def get_queryset(self):
        return report_list(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.SourceReportSerializer
        return serializers.SourceReportDetailSerializer

    def validated(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data,
                                      context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def report_response(self, report_id: int, status_code=status.HTTP_200_OK) -> Response:
        report = self.get_queryset().get(pk=report_id)
        return Response(serializers.SourceReportDetailSerializer(report).data, status=status_code)

    @extend_schema(
        request={"multipart/form-data": serializers.ReportUploadSerializer},
        responses={202: serializers.ReportImportSerializer},
    )
    def create(self, request, *args, **kwargs):
        """上传报告文件（202）：文件由后台任务读取，不在网页进程中解析；轮询返回的 status_url，
        完成后 report 为报告 id（新导入的，或此前已导入的内容相同的报告）。

        超过大小上限、类型不支持或为空的文件当即返回 400（code 为 document_refused，
        fields.reason 为读取器的错误码）；其余无法读取的情况在任务结果的 error 中给出。"""
        uploaded = self.validated(serializers.ReportUploadSerializer)["file"]
        services.ensure_upload_size(uploaded.size)  # before it is read into memory
        job = services.report_import_submit(data=uploaded.read(), filename=uploaded.name,
                                            actor=request.user)
        return Response(serializers.ReportImportSerializer(job).data,
                        status=status.HTTP_202_ACCEPTED,
                        headers={"Location": f"/api/v1/reports/imports/{job.pk}/"})

    @extend_schema(request=serializers.ReportUpdateSerializer,
                   responses=serializers.SourceReportDetailSerializer)
    def partial_update(self, request, *args, **kwargs):
        """填写报告日期（对账按此日期取台账数据）和对应的巡视巡察。"""
        report = self.get_object()
        data = self.validated(serializers.ReportUpdateSerializer)
        services.report_update(report=report, actor=request.user, **data)
        return self.report_response(report.pk)


class ReportImportViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """报告上传任务：上传人查看读取进度和结果（仅本人；他人的任务返回 404）。"""

    serializer_class = serializers.ReportImportSerializer
    lookup_value_regex = r"\d+"
    filter_backends: list = []
    pagination_class = None
    rules = {"retrieve": supervisor_or_admin}

    def get_queryset(self):
        return services.report_imports_of(user=self.request.user)


class _ReviewViewSet(viewsets.GenericViewSet):
    """Figures and items are reached through the reports the user may read."""

    lookup_value_regex = r"\d+"
    filter_backends: list = []
    pagination_class = None

    def scoped(self, model):
        reports = report_list(user=self.request.user).values("pk")
        return model.objects.filter(report__in=reports).select_related("reviewed_by")

    def validated(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data,
                                      context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def render(self, obj) -> Response:
        obj = self.get_queryset().get(pk=obj.pk)
        return Response(self.get_serializer_class()(obj).data)


class ExtractedFigureViewSet(_ReviewViewSet):
    """报告数据：督导人员确认（关联巡视巡察，用于对账）或驳回。"""

    serializer_class = serializers.ExtractedFigureSerializer
    rules = dict.fromkeys(["confirm", "reject"], supervisor_or_admin)

    def get_queryset(self):
        return self.scoped(ExtractedFigure)

    @extend_schema(request=serializers.FigureConfirmSerializer,
                   responses=serializers.ExtractedFigureSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """确认报告数据，并关联到其所报告的巡视巡察。"""
        figure = self.get_object()
        data = self.validated(serializers.FigureConfirmSerializer)
        services.figure_confirm(figure=figure, actor=request.user,
                                inspection=data["inspection"])
        return self.render(figure)

    @extend_schema(request=None, responses=serializers.ExtractedFigureSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """驳回报告数据（读取有误或与本系统无关）。"""
        figure = self.get_object()
        services.figure_reject(figure=figure, actor=request.user)
        return self.render(figure)


class ExtractedItemViewSet(_ReviewViewSet):
    """报告条目：“存在的问题”确认为反馈问题，“下步措施”确认为整改任务，或驳回。"""

    serializer_class = serializers.ExtractedItemSerializer
    rules = dict.fromkeys(["confirm_as_problem", "confirm_as_task", "reject"],
                          supervisor_or_admin)

    def get_queryset(self):
        return self.scoped(ExtractedItem)

    @extend_schema(request=serializers.ItemConfirmAsProblemSerializer,
                   responses=serializers.ExtractedItemSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-as-problem")
    def confirm_as_problem(self, request, pk=None):
        """把“存在的问题”条目确认为巡视巡察的反馈问题（不填序号则排在最后）。"""
        item = self.get_object()
        data = self.validated(serializers.ItemConfirmAsProblemSerializer)
        services.item_confirm_as_problem(
            item=item, actor=request.user, inspection=data["inspection"],
            aspect=data["aspect"], number=data.get("number"),
        )
        return self.render(item)

    @extend_schema(request=serializers.ItemConfirmAsTaskSerializer,
                   responses=serializers.ExtractedItemSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-as-task")
    def confirm_as_task(self, request, pk=None):
        """把“下步措施”条目确认为整改任务（须指定所属问题、牵头单位和完成时限）。"""
        item = self.get_object()
        data = self.validated(serializers.ItemConfirmAsTaskSerializer)
        services.item_confirm_as_task(item=item, actor=request.user, **data)
        return self.render(item)

    @extend_schema(request=None, responses=serializers.ExtractedItemSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """驳回条目（不进入台账）。"""
        item = self.get_object()
        services.item_reject(item=item, actor=request.user)
        return self.render(item)


# --- Reconciliation -----------------------------------------------------------------------

COMPARED_FIELDS = [field for field, *_ in COMPARED]


class ReconciliationView(APIView):
    """GET /api/v1/rollups/reconciliation/?inspection=ID: each confirmed reported figure of
    the inspection against the ledger as of its report's date, with every disagreement."""

    rules = {"get": supervisor_or_admin}

    @extend_schema(parameters=[serializers.ReconciliationQuerySerializer],
                   responses=serializers.ReconciliationResponseSerializer)
    def get(self, request):
        """报告数据与台账对账：逐条列出报告所称数字与台账截至报告日期的数字不一致之处。"""
        query = serializers.ReconciliationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        inspection = get_object_or_404(
            Inspection.objects.filter(access.visible_inspections_q(request.user)),
            pk=query.validated_data["inspection"],
        )
        results = reconciliation(user=request.user, inspection=inspection)
        return Response(serializers.ReconciliationResponseSerializer({
            "inspection": inspection,
            "figures": [
                {
                    "figure": r.figure.pk,
                    "quote": r.figure.quote,
                    "body": r.figure.body,
                    "report": {"id": r.figure.report.pk, "title": str(r.figure.report),
                               "report_date": r.figure.report.report_date},
                    "as_of": r.as_of,
                    "reported": {f: getattr(r.figure, f) for f in COMPARED_FIELDS},
                    "ledger": r.ledger,
                    "disagreements": r.disagreements,
                }
                for r in results
            ],
        }).data)
