"""The audit log (审计日志): who did what outside the task services, append-only.

Task events have their own history (TaskEvent); this records the rest: units, users and
roles, inspections and problems, logins, exports, imports, evidence downloads. Rows are
written only by tracker.services.audit.audit_record, called by the services (and, for reads
that leave the system such as downloads and exports, by the view that serves them).

Append-only in three layers: the model refuses to save an existing row or delete one, the
queryset refuses `update()` and `delete()`, and on PostgreSQL a trigger (migration
0011_audit_log) rejects any UPDATE or DELETE that gets past the ORM.
"""

from django.conf import settings
from django.db import models


class AuditAppendOnlyError(RuntimeError):
    """A change or deletion of an audit entry was attempted: the log is append-only."""

    def __init__(self, what: str = "修改或删除"):
        super().__init__(f"审计日志只能追加，不能{what}")


class AuditAction(models.TextChoices):
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOGOUT = "logout", "退出"
    UNIT_CREATE = "unit_create", "新建单位"
    UNIT_UPDATE = "unit_update", "修改单位"
    UNIT_DELETE = "unit_delete", "删除单位"
    USER_CREATE = "user_create", "新建用户"
    USER_UPDATE = "user_update", "修改用户"
    USER_ROLE_CHANGE = "user_role_change", "修改用户角色"
    PASSWORD_CHANGE = "password_change", "修改密码"
    INSPECTION_CREATE = "inspection_create", "新建巡视巡察"
    INSPECTION_UPDATE = "inspection_update", "修改巡视巡察"
    INSPECTION_DELETE = "inspection_delete", "删除巡视巡察"
    PROBLEM_CREATE = "problem_create", "新建问题"
    PROBLEM_UPDATE = "problem_update", "修改问题"
    PROBLEM_DELETE = "problem_delete", "删除问题"
    LEDGER_EXPORT = "ledger_export", "导出台账"
    LEDGER_IMPORT = "ledger_import", "导入台账"
    REPORT_IMPORT = "report_import", "导入报告"
    REPORT_EXPORT = "report_export", "导出报表"
    EVIDENCE_DOWNLOAD = "evidence_download", "下载佐证材料"
    SCORING_SCHEME_CREATE = "scoring_scheme_create", "新建考评方案"
    SCORING_SCHEME_UPDATE = "scoring_scheme_update", "修改考评方案"
    SCORING_SCHEME_DELETE = "scoring_scheme_delete", "删除考评方案"
    SCORE_EXPORT = "score_export", "导出考评通报"


class AuditQuerySet(models.QuerySet):
    """Rows are only ever added: bulk updates and deletes are refused."""

    def update(self, **kwargs):
        raise AuditAppendOnlyError("修改")

    def delete(self):
        raise AuditAppendOnlyError("删除")

    def _raw_delete(self, using):
        raise AuditAppendOnlyError("删除")


class AuditEntry(models.Model):
    at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        # Users are deactivated, never deleted, once they have done anything; the name is
        # kept as it was in `actor_name` in any case.
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(
        "操作人姓名", max_length=200, blank=True, help_text="记录时的姓名和用户名；空为系统"
    )
    action = models.CharField("操作", max_length=30, choices=AuditAction.choices)
    target_type = models.CharField("对象类型", max_length=50, blank=True)
    target_id = models.PositiveBigIntegerField("对象编号", null=True, blank=True)
    target_label = models.CharField("对象", max_length=300, blank=True)
    changes = models.JSONField(
        "修改内容", default=dict, blank=True, help_text="字段 → [原值, 新值]；从不记录密码和密钥"
    )
    note = models.CharField("说明", max_length=500, blank=True)
    address = models.CharField("来源地址", max_length=100, blank=True)
    request_id = models.CharField("请求编号", max_length=64, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="auditentry_target"),
            models.Index(fields=["actor", "at"], name="auditentry_actor_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.target_label}".strip()

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditAppendOnlyError("修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditAppendOnlyError("删除")
