from django.db import models


class HolidayKind(models.TextChoices):
    HOLIDAY = "holiday", "法定节假日"
    WORKDAY = "workday", "调休上班"


class HolidayOverride(models.Model):
    """One day of the State Council's holiday schedule, entered by an administrator.

    Takes precedence over the chinesecalendar package (tracker.workdays); written only through
    tracker.services.calendar, which bumps WorkdayCalendarGeneration in the same transaction.
    """

    date = models.DateField("日期", unique=True)
    kind = models.CharField("类型", max_length=16, choices=HolidayKind.choices)
    name = models.CharField("节日名称", max_length=50, blank=True, help_text="如：春节、国庆节")
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = "节假日安排"
        verbose_name_plural = "节假日安排"

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {self.name}".strip()


class WorkdayCalendarGeneration(models.Model):
    """A single row: bumped on every change of HolidayOverride, so that each process notices
    the change and rebuilds its in-memory working-day calendar (tracker.workdays)."""

    generation = models.PositiveBigIntegerField("版本号", default=0)

    class Meta:
        verbose_name = "工作日历版本"
        verbose_name_plural = "工作日历版本"

    def __str__(self) -> str:
        return f"工作日历版本 {self.generation}"
