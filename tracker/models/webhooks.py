"""Outbound webhooks (issue 15): other internal systems told of task changes.

- WebhookEndpoint: one receiving system: its URL, the secret it verifies our signature with,
  the events it subscribes to and, optionally, the unit whose subtree bounds the tasks it hears
  of (tracker.access.tasks_within_subtree_q decides which tasks those are).
- WebhookDelivery: one event (a task history row) for one endpoint. Unique per (endpoint,
  event): the history row that records a change creates the deliveries in its own transaction,
  so an event is delivered at most once per endpoint, and the claim on `attempts` (the same
  conditional UPDATE the reminder deliveries use) keeps a duplicated queue message or a second
  worker from sending it twice.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from tracker.webhooks.urls import validate_webhook_url


def generate_webhook_secret() -> str:
    """A fresh signing secret: 32 random bytes, hex (64 characters)."""
    return secrets.token_hex(32)


class WebhookEvent(models.TextChoices):
    CREATED = "task.created", "任务创建"
    CHANGED = "task.changed", "任务变更"
    CLOSED = "task.closed", "任务销号"
    REOPENED = "task.reopened", "任务重新打开"


class WebhookEndpoint(models.Model):
    name = models.CharField("名称", max_length=100)
    url = models.URLField(
        "接收地址", max_length=500, validators=[validate_webhook_url],
        help_text="http:// 或 https:// 开头的内网地址；地址中不得包含用户名或密码",
    )
    secret = models.CharField(
        "签名密钥", max_length=128, default=generate_webhook_secret, editable=False,
        help_text="系统生成，接收方用它校验签名；只有系统管理员可以查看",
    )
    on_created = models.BooleanField("订阅：任务创建（task.created）", default=True)
    on_changed = models.BooleanField("订阅：任务变更（task.changed）", default=True)
    on_closed = models.BooleanField("订阅：任务销号（task.closed）", default=True)
    on_reopened = models.BooleanField("订阅：任务重新打开（task.reopened）", default=True)
    scope_unit = models.ForeignKey(
        "tracker.Unit", verbose_name="限定单位", null=True, blank=True,
        on_delete=models.PROTECT, related_name="webhook_endpoints",
        help_text="只推送牵头单位或配合单位在该单位及其下级单位中的任务；留空则推送全部任务",
    )
    active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+", editable=False,
    )
    created_at = models.DateTimeField("创建时间", editable=False)
    updated_at = models.DateTimeField("修改时间", editable=False)

    class Meta:
        verbose_name = "外部推送地址"
        verbose_name_plural = "外部推送地址"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def subscribes(self, event: str) -> bool:
        return bool(getattr(self, WEBHOOK_EVENT_FIELDS[event]))


# Event code → the endpoint's subscription field.
WEBHOOK_EVENT_FIELDS = {
    WebhookEvent.CREATED: "on_created",
    WebhookEvent.CHANGED: "on_changed",
    WebhookEvent.CLOSED: "on_closed",
    WebhookEvent.REOPENED: "on_reopened",
}


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    DELIVERED = "delivered", "已送达"
    FAILED = "failed", "发送失败"


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name="推送地址", on_delete=models.CASCADE,
        related_name="deliveries",
    )
    task_event = models.ForeignKey(
        "tracker.TaskEvent", verbose_name="任务记录", on_delete=models.CASCADE,
        related_name="webhook_deliveries",
    )
    event = models.CharField("事件", max_length=30, choices=WebhookEvent.choices)
    payload = models.JSONField("推送内容")
    status = models.CharField(
        "状态", max_length=20, choices=WebhookDeliveryStatus.choices,
        default=WebhookDeliveryStatus.PENDING,
    )
    # The claim token: every try increments it, and every write of a try is conditional on it.
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    # Tries allowed in all; an administrator's re-send allows another round.
    attempt_limit = models.PositiveSmallIntegerField("最多尝试次数")
    next_attempt_at = models.DateTimeField("下次尝试时间", null=True, blank=True)
    claimed_at = models.DateTimeField("开始发送时间", null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField("最近响应状态码", null=True, blank=True)
    last_error = models.TextField("最近错误", blank=True)
    created_at = models.DateTimeField("创建时间")
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)

    class Meta:
        verbose_name = "外部推送记录"
        verbose_name_plural = "外部推送记录"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "task_event"], name="webhook_delivery_once_per_event"
            ),
            models.CheckConstraint(
                condition=Q(status__in=WebhookDeliveryStatus.values),
                name="webhook_delivery_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False),
                name="webhook_delivery_delivered_has_time",
            ),
        ]
        indexes = [
            # The requeue finds what is due among the unfinished deliveries only.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="webhook_delivery_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} #{self.pk} → {self.endpoint_id}"
