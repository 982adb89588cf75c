"""Scoring schemes (考评权重, issue 15): the weights an administrator sets for the unit score.

A scheme takes effect on its `effective_from` day; the scheme in force for a period is the
newest one effective on the period's last day, so a period already scored keeps its weights
when a later scheme is added. Scores themselves are never stored: they are computed from the
history as of the period's end (tracker.figures.scoring), the same every time.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

WEIGHT_FIELDS = (
    "base_score", "on_time_weight", "overdue_day_weight", "send_back_weight",
    "notice_weight", "notice_late_weight",
)

# The weights used while no scheme is in force (docs/scoring.md).
DEFAULT_WEIGHTS = {
    "base_score": Decimal("100"),
    "on_time_weight": Decimal("40"),
    "overdue_day_weight": Decimal("0.5"),
    "send_back_weight": Decimal("2"),
    "notice_weight": Decimal("3"),
    "notice_late_weight": Decimal("5"),
}


def _weight(label: str, default: str, help_text: str, *, least: str = "0",
            message: str = "不能为负数"):
    return models.DecimalField(
        label, max_digits=6, decimal_places=2, default=Decimal(default), help_text=help_text,
        validators=[MinValueValidator(Decimal(least), message=f"{label}{message}"),
                    MaxValueValidator(Decimal("1000"), message=f"{label}不能超过1000")],
    )


class ScoringScheme(models.Model):
    name = models.CharField("方案名称", max_length=100)
    effective_from = models.DateField(
        "生效日期", unique=True, help_text="考评期末在此日期及以后的，按本方案计分"
    )
    base_score = _weight("基础分", "100", "每个单位的起始分", least="0.01", message="须大于0")
    on_time_weight = _weight(
        "按期销号率权重", "40", "扣分 = 权重 ×（1 − 按期销号率）；期内无到期任务不扣"
    )
    overdue_day_weight = _weight("逾期每工作日扣分", "0.5", "期末逾期任务累计逾期工作日，每日扣分")
    send_back_weight = _weight("每次退回扣分", "2", "期内被退回整改一次扣分")
    notice_weight = _weight("每份督办单扣分", "3", "期内收到督办单（每项督办任务）扣分")
    notice_late_weight = _weight(
        "逾期回复每项扣分", "5", "回复期限在期内而逾期回复或未回复的，每项扣分"
    )
    note = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="设置人", on_delete=models.PROTECT,
        related_name="+", null=True, blank=True,
    )
    updated_at = models.DateTimeField("修改时间", null=True, blank=True)

    class Meta:
        verbose_name = "考评方案"
        verbose_name_plural = "考评方案"
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(base_score__gt=0) & Q(on_time_weight__gte=0)
                    & Q(overdue_day_weight__gte=0) & Q(send_back_weight__gte=0)
                    & Q(notice_weight__gte=0) & Q(notice_late_weight__gte=0)
                ),
                name="scoring_weights_valid",
                violation_error_message="基础分须大于0，各项权重不能为负数",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="scoring_scheme_named",
                                   violation_error_message="请填写方案名称"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.effective_from:%Y-%m-%d}起）"

    def weights(self) -> dict[str, Decimal]:
        return {field: getattr(self, field) for field in WEIGHT_FIELDS}
