from django.db import models


class LoginFailure(models.Model):
    """Failed log-in counter for one key: an account at an address, or an address alone.

    Counted with single conditional UPDATEs in tracker.services.auth, so concurrent attempts
    cannot slip past the limit the way cache-based throttle counters can.
    """

    key = models.CharField("键", max_length=300, unique=True)
    failures = models.PositiveIntegerField("失败次数", default=0)
    window_started_at = models.DateTimeField("计数起始时间")
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)

    class Meta:
        verbose_name = "登录失败记录"
        verbose_name_plural = "登录失败记录"

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"
