"""Reminders (催办、督办), the messages that carry them, and their deliveries per channel.

- Reminder: one row per (task, stage, deadline in force, recipient). The unique constraints are
  what make a reminder happen exactly once; a sweep sends only what its INSERT actually created.
- Notification: one message to one recipient (a person, or a unit's group robots) on one day:
  the daily digest (at most one per recipient and day) or the monthly dispatch request. For a
  person it is also the in-app notification, with its read state.
- Delivery: one outbound send of a notification on one channel (e-mail, WeCom, DingTalk), claimed
  pending → sending → sent by a conditional UPDATE, or failed after its retries.
- DispatchRequest: the monthly request (按月调度) to a unit to report progress by a date.
- EventNotice: one thing that happened to a task (sent back, submitted, extension decided …)
  told to one person, exactly once (unique per recipient, event and key). It is carried by a
  notification of its own (immediate) or by the recipient's next daily digest (digest mode).
- NotificationPreference: what a person wants to be told of, on which channels, and when.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Reminder(models.Model):
    task = models.ForeignKey(
        "tracker.Task", verbose_name="整改任务", on_delete=models.CASCADE, related_name="reminders"
    )
    stage = models.CharField("提醒阶段", max_length=30)
    level = models.CharField("灯色", max_length=10)
    deadline = models.DateField("对应完成时限")
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接收人",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminders",
    )
    recipient_unit = models.ForeignKey(
        "tracker.Unit",
        verbose_name="接收单位群",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="group_reminders",
    )
    recorded_on = models.DateField("提醒日期")
    created_at = models.DateTimeField("记录时间")
    notification = models.ForeignKey(
        "tracker.Notification",
        verbose_name="所在消息",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reminders",
    )

    class Meta:
        verbose_name = "催办提醒"
        verbose_name_plural = "催办提醒"
        ordering = ["-recorded_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient_user__isnull=False, recipient_unit__isnull=True)
                | Q(recipient_user__isnull=True, recipient_unit__isnull=False),
                name="reminder_exactly_one_recipient",
            ),
            models.UniqueConstraint(
                fields=["task", "stage", "deadline", "recipient_user"],
                condition=Q(recipient_user__isnull=False),
                name="reminder_once_per_user",
            ),
            models.UniqueConstraint(
                fields=["task", "stage", "deadline", "recipient_unit"],
                condition=Q(recipient_unit__isnull=False),
                name="reminder_once_per_unit_group",
            ),
        ]
        indexes = [
            # The digest step finds reminders not yet in a message, recipient by recipient.
            models.Index(
                fields=["recipient_user", "id"],
                condition=Q(notification__isnull=True, recipient_user__isnull=False),
                name="reminder_unsent_user",
            ),
            models.Index(
                fields=["recipient_unit", "id"],
                condition=Q(notification__isnull=True, recipient_unit__isnull=False),
                name="reminder_unsent_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} {self.stage} {self.deadline}"


class NotificationKind(models.TextChoices):
    DIGEST = "digest", "每日提醒汇总"
    DISPATCH = "dispatch", "按月调度"
    EVENT = "event", "事项通知"


class Notification(models.Model):
    kind = models.CharField("类型", max_length=20, choices=NotificationKind.choices)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接收人",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    recipient_unit = models.ForeignKey(
        "tracker.Unit",
        verbose_name="接收单位群",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="group_notifications",
    )
    day = models.DateField("日期")
    title = models.CharField("标题", max_length=200, blank=True)
    body = models.TextField("内容", blank=True)
    items = models.JSONField("事项", default=list, blank=True)
    # A digest lists at most TRACKER_DIGEST_MAX_ITEMS tasks (the most pressing) and counts
    # them all here; 0 on messages that list everything they carry.
    reminder_count = models.PositiveIntegerField("提醒任务数", default=0, db_default=0)
    overdue_count = models.PositiveIntegerField("其中已逾期", default=0, db_default=0)
    created_at = models.DateTimeField("创建时间")
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient_user__isnull=False, recipient_unit__isnull=True)
                | Q(recipient_user__isnull=True, recipient_unit__isnull=False),
                name="notification_exactly_one_recipient",
            ),
            # Digests and dispatch requests: one per recipient and day. Event messages are
            # kept unique by their EventNotice instead (several events may happen in a day).
            models.UniqueConstraint(
                fields=["recipient_user", "kind", "day"],
                condition=Q(recipient_user__isnull=False) & ~Q(kind="event"),
                name="notification_once_per_user_day",
            ),
            models.UniqueConstraint(
                fields=["recipient_unit", "kind", "day"],
                condition=Q(recipient_unit__isnull=False),
                name="notification_once_per_unit_day",
            ),
        ]
        indexes = [
            models.Index(
                fields=["recipient_user", "read_at"],
                condition=Q(recipient_user__isnull=False),
                name="notification_user_read",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} {self.day}"

    @property
    def unlisted_count(self) -> int:
        """Tasks the digest counts but does not list (the inbox says "另有N项")."""
        listed = sum(1 for item in self.items if "event" not in item)
        return max(0, self.reminder_count - listed)


class Channel(models.TextChoices):
    EMAIL = "email", "电子邮件"
    WECOM = "wecom", "企业微信群机器人"
    DINGTALK = "dingtalk", "钉钉群机器人"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"


class Delivery(models.Model):
    notification = models.ForeignKey(
        Notification, verbose_name="通知", on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField("渠道", max_length=20, choices=Channel.choices)
    status = models.CharField(
        "状态", max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    last_error = models.TextField("最近错误", blank=True)
    created_at = models.DateTimeField("创建时间")
    claimed_at = models.DateTimeField("开始发送时间", null=True, blank=True)
    # A pending delivery whose queued message got lost is queued again by the sweep once this
    # time has passed (retries scheduled by the worker set it past their own countdown).
    next_attempt_at = models.DateTimeField("下次尝试时间", null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "发送记录"
        verbose_name_plural = "发送记录"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="delivery_once_per_channel"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="delivery_sent_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["id"],
                condition=Q(status__in=["pending", "sending"]),
                name="delivery_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.notification_id} {self.get_status_display()}"


class DispatchRequest(models.Model):
    unit = models.ForeignKey(
        "tracker.Unit", verbose_name="责任单位", on_delete=models.CASCADE,
        related_name="dispatch_requests",
    )
    month = models.DateField("调度月份")
    report_by = models.DateField("报送截止日期")
    open_tasks = models.PositiveIntegerField("未完成任务数")
    created_at = models.DateTimeField("发起时间")

    class Meta:
        verbose_name = "按月调度"
        verbose_name_plural = "按月调度"
        ordering = ["-month", "unit_id"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "month"], name="dispatch_once_per_unit_month"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.month:%Y-%m}"


class EventType(models.TextChoices):
    """Things that happen to a task that someone must hear of at once (issue 11)."""

    SUBMITTED = "submitted", "任务提交销号，等待审核"
    SENT_BACK = "sent_back", "任务被退回整改"
    EXTENSION_DECIDED = "extension_decided", "延期申请已审批"
    REOPENED = "reopened", "已销号的任务被重新打开"
    SUPPORTING_ASSIGNED = "supporting_assigned", "本单位被列为配合单位"
    # Issue 15: the discussion on a task.
    MENTIONED = "mentioned", "有人在任务评论中提到我"
    INSTRUCTED = "instructed", "本单位的任务有新的领导批示"
    WATCHED = "watched", "我关注的任务有新评论或状态变化"
    NOTICE_ISSUED = "notice_issued", "收到督办单"
    NOTICE_REPLIED = "notice_replied", "督办单已回复"
    NOTICE_OVERDUE = "notice_overdue", "督办单逾期未回复"
    # 回头看 (tracker.services.rechecks).
    RECHECK_DUE = "recheck_due", "回头看到期，请报告问题是否反弹"
    RECHECK_REPORTED = "recheck_reported", "回头看已报告，等待确认"
    RECHECK_OVERDUE = "recheck_overdue", "回头看逾期未报告"
    # 签收 (docs/acknowledgement.md): a new task, or one moved to the unit, awaits its 签收.
    ASSIGNED = "assigned", "新交办任务待签收"


class EventNotice(models.Model):
    event = models.CharField("事项", max_length=30, choices=EventType.choices)
    # What happened, unique within the event: "task_event:<TaskEvent id>" for a transition,
    # "extension:<id>" for a decision. A retried or doubled call produces the same key.
    key = models.CharField("事项标识", max_length=80)
    task = models.ForeignKey(
        "tracker.Task", verbose_name="整改任务", on_delete=models.CASCADE,
        related_name="event_notices",
    )
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.CASCADE,
        related_name="event_notices",
    )
    text = models.CharField("内容", max_length=300)
    note = models.TextField("说明", blank=True)
    created_at = models.DateTimeField("发生时间")
    notification = models.ForeignKey(
        Notification, verbose_name="所在消息", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="event_notices",
    )

    class Meta:
        verbose_name = "事项通知"
        verbose_name_plural = "事项通知"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient_user", "event", "key"], name="event_notice_once"
            ),
        ]
        indexes = [
            # Digest mode: the daily digest finds notices not yet in a message.
            models.Index(
                fields=["recipient_user", "id"], condition=Q(notification__isnull=True),
                name="event_notice_unsent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} #{self.task_id} → {self.recipient_user_id}"


class DeliveryMode(models.TextChoices):
    IMMEDIATE = "immediate", "即时：每件事单独通知"
    DIGEST = "digest", "每日汇总：并入次日（或当日尚未发出的）提醒汇总"


class NotificationPreference(models.Model):
    """A person's choices. No row means the defaults: every event, e-mail on, immediate.

    The in-app inbox is always on: it is the record of what the person was told (and the
    deadline reminders and monthly dispatch requests cannot be switched off, only moved to
    fewer channels)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    on_submitted = models.BooleanField("任务提交销号，等待我审核", default=True)
    on_sent_back = models.BooleanField("本单位的任务被退回整改", default=True)
    on_extension_decided = models.BooleanField("我的延期申请已审批", default=True)
    on_reopened = models.BooleanField("本单位的任务被重新打开", default=True)
    on_supporting_assigned = models.BooleanField("本单位被列为配合单位", default=True)
    on_mentioned = models.BooleanField("有人在任务评论中提到我", default=True)
    on_instructed = models.BooleanField("本单位的任务有新的领导批示", default=True)
    on_watched = models.BooleanField("我关注的任务有新评论或状态变化", default=True)
    on_notice_issued = models.BooleanField("本单位收到督办单", default=True)
    on_notice_replied = models.BooleanField("我签发的督办单已回复", default=True)
    on_notice_overdue = models.BooleanField("本单位的督办单逾期未回复", default=True)
    on_recheck_due = models.BooleanField("本单位的回头看到期", default=True)
    on_recheck_reported = models.BooleanField("回头看已报告，等待我确认", default=True)
    on_recheck_overdue = models.BooleanField("回头看逾期未报告", default=True)
    on_assigned = models.BooleanField("本单位有新交办的任务待签收", default=True)
    by_email = models.BooleanField("同时发送电子邮件", default=True)
    mode = models.CharField(
        "发送方式", max_length=20, choices=DeliveryMode.choices, default=DeliveryMode.IMMEDIATE
    )
    updated_at = models.DateTimeField("修改时间", null=True, blank=True)

    class Meta:
        verbose_name = "通知设置"
        verbose_name_plural = "通知设置"
        constraints = [
            models.CheckConstraint(
                condition=Q(mode__in=DeliveryMode.values), name="notification_pref_mode_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} 通知设置"

    def wants(self, event: str) -> bool:
        return bool(getattr(self, f"on_{event}"))
