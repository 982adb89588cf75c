"""The discussion on a task (issue 15): comments, 领导批示, their @mentions, and watchers.

A comment changes no status and is never edited or deleted: the rows are themselves the
record (like ProgressReport), so they are not copied into TaskEvent; the task page shows them
as their own timeline. A correction is a new comment. Watching is a person's subscription, not
task history.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

BODY_MAX = 2000


class CommentKind(models.TextChoices):
    COMMENT = "comment", "评论"
    INSTRUCTION = "instruction", "领导批示"


class TaskComment(models.Model):
    """One immutable entry of a task's thread. Written only by
    tracker.services.comments.comment_post."""

    task = models.ForeignKey(
        "tracker.Task", verbose_name="整改任务", on_delete=models.PROTECT, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发表人", on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(
        "类型", max_length=20, choices=CommentKind.choices, default=CommentKind.COMMENT
    )
    body = models.CharField("内容", max_length=BODY_MAX)
    created_at = models.DateTimeField("发表时间")

    class Meta:
        verbose_name = "任务评论"
        verbose_name_plural = "任务评论"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["task", "-id"], name="taskcomment_task_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=CommentKind.values), name="taskcomment_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(body=""), name="taskcomment_body_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.task_id} {self.body[:20]}"

    @property
    def is_instruction(self) -> bool:
        return self.kind == CommentKind.INSTRUCTION


class CommentMention(models.Model):
    """A user or a unit named with @ in a comment: exactly one of the two."""

    comment = models.ForeignKey(
        TaskComment, verbose_name="评论", on_delete=models.CASCADE, related_name="mentions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="被提及用户", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    unit = models.ForeignKey(
        "tracker.Unit", verbose_name="被提及单位", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )

    class Meta:
        verbose_name = "评论提及"
        verbose_name_plural = "评论提及"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False, unit__isnull=True)
                           | Q(user__isnull=True, unit__isnull=False)),
                name="commentmention_user_xor_unit",
            ),
            models.UniqueConstraint(
                fields=["comment", "user"], condition=Q(user__isnull=False),
                name="commentmention_user_once",
            ),
            models.UniqueConstraint(
                fields=["comment", "unit"], condition=Q(unit__isnull=False),
                name="commentmention_unit_once",
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.user_id or self.unit_id} in #{self.comment_id}"


class TaskWatcher(models.Model):
    """A person following a task: told of its new comments and status changes."""

    task = models.ForeignKey(
        "tracker.Task", verbose_name="整改任务", on_delete=models.CASCADE,
        related_name="watchers",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="关注人", on_delete=models.CASCADE,
        related_name="watched_tasks",
    )
    created_at = models.DateTimeField("关注时间")

    class Meta:
        verbose_name = "任务关注"
        verbose_name_plural = "任务关注"
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="taskwatcher_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} 关注 #{self.task_id}"
