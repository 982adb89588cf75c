# Source reports, extracted figures and rollup snapshots live here (see the reports issues).
from django.conf import settings
from django.db import models


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
