"""The trend (整改进展趋势): tasks created, closed (销号) and reopened per week or month, and
the running figures at the end of each period.

Served from maintained counts (tracker.models.EventTally, kept by the database in the same
transaction as each history row), not by scanning the history:

    1  the counts of every period up to the last, for the lead units the user sees
       (tracker.access.visible_by_lead_unit_q) and the filters' inspection, unit and kind
    +1 the history of the last period after the figures' day, which the counts hold but the
       trend does not (an indexed range of the history: empty for today's figures, at most
       a week or a month of rows for a past day)
    +1 the history of the tasks the user sees only through a supporting unit
       (tracker.access.visible_through_support_only_q; none for an administrator)
    +1 the inspection's feedback date, when the trend is of one inspection

A deadline range is not part of the counts' key: with one, the trend scans the history of
the tasks in range, as it always did. Both ways give the same series (tests/tracker/
test_trend_tallies.py compares them on random histories).
"""

import datetime as dt
from dataclasses import replace

from django.conf import settings
from django.db.models import Count, DateField, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncWeek

from tracker import access
from tracker.figures.rollups import RollupFilters, end_of_day, local_today, scoped_tasks
from tracker.figures.wording import format_rate
from tracker.models import (
    EventTally,
    Inspection,
    Task,
    TaskAction,
    TaskEvent,
    TaskStatus,
    Unit,
    User,
)

S = TaskStatus
COUNTERS = ("created", "closed", "reopened")


class Period:
    WEEK = "week"
    MONTH = "month"
    values = [WEEK, MONTH]


def _period_start(day: dt.date, period: str) -> dt.date:
    if period == Period.WEEK:
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_period(start: dt.date, period: str) -> dt.date:
    if period == Period.WEEK:
        return start + dt.timedelta(days=7)
    return (start + dt.timedelta(days=32)).replace(day=1)


def _period_label(start: dt.date, period: str) -> str:
    if period == Period.WEEK:
        year, week, _ = start.isocalendar()
        return f"{year}年第{week}周"
    return f"{start.year}年{start.month}月"


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


# --- What a history row counts (the one place; the triggers in migration 0017 restate it in
# SQL, and tally_check() holds them to it) ---------------------------------------------------

CREATED_Q = Q(action=TaskAction.CREATE)
CLOSED_Q = Q(to_status=S.COMPLETED) & ~Q(from_status=S.COMPLETED)
REOPENED_Q = Q(from_status=S.COMPLETED) & ~Q(to_status=S.COMPLETED)
COUNTING_Q = CREATED_Q | CLOSED_Q | REOPENED_Q


def _event_counts() -> dict:
    return {
        "created": Count("id", filter=CREATED_Q),
        "closed": Count("id", filter=CLOSED_Q),
        "reopened": Count("id", filter=REOPENED_Q),
    }


def _trunc(period: str):
    return (TruncWeek if period == Period.WEEK else TruncMonth)("at", output_field=DateField())


def _scan(events: QuerySet[TaskEvent], period: str) -> dict[dt.date, dict]:
    """Counts per period start of these history rows (one grouped query)."""
    grouped = (
        events.annotate(period=_trunc(period))
        .values("period")
        .annotate(**_event_counts())
        .order_by("period")
    )
    return {_as_date(g["period"]): {k: g[k] for k in COUNTERS} for g in grouped}


def _merge(into: dict[dt.date, dict], more: dict[dt.date, dict], *, sign: int = 1) -> None:
    for start, counts in more.items():
        row = into.setdefault(start, dict.fromkeys(COUNTERS, 0))
        for k in COUNTERS:
            row[k] += sign * counts[k]


def _narrowed(qs: QuerySet, filters: RollupFilters, *, prefix: str = "") -> QuerySet:
    """The filters the counts' key serves: inspection, unit subtree (lead unit), kind."""
    if filters.inspection_id is not None:
        qs = qs.filter(**{f"{prefix}inspection_id": filters.inspection_id})
    if filters.unit is not None:
        qs = qs.filter(
            **{f"{prefix}lead_unit_id__in": Unit.objects.subtree_of(filters.unit).values("id")}
        )
    if filters.kind:
        qs = qs.filter(**{f"{prefix}inspection__kind": filters.kind})
    return qs


