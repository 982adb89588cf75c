"""Supervision notices (督办单, issue 15): a supervisor's written demand on lagging tasks.

A notice has a colour (蓝色 nearing the deadline, 黄色 behind schedule or poor quality, 红色
overdue), a reason, requirements and a reply-by date, and one row per task addressed to the
task's lead unit. Each row is answered on its own (回复). What is stored is what happened
(issued, replied, when, by whom); the states people read (待回复 / 已回复 / 逾期未回复, and the
notice's 部分回复) are derived from it by tracker.deadlines, never stored twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class NoticeColour(models.TextChoices):
    BLUE = "blue", "蓝色督办"
    YELLOW = "yellow", "黄色督办"
    RED = "red", "红色督办"


class NoticeState(models.TextChoices):
    """Derived (tracker.deadlines.notice_state / notice_item_state), never a column."""

    PENDING = "pending", "待回复"
    PARTIAL = "partial", "部分回复"
    REPLIED = "replied", "已回复"
    OVERDUE = "overdue", "逾期未回复"


class NoticeSequence(models.Model):
    """The last number given in a year: locked while the next notice takes its number."""

    year = models.PositiveSmallIntegerField("年度", primary_key=True)
    last = models.PositiveIntegerField("已用编号", default=0)

    class Meta:
        verbose_name = "督办单编号"
        verbose_name_plural = "督办单编号"

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class SupervisionNotice(models.Model):
    year = models.PositiveSmallIntegerField("年度", editable=False)
    sequence = models.PositiveIntegerField("序号", editable=False)
    colour = models.CharField("督办等级", max_length=10, choices=NoticeColour.choices)
    reason = models.TextField("督办事由")
    requirements = models.TextField("督办要求", blank=True)
    reply_by = models.DateField("回复期限")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="签发人", on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField("签发时间", db_index=True)

    class Meta:
        verbose_name = "督办单"
        verbose_name_plural = "督办单"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="notice_number_unique"),
            models.CheckConstraint(
                condition=Q(colour__in=NoticeColour.values), name="notice_colour_valid"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="notice_reason_not_empty"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="notice_sequence_positive"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"督办〔{self.year}〕{self.sequence}号"


class SupervisionNoticeItem(models.Model):
    """One task of a notice, addressed to the task's lead unit at the time of issue."""

    notice = models.ForeignKey(
        SupervisionNotice, verbose_name="督办单", on_delete=models.PROTECT, related_name="items"
    )
    task = models.ForeignKey(
        "tracker.Task", verbose_name="整改任务", on_delete=models.PROTECT,
        related_name="notice_items",
    )
    unit = models.ForeignKey(
        "tracker.Unit", verbose_name="承办单位", on_delete=models.PROTECT, related_name="+"
    )
    reply = models.TextField("回复内容", blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="回复人", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    replied_at = models.DateTimeField("回复时间", null=True, blank=True)

    class Meta:
        verbose_name = "督办任务"
        verbose_name_plural = "督办任务"
        ordering = ["notice_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "task"], name="notice_item_task_once"),
            models.CheckConstraint(
                condition=(
                    Q(replied_at__isnull=True, replied_by__isnull=True, reply="")
                    | (Q(replied_at__isnull=False, replied_by__isnull=False) & ~Q(reply=""))
                ),
                name="notice_item_replied_together",
            ),
        ]
        indexes = [
            models.Index(fields=["task", "notice"], name="notice_item_task"),
            # Replies still awaited (the register's overdue filter, the reply-by reminder).
            models.Index(
                fields=["notice"], condition=Q(replied_at__isnull=True),
                name="notice_item_unreplied",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id}/{self.task_id}"
