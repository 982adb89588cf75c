from django.conf import settings
from django.db import models

from tracker.storage import get_private_storage


class ReviewState(models.TextChoices):
    PROPOSED = "proposed", "待确认"
    CONFIRMED = "confirmed", "已确认"
    REJECTED = "rejected", "已驳回"


class SourceReport(models.Model):
    """A report document read into the tracker: the file, its cleaned text and metadata.

    Offsets of everything extracted index `text`, the cleaned text (reports.parsing).
    """

    file = models.FileField("原文件", upload_to="reports/", storage=get_private_storage)
    original_name = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    # The same report saved in another encoding, with a BOM or CRLF, or as .docx: one report
    # (reports.parsing.fingerprint). Blank only for a pre-existing duplicate found when the
    # column was added (migration 0003), which keeps its row but not the fingerprint.
    content_hash = models.CharField("正文指纹", max_length=64, blank=True, default="")
    size = models.PositiveBigIntegerField("大小（字节）")
    format = models.CharField("格式", max_length=10)
    encoding = models.CharField("编码", max_length=30, blank=True)
    text = models.TextField("清理后的正文")
    title = models.CharField("标题", max_length=500, blank=True)
    issuing_body = models.CharField("发文单位", max_length=100, blank=True)
    year = models.PositiveSmallIntegerField("年度", null=True, blank=True)
    period = models.CharField("期间", max_length=50, blank=True)
    report_date = models.DateField(
        "报告日期", null=True, blank=True,
        help_text="对账时按此日期取台账数据；文中未写明时由督导人员填写。",
    )
    inspection = models.ForeignKey(
        "tracker.Inspection", verbose_name="对应巡视巡察", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="source_reports",
    )
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导入人", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    imported_at = models.DateTimeField("导入时间")

    class Meta:
        verbose_name = "报告文件"
        verbose_name_plural = "报告文件"
        ordering = ["-imported_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_hash"], condition=~models.Q(content_hash=""),
                name="sourcereport_content_hash_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.original_name


class FigureKind(models.TextChoices):
    PROGRESS = "progress", "整改进度"
    FOUND = "found", "问题总数（未述进展）"
    OUTCOME = "outcome", "整改结果（未述总数）"
    HANDLED = "handled", "受理办结数"


class FigureCategory(models.TextChoices):
    RECTIFICATION = "rectification", "问题整改"
    CLUE_DISPOSAL = "clue_disposal", "线索处置"
    OTHER = "other", "其他"


class FigureSource(models.TextChoices):
    INSPECTION = "inspection", "巡视巡察"
    SELF_CHECK = "self_check", "自查自纠"
    AUDIT = "audit", "审计整改"
    SUPERVISION = "supervision", "督察整改"
    THEME_EDUCATION = "theme_education", "主题教育检视"


class FigureConfidence(models.TextChoices):
    HIGH = "high", "高"
    LOW = "low", "低（请核对）"


class ExtractedFigure(models.Model):
    """A number statement read from a report, proposed until a supervisor confirms it."""

    report = models.ForeignKey(
        SourceReport, verbose_name="报告", on_delete=models.CASCADE, related_name="figures"
    )
    kind = models.CharField("类别", max_length=20, choices=FigureKind.choices)
    body = models.CharField("报告主体", max_length=100, blank=True)
    counting_word = models.CharField("量词", max_length=2, blank=True)
    # None means not stated or redacted in the report: never zero.
    total = models.PositiveIntegerField("总数", null=True, blank=True)
    completed = models.PositiveIntegerField("已完成", null=True, blank=True)
    basically_completed = models.PositiveIntegerField("基本完成", null=True, blank=True)
    long_term = models.PositiveIntegerField("长期坚持", null=True, blank=True)
    not_completed = models.PositiveIntegerField("未完成", null=True, blank=True)
    in_progress = models.PositiveIntegerField("正在整改", null=True, blank=True)
    counted_noun = models.CharField("计数对象", max_length=20, blank=True)
    category = models.CharField(
        "数据类别", max_length=20, choices=FigureCategory.choices,
        default=FigureCategory.RECTIFICATION,
    )
    # Blank when the text names no source; audit, 督察 and 主题教育 figures are never 巡视巡察.
    source = models.CharField("整改来源", max_length=20, choices=FigureSource.choices, blank=True)
    rate = models.CharField("完成率（原文）", max_length=12, blank=True)
    adds_up = models.BooleanField("各项之和等于总数", null=True, blank=True)
    confidence = models.CharField(
        "可信度", max_length=10, choices=FigureConfidence.choices, default=FigureConfidence.HIGH
    )
    quote = models.TextField("原文")
    start = models.PositiveIntegerField("起始位置")
    end = models.PositiveIntegerField("结束位置")
    review_state = models.CharField(
        "确认状态", max_length=20, choices=ReviewState.choices, default=ReviewState.PROPOSED
    )
    inspection = models.ForeignKey(
        "tracker.Inspection", verbose_name="对应巡视巡察", null=True, blank=True,
        on_delete=models.PROTECT, related_name="reported_figures",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    reviewed_at = models.DateTimeField("确认时间", null=True, blank=True)

    class Meta:
        verbose_name = "报告数据"
        verbose_name_plural = "报告数据"
        ordering = ["report_id", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="figure_span_not_empty"
            ),
            models.CheckConstraint(
                condition=~models.Q(review_state="confirmed", inspection__isnull=True),
                name="figure_confirmed_has_inspection",
            ),
        ]

    def __str__(self) -> str:
        return self.quote[:60]


