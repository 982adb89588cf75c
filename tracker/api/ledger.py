"""Ledger jobs in the API: the status of a large import or export (GET /api/v1/ledger-jobs/,
/api/v1/ledger-jobs/<id>/), for the person who started it; anyone else gets 404."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from config.api.permissions import anyone_signed_in
from tracker.models import LedgerJob
from tracker.services import ledger_jobs


class LedgerJobSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    counts = serializers.SerializerMethodField(
        help_text="导入预览的行数：new、changed、unchanged、conflict、errors"
    )

    class Meta:
        model = LedgerJob
        fields = [
            "id", "kind", "kind_label", "state", "state_label", "inspection", "progress_done",
            "progress_total", "percent", "counts", "errors", "message", "source_name",
            "result_name", "created_at", "started_at", "finished_at",
        ]
        read_only_fields = fields

    def get_counts(self, job: LedgerJob) -> dict[str, int]:
        return (job.preview or {}).get("counts", {})


@extend_schema_view(
    list=extend_schema(summary="我的台账导入导出任务", tags=["ledger-jobs"]),
    retrieve=extend_schema(summary="台账导入导出任务的状态和进度", tags=["ledger-jobs"]),
)
class LedgerJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       viewsets.GenericViewSet):
    """台账导入导出任务：状态、进度（已处理/总数）、预览行数、错误。只有发起人本人可以查看。"""

    serializer_class = LedgerJobSerializer
    rules = {"list": anyone_signed_in, "retrieve": anyone_signed_in}
    filter_backends = []

    def get_queryset(self):
        return ledger_jobs.ledger_jobs_of(user=self.request.user)
