from django.db import models


class UnitKind(models.TextChoices):
    PARTY_COMMITTEE = "party_committee", "党委"
    DISCIPLINE = "discipline", "纪委监委"
    CITY_DEPARTMENT = "city_department", "市直单位"
    COUNTY = "county", "县（市）区"
    TOWNSHIP = "township", "乡镇（街道）"
    VILLAGE = "village", "村（社区）"
    OTHER = "other", "其他"


def subtree_q(unit: "Unit", *, via: str = "") -> models.Q:
    """The unit and every unit below it, one indexed prefix match on the materialised path;
    `via` reaches the unit through a relation (e.g. "lead_unit__"). The one spelling of
    "within this subtree" for filters, rollups and the rule book."""
    return models.Q(**{f"{via}path__startswith": unit.path})


class UnitQuerySet(models.QuerySet):
    def subtree_of(self, unit: "Unit") -> "UnitQuerySet":
        return self.filter(subtree_q(unit))


class Unit(models.Model):
    """A responsible unit (责任单位) in the tree 市委 → 市直单位 / 县区 → 乡镇 → 村.

    `path` is a materialised path of ids ("/1/7/23/"), maintained by the unit services, so a
    unit's descendants are a single `LIKE '/1/7/%'` on an index instead of a recursive walk.
    """

    name = models.CharField("单位名称", max_length=100)
    short_name = models.CharField("简称", max_length=50, blank=True)
    kind = models.CharField("单位类型", max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField("层级路径", max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField("层级", default=0, editable=False)
    sort_order = models.PositiveIntegerField("排序", default=0)
    wecom_webhook_url = models.URLField("企业微信群机器人地址", blank=True)
    dingtalk_webhook_url = models.URLField("钉钉群机器人地址", blank=True)
    dingtalk_secret = models.CharField("钉钉加签密钥", max_length=100, blank=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = "责任单位"
        verbose_name_plural = "责任单位"
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="unit_name_unique_under_parent"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(parent__isnull=True),
                name="unit_root_name_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(path__startswith="/") & models.Q(path__endswith="/"),
                name="unit_path_is_slash_delimited",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_within(self, other: "Unit") -> bool:
        """True when this unit is `other` or below it."""
        return self.path.startswith(other.path)
