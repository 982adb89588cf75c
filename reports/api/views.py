"""Rollup endpoints. Thin: parse the query, call the selector or service, render."""

from urllib.parse import quote

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from reports import services
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
from reports.rollups import rollup, rollup_as_dict, trend
from reports.selectors import snapshot_list
from tracker.api.permissions import anyone_signed_in, supervisor_or_admin

RENDERERS = [JSONRenderer, BrowsableAPIRenderer, XLSXRenderer, CSVRenderer]


class DownloadMixin:
    """Spreadsheet downloads get a file name; the JSON is unchanged."""

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
