from django.conf import settings
from django.db import models


class SavedFilter(models.Model):
    """常用筛选: a task-list query string a person saved under a name, for themselves only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters",
        verbose_name="用户",
    )
    name = models.CharField("名称", max_length=50)
    query = models.CharField("筛选条件", max_length=1000, blank=True)
    created_at = models.DateTimeField("保存时间", auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "常用筛选"
        verbose_name_plural = "常用筛选"
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_filter_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name
