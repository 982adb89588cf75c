"""Holiday overrides (节假日安排): the only writes to HolidayOverride.

Every change bumps WorkdayCalendarGeneration in the same transaction and clears this process's
working-day calendar at once; other processes notice the new generation on their next check
(tracker.workdays). The counter lives in the database, not in the Django cache: the project
configures no shared cache (each process would have its own local-memory cache), and the
database is the one store every web, Celery and command process already shares.
"""

import datetime as dt

from django.db import transaction
from django.db.models import F

from tracker import access, workdays
from tracker.errors import ActionForbidden, InvalidInput
from tracker.models import HolidayKind, HolidayOverride, User, WorkdayCalendarGeneration

MAX_PERIOD_DAYS = 366


@transaction.atomic
def holiday_set(
    *, date: dt.date, kind: HolidayKind, name: str = "", actor: User | None = None
) -> HolidayOverride:
    """Mark one day as a holiday or an adjusted workday. `actor` None: the system (commands)."""
    return holiday_set_period(start=date, end=date, kind=kind, name=name, actor=actor)[0]


@transaction.atomic
def holiday_set_period(
    *, start: dt.date, end: dt.date, kind: HolidayKind, name: str = "",
    actor: User | None = None,
) -> list[HolidayOverride]:
    """Mark every day from `start` to `end` (inclusive) the same way, e.g. 春节 10-02..10-08."""
    _ensure_may_edit(actor)
    if kind not in HolidayKind.values:
        raise InvalidInput("类型无效", fields={"kind": "请选择法定节假日或调休上班"})
    if end < start:
        raise InvalidInput("结束日期早于开始日期", fields={"end": "结束日期不能早于开始日期"})
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise InvalidInput("一次最多录入一年", fields={"end": "时间段不能超过366天"})
    rows = []
    day = start
    while day <= end:
        row, _ = HolidayOverride.objects.update_or_create(
            date=day, defaults={"kind": kind, "name": name.strip()}
        )
        rows.append(row)
        day += dt.timedelta(days=1)
    _bump_generation()
    return rows


@transaction.atomic
def holiday_remove(*, start: dt.date, end: dt.date | None = None, actor: User | None = None) -> int:
    """Remove the overrides from `start` to `end` (one day when `end` is None): the package or
    Monday to Friday applies again. Returns how many were removed."""
    _ensure_may_edit(actor)
    deleted, _ = HolidayOverride.objects.filter(date__range=(start, end or start)).delete()
    if deleted:
        _bump_generation()
    return deleted


def _bump_generation() -> None:
    updated = WorkdayCalendarGeneration.objects.filter(pk=1).update(
        generation=F("generation") + 1
    )
    if not updated:
        WorkdayCalendarGeneration.objects.create(pk=1, generation=1)
    # This process at once; a rollback only costs a rebuild from the unchanged database.
    workdays.invalidate()
    transaction.on_commit(workdays.invalidate)


def _ensure_may_edit(actor: User | None) -> None:
    if actor is not None and not access.sees_everything(actor):
        raise ActionForbidden("只有系统管理员可以维护节假日安排")