def _from_tallies(
    *, user: User, filters: RollupFilters, period: str, end: dt.date
) -> dict[dt.date, dict]:
    cutoff = end_of_day(end)
    last = _period_start(end, period)
    tallies = EventTally.objects.filter(
        access.visible_by_lead_unit_q(user), period=period, start__lte=last
    )
    tallies = _narrowed(tallies, filters)
    counts = {
        _as_date(g["start"]): {k: g[k] or 0 for k in COUNTERS}
        for g in tallies.values("start")
        .annotate(**{k: Sum(k) for k in COUNTERS})
        .order_by("start")
    }
    # The last period is counted whole: take back its rows after the figures' day (none at
    # all when the figures are today's, so this reads an empty range of the `at` index).
    led = _narrowed(Task.objects.filter(access.visible_by_lead_unit_q(user)), filters)
    later = TaskEvent.objects.filter(
        COUNTING_Q, task__in=led.values("pk"), at__gte=cutoff,
        at__lt=end_of_day(_next_period(last, period) - dt.timedelta(days=1)),
    )
    _merge(counts, _scan(later, period), sign=-1)
    if not access.sees_everything(user):
        supported = _narrowed(
            Task.objects.filter(access.visible_through_support_only_q(user)), filters
        )
        _merge(counts, _scan(
            TaskEvent.objects.filter(COUNTING_Q, task__in=supported.values("pk"), at__lt=cutoff),
            period,
        ))
    return counts


def _from_history(
    *, user: User, filters: RollupFilters, period: str, end: dt.date
) -> dict[dt.date, dict]:
    """The scan of every history row of the tasks in scope (the way for a deadline range,
    and the reference the counts are held to)."""
    tasks, _ = scoped_tasks(user=user, filters=replace(filters, as_of=None))
    return _scan(
        TaskEvent.objects.filter(task__in=tasks.values("pk"), at__lt=end_of_day(end)), period
    )


def trend(
    *, user: User, filters: RollupFilters, period: str = Period.MONTH, scan: bool = False
) -> list[dict]:
    """Completions per week or month over the ledger's life, up to the figures' day (as_of,
    else today). Each period: tasks created, tasks closed (销号), tasks reopened after
    closing, and the running figures at its end (tasks, completed, completion rate).

    `scan=True` reads the history instead of the maintained counts (the same answer)."""
    end = filters.as_of or local_today()
    by_deadline = filters.deadline_from is not None or filters.deadline_to is not None
    # The counts are keyed by neither a deadline nor 重点任务: those filters read the history.
    source = _from_history if scan or by_deadline or filters.key_only else _from_tallies
    counts = {
        start: c
        for start, c in source(user=user, filters=filters, period=period, end=end).items()
        if any(c.values())
    }
    return _series(counts, filters=filters, period=period, end=end)


def _series(counts: dict[dt.date, dict], *, filters, period: str, end: dt.date) -> list[dict]:
    starts = list(counts)
    if filters.inspection_id is not None:
        feedback = (
            Inspection.objects.filter(pk=filters.inspection_id)
            .values_list("feedback_date", flat=True)
            .first()
        )
        if feedback is not None:
            starts.append(_period_start(feedback, period))
    if not starts:
        return []
    current = min(starts)
    last = _period_start(end, period)
    series, total, completed = [], 0, 0
    while current <= last:
        g = counts.get(current, dict.fromkeys(COUNTERS, 0))
        total += g["created"]
        completed += g["closed"] - g["reopened"]
        series.append(
            {
                "period_start": current.isoformat(),
                "label": _period_label(current, period),
                "created": g["created"],
                "closed": g["closed"],
                "reopened": g["reopened"],
                "total_to_date": total,
                "completed_to_date": completed,
                "completion_rate_to_date": float(format_rate(completed, total)),
            }
        )
        current = _next_period(current, period)
    return series[-settings.ROLLUP_TREND_MAX_PERIODS :]


# --- The counts' check ----------------------------------------------------------------------


def tally_recount() -> dict[tuple, dict]:
    """The counts recounted from the whole history, keyed like EventTally:
    (lead unit id, inspection id, period, start) -> {created, closed, reopened}."""
    recount: dict[tuple, dict] = {}
    for period in Period.values:
        grouped = (
            TaskEvent.objects.filter(COUNTING_Q)
            .annotate(period=_trunc(period))
            .values("task__lead_unit_id", "task__inspection_id", "period")
            .annotate(**_event_counts())
            .order_by()
        )
        for g in grouped:
            key = (g["task__lead_unit_id"], g["task__inspection_id"], period,
                   _as_date(g["period"]))
            recount[key] = {k: g[k] for k in COUNTERS}
    return recount


def tally_check() -> list[tuple]:
    """The differences between EventTally and a recount from the history, as
    (key, kept, recounted); empty when the counts are exact."""
    kept = {
        (t["lead_unit_id"], t["inspection_id"], t["period"], t["start"]):
        {k: t[k] for k in COUNTERS}
        for t in EventTally.objects.values(
            "lead_unit_id", "inspection_id", "period", "start", *COUNTERS
        )
    }
    recount = tally_recount()
    return sorted(
        ((key, kept.get(key), recount.get(key)) for key in kept.keys() | recount.keys()
         if kept.get(key) != recount.get(key)),
        key=lambda d: tuple(str(part) for part in d[0]),
    )
