"""回头看 (re-check) and effectiveness (issue 15).

A task closed (销号) can be looked at again later, by default six months after closure: the
lead unit reports whether the problem came back (问题是否反弹), the supervisor confirms or
finds it failed, and a failed re-check reopens the task through the one reopen service.

States, in order: 待回头看 (scheduled) → 待单位报告 (due, set by the daily sweep on the due
day) → 待督导确认 (reported) → 已确认 (confirmed) or 未通过 (failed, the task reopened).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Effectiveness(models.TextChoices):
    """整改成效, recorded at 销号 (blank on closures from the bulk and legacy paths)."""

    EFFECTIVE = "effective", "有效"
    BASICALLY_EFFECTIVE = "basically_effective", "基本有效"
    INEFFECTIVE = "ineffective", "无效"


class RecheckState(models.TextChoices):
    SCHEDULED = "scheduled", "待回头看"
    DUE = "due", "待单位报告"
    REPORTED = "reported", "待督导确认"
    CONFIRMED = "confirmed", "已确认"
    FAILED = "failed", "未通过（已重新打开）"


# A re-check still in hand: at most one per task.
OPEN_RECHECK_STATES = (RecheckState.SCHEDULED, RecheckState.DUE, RecheckState.REPORTED)


class TaskRecheck(models.Model):
    task = models.ForeignKey(
        "tracker.Task", verbose_name="整改任务", on_delete=models.PROTECT,
        related_name="rechecks",
    )
    due_on = models.DateField("回头看日期")
    state = models.CharField(
        "状态", max_length=20, choices=RecheckState.choices, default=RecheckState.SCHEDULED
    )
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="安排人", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    scheduled_at = models.DateTimeField("安排时间")
    became_due_at = models.DateTimeField("到期时间", null=True, blank=True)
    recurred = models.BooleanField("问题是否反弹", null=True, blank=True)
    report_note = models.TextField("单位报告", blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="报告人", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    reported_at = models.DateTimeField("报告时间", null=True, blank=True)
    decision_note = models.TextField("督导意见", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    decided_at = models.DateTimeField("确认时间", null=True, blank=True)

    class Meta:
        verbose_name = "回头看"
        verbose_name_plural = "回头看"
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=RecheckState.values), name="recheck_state_valid"
            ),
            models.UniqueConstraint(
                fields=["task"], condition=Q(state__in=[s.value for s in OPEN_RECHECK_STATES]),
                name="recheck_one_open_per_task",
            ),
            models.CheckConstraint(
                condition=(
                    Q(state__in=["scheduled", "due"], reported_at__isnull=True,
                      reported_by__isnull=True, recurred__isnull=True)
                    | (~Q(state__in=["scheduled", "due"])
                       & Q(reported_at__isnull=False, reported_by__isnull=False,
                           recurred__isnull=False))
                ),
                name="recheck_reported_iff_past_due",
            ),
            models.CheckConstraint(
                condition=(
                    Q(state__in=["confirmed", "failed"], decided_at__isnull=False,
                      decided_by__isnull=False)
                    | (~Q(state__in=["confirmed", "failed"])
                       & Q(decided_at__isnull=True, decided_by__isnull=True))
                ),
                name="recheck_decided_iff_decided_state",
            ),
        ]
        indexes = [
            # The daily sweep: scheduled re-checks by due day.
            models.Index(fields=["due_on"], condition=Q(state="scheduled"),
                         name="recheck_scheduled_due"),
            models.Index(fields=["state", "due_on"], name="recheck_state_due"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} 回头看 {self.due_on}"
