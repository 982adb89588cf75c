from django.db import models


class InspectionKind(models.TextChoices):
    CENTRAL_INSPECTION = "central_inspection", "中央巡视"
    PROVINCIAL_INSPECTION = "provincial_inspection", "省委巡视"
    CITY_PATROL = "city_patrol", "市委巡察"
    COUNTY_PATROL = "county_patrol", "县委巡察"
    SELF_CHECK = "self_check", "自查自纠"


class InspectionMode(models.TextChoices):
    REGULAR = "regular", "常规"
    SPECIAL = "special", "专项"
    ESCALATED = "escalated", "提级"
    CROSS = "cross", "交叉"


class Inspection(models.Model):
    """One round of inspection or patrol whose feedback (反馈意见) must be rectified."""

    title = models.CharField("名称", max_length=200)
    kind = models.CharField("类别", max_length=30, choices=InspectionKind.choices)
    mode = models.CharField(
        "方式", max_length=20, choices=InspectionMode.choices, default=InspectionMode.REGULAR
    )
    team = models.CharField("巡视（巡察）组", max_length=100, blank=True)
    target = models.CharField("被巡视（巡察）对象", max_length=200)
    target_unit = models.ForeignKey(
        "tracker.Unit",
        verbose_name="被巡视（巡察）单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspections",
    )
    feedback_date = models.DateField("反馈日期")
    rectification_deadline = models.DateField("整改期限", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "巡视巡察"
        verbose_name_plural = "巡视巡察"
        ordering = ["-feedback_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rectification_deadline__isnull=True)
                | models.Q(rectification_deadline__gte=models.F("feedback_date")),
                name="inspection_deadline_after_feedback",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Problem(models.Model):
    """A problem fed back (反馈问题), grouped under an aspect (方面)."""

    inspection = models.ForeignKey(
        Inspection, verbose_name="巡视巡察", on_delete=models.PROTECT, related_name="problems"
    )
    aspect = models.CharField("方面", max_length=200, blank=True)
    number = models.PositiveIntegerField("序号")
    text = models.TextField("问题描述")

    class Meta:
        verbose_name = "反馈问题"
        verbose_name_plural = "反馈问题"
        ordering = ["inspection_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["inspection", "number"], name="problem_number_unique_in_inspection"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.text[:40]}"
