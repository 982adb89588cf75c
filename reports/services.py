"""Writes of the reports app: saving a frozen rollup snapshot."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from reports.models import RollupSnapshot
from reports.rollups import Grouping, RollupFilters, rollup, rollup_as_dict
from tracker import access
from tracker.errors import ActionForbidden, InvalidInput
from tracker.models import Role, User


@transaction.atomic
def snapshot_create(
    *,
    actor: User,
    name: str,
    group_by: str,
    filters: RollupFilters,
    now: dt.datetime | None = None,
) -> RollupSnapshot:
    """Freeze the actor's rollup under a name. Without as_of it is the figures of today."""
    now = now or timezone.now()
    if not (access.sees_everything(actor) or actor.role == Role.SUPERVISOR):
        raise ActionForbidden("只有督导人员可以保存统计快照")
    name = (name or "").strip()
    if not name:
        raise InvalidInput("请填写快照名称", fields={"name": "不能为空"})
    if group_by not in Grouping.values:
        raise InvalidInput("分组方式无效", fields={"group_by": "无效"})
    if RollupSnapshot.objects.filter(name=name).exists():
        raise InvalidInput(f"已有名为“{name}”的快照", fields={"name": "名称已被使用"})
    as_of = filters.as_of or timezone.localdate(now)
    result = rollup(user=actor, group_by=group_by, filters=filters)
    data = rollup_as_dict(result)
    try:
        with transaction.atomic():
            return RollupSnapshot.objects.create(
                name=name,
                group_by=group_by,
                as_of=as_of,
                params=data["filters"],
                rows=data["rows"],
                total=data["total"],
                scope_unit=None if access.sees_everything(actor) else access.scope_unit(actor),
                created_by=actor,
                created_at=now,
            )
    except IntegrityError as exc:  # the same name saved concurrently
        raise InvalidInput(f"已有名为“{name}”的快照", fields={"name": "名称已被使用"}) from exc
