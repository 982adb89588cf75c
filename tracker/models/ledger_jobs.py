from django.conf import settings
from django.db import models

from tracker.storage import get_private_storage


class LedgerJobKind(models.TextChoices):
    IMPORT = "import", "导入"
    EXPORT = "export", "导出"


class LedgerJobState(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "处理中"
    PREVIEW = "preview", "待确认"  # an import's preview is ready; nothing written yet
    APPLYING = "applying", "正在导入"
    DONE = "done", "已完成"
    FAILED = "failed", "未完成"


FINISHED_STATES = (LedgerJobState.PREVIEW, LedgerJobState.DONE, LedgerJobState.FAILED)


def ledger_upload_to(job: "LedgerJob", filename: str) -> str:
    return f"ledger/{job.kind}/{filename}"


class LedgerJob(models.Model):
    """One ledger import or export, done at once or by the Celery worker: who asked, for which
    inspection, where it stands (state and progress) and what came of it (the import's preview
    and errors, the export's file). Written only by tracker.services.ledger_jobs."""

    kind = models.CharField("类型", max_length=10, choices=LedgerJobKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.CASCADE,
        related_name="ledger_jobs",
    )
    inspection = models.ForeignKey(
        "tracker.Inspection", verbose_name="巡视巡察", on_delete=models.CASCADE,
        null=True, blank=True, related_name="ledger_jobs",
    )
    state = models.CharField(
        "状态", max_length=10, choices=LedgerJobState.choices, default=LedgerJobState.QUEUED
    )
    progress_done = models.PositiveIntegerField("已处理", default=0)
    progress_total = models.PositiveIntegerField("总数", default=0)
    source_name = models.CharField("上传文件名", max_length=255, blank=True)
    source_file = models.FileField(
        "上传文件", upload_to=ledger_upload_to, storage=get_private_storage, blank=True
    )
    filters = models.JSONField("导出筛选条件", default=dict, blank=True)
    result_file = models.FileField(
        "导出文件", upload_to=ledger_upload_to, storage=get_private_storage, blank=True
    )
    result_name = models.CharField("导出文件名", max_length=255, blank=True)
    preview = models.JSONField("导入预览", default=dict, blank=True)
    errors = models.JSONField("错误", default=list, blank=True)
    message = models.TextField("结果", blank=True)
    created_at = models.DateTimeField("创建时间")
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "台账导入导出"
        verbose_name_plural = "台账导入导出"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="ledgerjob_user_recent")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=LedgerJobKind.values), name="ledgerjob_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=LedgerJobState.values),
                name="ledgerjob_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}台账 #{self.pk}"

    @property
    def percent(self) -> int:
        if self.state in (LedgerJobState.DONE, LedgerJobState.PREVIEW):
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)
