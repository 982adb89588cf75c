from django.conf import settings
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


class ApiToken(models.Model):
    """One client's API token (脚本、系统对接): named by its owner, stored only as the SHA-256
    of its key (the key itself is shown once, at creation), expiring, revocable.

    Issued, checked and revoked only in tracker.services.auth; every password change revokes
    all of the user's tokens (tracker.services.users.user_set_password).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField("客户端名称", max_length=100)
    key_hash = models.CharField("令牌摘要（SHA-256）", max_length=64, unique=True)
    # The key's first characters, so a person can tell their tokens apart (not a secret).
    prefix = models.CharField("令牌开头", max_length=8)
    created_at = models.DateTimeField("创建时间")
    expires_at = models.DateTimeField("过期时间")
    last_used_at = models.DateTimeField("最近使用时间", null=True, blank=True)
    revoked_at = models.DateTimeField("作废时间", null=True, blank=True)

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["user", "expires_at"], name="apitoken_user_active",
                condition=models.Q(revoked_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="apitoken_expires_after_creation",
            ),
            models.CheckConstraint(
                condition=~models.Q(name=""), name="apitoken_name_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"
