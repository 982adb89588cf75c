"""INTERIM, to be deleted when the rollups engine (reports/rollups.py, issue 4) is on main.

A small stand-in with the same names and shapes as reports.rollups — rollup(), RollupFilters,
Figures, Row, Rollup, Grouping, Light, unit_tree(), trend(), unit_in_reach() — for the
groupings the dashboard uses (total, inspection, unit). It computes figures as they stand now
(`as_of` is accepted and ignored) and its lights use the same settings with the same defaults.
reports/web/rollups_source.py picks the real engine whenever it exists.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from reports.parsing.phrasing import format_rate, official_sentence
from tracker import access
from tracker.models import CLOSED_STATUSES, Inspection, Role, Task, TaskEvent, TaskStatus, Unit
from tracker.workdays import add_workdays, is_workday

S = TaskStatus


class Grouping:
    TOTAL = "total"
    INSPECTION = "inspection"
    UNIT = "unit"


class Light:
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"
    labels = {RED: "红灯", YELLOW: "黄灯", GREEN: "绿灯"}


COUNT_FIELDS = ("total", "completed", "basically_completed", "long_term", "not_started",
                "in_progress", "submitted", "overdue", "overdue_red", "due_soon")


@dataclass(frozen=True)
class RollupFilters:
    inspection_id: int | None = None
    unit: Unit | None = None
    as_of: dt.date | None = None


@dataclass
class Figures:
    total: int = 0
    completed: int = 0
    basically_completed: int = 0
    long_term: int = 0
    not_started: int = 0
    in_progress: int = 0
    submitted: int = 0
    overdue: int = 0
    overdue_red: int = 0
    due_soon: int = 0

    def add(self, other: "Figures") -> None:
        for name in COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def not_completed(self) -> int:
        return self.not_started + self.in_progress + self.submitted

    @property
    def completion_rate(self) -> str:
        return format_rate(self.completed, self.total)

    @property
    def broad_rate(self) -> str:
        return format_rate(self.completed + self.basically_completed, self.total)

    @property
    def light(self) -> str:
        if self.overdue_red:
            return Light.RED
        if self.overdue or self.due_soon:
            return Light.YELLOW
        return Light.GREEN

    def sentence(self, *, subject: str = "") -> str:
        return official_sentence(
            total=self.total, completed=self.completed,
            basically_completed=self.basically_completed, long_term=self.long_term,
            not_completed=self.not_completed, subject=subject, broad=True,
        )


@dataclass
class Row:
    key: object
    label: str
    figures: Figures
    extra: dict = field(default_factory=dict)
    children: list["Row"] = field(default_factory=list)


@dataclass
class Rollup:
    group_by: str
    filters: RollupFilters
    today: dt.date
    rows: list[Row]
    total: Figures


def _red_cutoff(today: dt.date) -> dt.date:
    n = getattr(settings, "ROLLUP_LIGHT_RED_OVERDUE_WORKDAYS", 5)
    day, counted = today, 0
    while True:
        if is_workday(day):
            counted += 1
            if counted == n + 1:
                return day - dt.timedelta(days=1)
        day -= dt.timedelta(days=1)


def _aggregates(today: dt.date) -> dict:
    soon = add_workdays(today, getattr(settings, "ROLLUP_LIGHT_YELLOW_DUE_WITHIN_WORKDAYS", 3))
    open_ = ~Q(status__in=CLOSED_STATUSES)
    return {
        "total": Count("id"),
        **{name: Count("id", filter=Q(status=name)) for name in (
            S.COMPLETED, S.BASICALLY_COMPLETED, S.LONG_TERM, S.NOT_STARTED, S.IN_PROGRESS,
            S.SUBMITTED)},
        "overdue": Count("id", filter=Q(deadline__lt=today) & open_),
        "overdue_red": Count("id", filter=Q(deadline__lte=_red_cutoff(today)) & open_),
        "due_soon": Count("id", filter=Q(deadline__gte=today, deadline__lte=soon) & open_),
    }


def _figures(values: dict) -> Figures:
    return Figures(**{name: values[name] or 0 for name in COUNT_FIELDS})


def _scoped(user, filters: RollupFilters):
    qs = Task.objects.filter(access.visible_tasks_q(user))
    if filters.inspection_id is not None:
        qs = qs.filter(inspection_id=filters.inspection_id)
    if filters.unit is not None:
        qs = qs.filter(lead_unit__path__startswith=filters.unit.path)
    return qs


def rollup(*, user, group_by: str = Grouping.TOTAL, filters: RollupFilters) -> Rollup:
    today = timezone.localdate()
    qs = _scoped(user, filters)
    aggregates = _aggregates(today)
    if group_by == Grouping.TOTAL:
        total = _figures(qs.aggregate(**aggregates))
        return Rollup(group_by, filters, today, [Row(None, "合计", total)], total)
    if group_by == Grouping.INSPECTION:
        grouped = list(qs.values("inspection_id").annotate(**aggregates).order_by())
        titles = dict(Inspection.objects.filter(
            pk__in=[g["inspection_id"] for g in grouped]).values_list("id", "title"))
        rows = [Row(g["inspection_id"], titles[g["inspection_id"]], _figures(g))
                for g in grouped]
        rows.sort(key=lambda r: r.key, reverse=True)
    else:
        rows = _unit_rows(qs, aggregates, user=user, filters=filters)
    total = Figures()
    keys = {r.key for r in rows}
    for row in rows:
        if group_by != Grouping.UNIT or row.extra["parent_id"] not in keys:
            total.add(row.figures)
    return Rollup(group_by, filters, today, rows, total)


def _unit_rows(qs, aggregates, *, user, filters: RollupFilters) -> list[Row]:
    per_unit = list(qs.values("lead_unit_id").annotate(**aggregates).order_by())
    units = list(Unit.objects.order_by("path").values("id", "name", "parent_id", "path",
                                                      "depth"))
    by_id = {u["id"]: u for u in units}
    scope = filters.unit or (None if access.sees_everything(user) else access.scope_unit(user))
    if scope is None:
        listed = {u["id"] for u in units}
    elif filters.unit is not None or user.role == Role.SUPERVISOR or user.covers_subunits:
        listed = {u["id"] for u in units if u["path"].startswith(scope.path)}
    else:
        listed = {scope.pk}
    sums: dict[int, Figures] = {}
    for g in per_unit:
        ids = [int(p) for p in by_id[g["lead_unit_id"]]["path"].strip("/").split("/")]
        if listed.isdisjoint(ids):
            listed.add(ids[-1])
        for unit_id in ids:
            if unit_id in listed:
                sums.setdefault(unit_id, Figures()).add(_figures(g))
    return [Row(u["id"], u["name"], sums.get(u["id"], Figures()),
                {"parent_id": u["parent_id"], "path": u["path"], "depth": u["depth"]})
            for u in units if u["id"] in listed]


def unit_tree(rows) -> list[Row]:
    rows = list(rows)
    by_id = {row.key: row for row in rows}
    tops = []
    for row in rows:
        row.children = []
    for row in rows:
        parent = by_id.get(row.extra["parent_id"])
        (parent.children if parent is not None else tops).append(row)
    return tops


def trend(*, user, filters: RollupFilters, period: str = "month") -> list[dict]:
    """Per month: tasks created and closed, and the running completion rate."""
    tasks = _scoped(user, filters)
    per_month = (
        TaskEvent.objects.filter(task__in=tasks.values("pk"))
        .annotate(period=TruncMonth("at")).values("period")
        .annotate(
            created=Count("id", filter=Q(action="create")),
            closed=Count("id", filter=Q(to_status=S.COMPLETED) & ~Q(from_status=S.COMPLETED)),
            reopened=Count("id", filter=Q(from_status=S.COMPLETED)
                           & ~Q(to_status=S.COMPLETED)),
        ).order_by("period")
    )
    series, total, completed = [], 0, 0
    for g in per_month:
        month = g["period"]
        total += g["created"]
        completed += g["closed"] - g["reopened"]
        series.append({
            "period_start": month.date().isoformat(), "label": f"{month.year}年{month.month}月",
            "created": g["created"], "closed": g["closed"], "reopened": g["reopened"],
            "total_to_date": total, "completed_to_date": completed,
            "completion_rate_to_date": float(format_rate(completed, total)),
        })
    return series


def unit_in_reach(user, unit: Unit) -> bool:
    if access.sees_everything(user):
        return True
    scope = access.scope_unit(user)
    if scope is None or not user.is_active:
        return False
    if user.role == Role.SUPERVISOR or user.covers_subunits:
        return unit.is_within(scope)
    return unit.pk == scope.pk
