from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    OFFICER = "officer", "责任单位联络员"
    SUPERVISOR = "supervisor", "督导人员（整改办、纪委监委）"
    ADMIN = "admin", "系统管理员"


class User(AbstractUser):
    """A person: belongs to one unit and has one role there."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    unit = models.ForeignKey(
        "tracker.Unit",
        verbose_name="所在单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    role = models.CharField("角色", max_length=20, choices=Role.choices, default=Role.OFFICER)
    covers_subunits = models.BooleanField(
        "可查看下级单位任务",
        default=False,
        help_text="联络员勾选后可查看本单位及下级单位的任务；督导人员始终覆盖本单位及下级单位。",
    )
    supervision_root = models.ForeignKey(
        "tracker.Unit",
        verbose_name="督导范围",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="督导人员可查看该单位及其下级单位的任务；留空则为所在单位。",
    )
    phone = models.CharField("手机号", max_length=20, blank=True)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role="admin") | models.Q(unit__isnull=False),
                name="user_non_admin_has_unit",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR
