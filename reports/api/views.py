"""Rollup endpoints. Thin: parse the query, call the selector or service, render."""

from urllib.parse import quote

from django.shortcuts import get_object_or_404
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from reports import services
from reports.api.renderers import CSVRenderer, XLSXRenderer
from reports.api.serializers import (
    RollupQuerySerializer,
    SnapshotCreateSerializer,
    SnapshotListSerializer,
    SnapshotSerializer,
    TrendQuerySerializer,
)
from reports.rollups import rollup, rollup_as_dict, trend
from reports.selectors import snapshot_list
from tracker.errors import DomainError

RENDERERS = [JSONRenderer, BrowsableAPIRenderer, XLSXRenderer, CSVRenderer]


class DownloadMixin:
    """Spreadsheet downloads get a file name; the JSON is unchanged."""

    download_name = "整改完成率统计"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        renderer = getattr(request, "accepted_renderer", None)
        if renderer is not None and renderer.format in ("xlsx", "csv"):
            name = f"{self.download_name}.{renderer.format}"
            response["Content-Disposition"] = (
                f"attachment; filename=\"rollup.{renderer.format}\"; "
                f"filename*=UTF-8''{quote(name)}"
            )
        return response


def _domain_error(exc: DomainError) -> Response:
    # Until the shared exception handler lands (tracker/api), answer in its likely shape.
    body = {"code": exc.code, "message": exc.message, "fields": exc.fields}
    return Response(body, status=exc.status_code)


class RollupView(DownloadMixin, APIView):
    """GET /api/v1/rollups/: the figures of the visible ledger, grouped and filtered."""

    permission_classes = [IsAuthenticated]
    renderer_classes = RENDERERS

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

    permission_classes = [IsAuthenticated]
    renderer_classes = RENDERERS
    download_name = "整改进度趋势"

    def get(self, request):
        query = TrendQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        period = query.validated_data["period"]
        series = trend(user=request.user, filters=query.filters(), period=period)
        return Response({"period": period, "series": series})


class SnapshotListView(DownloadMixin, APIView):
    """GET: the snapshots the user may read. POST: freeze a rollup under a name."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]

    def get(self, request):
        snapshots = snapshot_list(user=request.user)
        return Response(SnapshotListSerializer(snapshots, many=True).data)

    def post(self, request):
        body = SnapshotCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        try:
            snapshot = services.snapshot_create(
                actor=request.user,
                name=body.validated_data["name"],
                group_by=body.validated_data["group_by"],
                filters=body.filters(),
            )
        except DomainError as exc:
            return _domain_error(exc)
        return Response(SnapshotSerializer(snapshot).data, status=status.HTTP_201_CREATED)


class SnapshotDetailView(DownloadMixin, APIView):
    """GET one snapshot, as JSON or as the same .xlsx / CSV as a live rollup."""

    permission_classes = [IsAuthenticated]
    renderer_classes = RENDERERS
    download_name = "整改完成率统计快照"

    def get(self, request, pk: int):
        snapshot = get_object_or_404(snapshot_list(user=request.user), pk=pk)
        return Response(SnapshotSerializer(snapshot).data)