class ItemKind(models.TextChoices):
    PROBLEM = "problem", "存在的问题"
    MEASURE = "measure", "下步措施"


class ExtractedItem(models.Model):
    """An enumerated problem or planned measure read from a report, proposed until confirmed
    into the ledger as a Problem or a Task."""

    report = models.ForeignKey(
        SourceReport, verbose_name="报告", on_delete=models.CASCADE, related_name="items"
    )
    kind = models.CharField("类别", max_length=20, choices=ItemKind.choices)
    position = models.PositiveSmallIntegerField("序号")
    text = models.TextField("内容")
    start = models.PositiveIntegerField("起始位置")
    end = models.PositiveIntegerField("结束位置")
    review_state = models.CharField(
        "确认状态", max_length=20, choices=ReviewState.choices, default=ReviewState.PROPOSED
    )
    problem = models.ForeignKey(
        "tracker.Problem", verbose_name="生成的问题", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    task = models.ForeignKey(
        "tracker.Task", verbose_name="生成的任务", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    reviewed_at = models.DateTimeField("确认时间", null=True, blank=True)

    class Meta:
        verbose_name = "报告条目"
        verbose_name_plural = "报告条目"
        ordering = ["report_id", "kind", "position"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="item_span_not_empty"
            ),
            models.UniqueConstraint(
                fields=["report", "kind", "position"], name="item_position_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(review_state="confirmed")
                | models.Q(kind="problem", problem__isnull=False)
                | models.Q(kind="measure", task__isnull=False),
                name="item_confirmed_has_ledger_row",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class RollupSnapshot(models.Model):
    """A named, frozen copy of a rollup (e.g. the figures sent upward on a date).

    The rows are stored as computed at saving time and never change afterwards: later status
    changes, corrections or deadline extensions do not touch a snapshot. Rows are append-only;
    a correction is a new snapshot under a new name.
    """

    name = models.CharField("名称", max_length=200, unique=True)
    group_by = models.CharField("分组方式", max_length=20)
    as_of = models.DateField("统计截止日期")
    params = models.JSONField("筛选条件", default=dict, blank=True)
    rows = models.JSONField("各组数据", default=list)
    total = models.JSONField("合计", default=dict)
    scope_unit = models.ForeignKey(
        "tracker.Unit",
        verbose_name="统计范围单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="保存人当时可查看的单位范围；为空表示全部。",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="保存人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("保存时间")

    class Meta:
        verbose_name = "统计快照"
        verbose_name_plural = "统计快照"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("统计快照保存后不可修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("统计快照不可删除")


class ReportImportState(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "正在读取"
    DONE = "done", "已完成"
    FAILED = "failed", "未能导入"


class ReportImport(models.Model):
    """One uploaded report waiting to be read, being read, or read (issue #14): the upload is
    stored here and read by the Celery worker (reports.tasks), never by the web process.
    A job is its uploader's alone. Written only by reports.services."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.CASCADE,
        related_name="report_imports",
    )
    original_name = models.CharField("文件名", max_length=255)
    file = models.FileField(
        "待读取文件", upload_to="reports/pending/", storage=get_private_storage, blank=True
    )
    size = models.PositiveBigIntegerField("大小（字节）")
    state = models.CharField(
        "状态", max_length=10, choices=ReportImportState.choices,
        default=ReportImportState.QUEUED,
    )
    report = models.ForeignKey(
        SourceReport, verbose_name="报告", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_report = models.BooleanField("新导入", default=False)
    reason = models.CharField("错误代码", max_length=40, blank=True)
    message = models.TextField("结果", blank=True)
    created_at = models.DateTimeField("上传时间")
    started_at = models.DateTimeField("开始读取时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "报告导入"
        verbose_name_plural = "报告导入"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="reportimport_user_recent")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=ReportImportState.values),
                name="reportimport_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"报告导入 #{self.pk}（{self.original_name}）"
