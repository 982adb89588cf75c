"""Completion-rate rollups (整改完成率统计): the figures supervisors report upward.

Today's figures are read from the maintained counts (TaskMonthTally: one row per lead unit,
inspection and deadline month; TaskTally, by aspect too, for the rollup by aspect; kept exact
by database triggers, migrations 0013, 0031, 0032), so a rollup costs about one pass over
the tallies, not over the ledger, whatever the role. Overdue and due soon depend on today:
the lit tasks of earlier months come from the tallies, those due from the first of this month
to the end of the yellow window are counted from the tasks (index task_lit_deadline). Tasks
seen only through a supporting unit (tracker.access.visible_through_support_only_q) are not
keyed by a unit the user reaches and are scanned as before. A request costs a fixed number
of queries whatever the ledger's size and the number of groups:

    1  the tallies of the tasks seen through their lead unit
    +1 this month's lit tasks among them (overdue this month, due soon)
    +1 the tasks seen only through a supporting unit (none for an administrator: no query)
    +1 the labels of the groups (inspections or units), when the grouping needs them

As of a past day, or with deadline bounds not on whole months, the figures are one SQL
aggregate over the tasks the user may see (tracker.access), grouped with values() and counted
with Count(filter=Q(...)) — the scan, also the reference the tallies are tested against
(`rollup(..., source=Source.SCAN)`): 1 query, +1 for the labels. Rates are computed afterwards
with a guard for zero.

Unit rollups count a task under its lead unit (牵头单位) and include every unit below: the
aggregate is grouped by lead unit, then each unit's figures are summed over its subtree in
Python along the materialised paths (hundreds of units, a few microseconds each).

As of a past day (as_of), the status, deadline and closing time of each task are read back
from the history (TaskEvent) as they stood at the end of that day, Asia/Shanghai time.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Count,
    DateField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from tracker import access, deadlines
from tracker.figures import as_of
from tracker.figures.wording import format_rate, official_sentence
from tracker.models import (
    NO_DEADLINE_MONTH,
    Inspection,
    InspectionKind,
    RecheckState,
    Task,
    TaskMonthTally,
    TaskRecheck,
    TaskStatus,
    TaskTally,
    Unit,
    User,
)

S = TaskStatus


class Grouping:
    TOTAL = "total"
    INSPECTION = "inspection"
    KIND = "kind"
    UNIT = "unit"
    ASPECT = "aspect"
    MONTH = "month"

    choices = [
        (TOTAL, "合计"),
        (INSPECTION, "按巡视巡察"),
        (KIND, "按巡视巡察类别"),
        (UNIT, "按责任单位（含下级）"),
        (ASPECT, "按方面"),
        (MONTH, "按完成时限月份"),
    ]
    values = [value for value, _ in choices]


NO_ASPECT_LABEL = "（未分方面）"
NO_DEADLINE_LABEL = "无完成时限"

COUNT_FIELDS = (
    "total",
    "completed",
    "basically_completed",
    "long_term",
    "not_started",
    "in_progress",
    "submitted",
    "overdue",
    "due_soon",
    "closed_on_time",
)
# 回头看 (docs/rechecks.md): today's re-checks of the counted tasks, by state: due = fallen due
# and not decided (待单位报告, 待督导确认), done = 已确认, failed = 未通过. Read from the tallies
# with the rest (migration 0031_recheck_tallies), or counted over the re-checks of the scanned
# tasks (`_add_rechecks`, one grouped query). Not kept as of a past day (0 there).
RECHECK_STATES = {
    "recheck_due": (RecheckState.DUE, RecheckState.REPORTED),
    "recheck_done": (RecheckState.CONFIRMED,),
    "recheck_failed": (RecheckState.FAILED,),
}
RECHECK_FIELDS = tuple(RECHECK_STATES)
ALL_FIELDS = (*COUNT_FIELDS, *RECHECK_FIELDS)


def recheck_aggregates() -> dict:
    """Each re-check bucket as a count over TaskRecheck rows."""
    return {
        name: Count("id", filter=Q(state__in=[s.value for s in states]))
        for name, states in RECHECK_STATES.items()
    }


def _recheck_sums_over_tasks() -> dict:
    """The same buckets summed over Task rows (each task's re-checks counted by a subquery,
    so that the tasks' own counts are not multiplied by a join)."""
    return {
        name: Sum(Subquery(
            TaskRecheck.objects.filter(task=OuterRef("pk"), state__in=[s.value for s in states])
            .values("task").annotate(n=Count("id")).values("n")
        ))
        for name, states in RECHECK_STATES.items()
    }


@dataclass(frozen=True)
class RollupFilters:
    inspection_id: int | None = None
    unit: Unit | None = None  # the unit and every unit below it (lead unit)
    kind: str | None = None
    deadline_from: dt.date | None = None
    deadline_to: dt.date | None = None
    as_of: dt.date | None = None  # None: now
    # 重点任务 only (docs/priority.md): as the tasks are marked now, also for a past day. The
    # maintained counts have no such key: these figures are scanned.
    key_only: bool = False


@dataclass
class Figures:
    """The counts of one slice of the ledger; every rate derives from them."""

    total: int = 0
    completed: int = 0
    basically_completed: int = 0
    long_term: int = 0
    not_started: int = 0
    in_progress: int = 0
    submitted: int = 0
    # Red and yellow tasks (tracker.deadlines): overdue, and due within the yellow window.
    overdue: int = 0
    due_soon: int = 0
    closed_on_time: int = 0  # completed (销号) on or before the deadline in force
    recheck_due: int = 0
    recheck_done: int = 0
    recheck_failed: int = 0

    def add(self, other: "Figures") -> None:
        mine, theirs = self.__dict__, other.__dict__
        for name in ALL_FIELDS:
            mine[name] += theirs[name]

    def counts(self) -> list[int]:
        """Every count, in ALL_FIELDS order."""
        mine = self.__dict__
        return [mine[name] for name in ALL_FIELDS]

    @property
    def not_completed(self) -> int:
        return self.not_started + self.in_progress + self.submitted

    def report_buckets(self) -> dict[str, int]:
        """The total and the four outcomes exactly as the reports state them (DOMAIN.md)."""
        return {
            "total": self.total,
            "completed": self.completed,
            "basically_completed": self.basically_completed,
            "long_term": self.long_term,
            "not_completed": self.not_completed,
        }

    @property
    def completion_rate(self) -> str:
        return format_rate(self.completed, self.total)

    @property
    def broad_rate(self) -> str:
        return format_rate(self.completed + self.basically_completed, self.total)

    @property
    def on_time_rate(self) -> str | None:
        """Closed on time / closed; None when nothing is closed yet (no rate to state)."""
        return format_rate(self.closed_on_time, self.completed) if self.completed else None

    @property
    def light(self) -> str:
        """红黄绿灯: the worst light among the tasks counted (tracker.deadlines)."""
        return deadlines.light_from_counts(overdue=self.overdue, due_soon=self.due_soon)

    @property
    def light_label(self) -> str:
        return deadlines.LIGHT_LABELS[self.light]

    def sentence(self, *, subject: str = "") -> str:
        return official_sentence(
            total=self.total,
            completed=self.completed,
            basically_completed=self.basically_completed,
            long_term=self.long_term,
            not_completed=self.not_completed,
            subject=subject,
            broad=True,
        )


@dataclass
class Row:
    key: object  # the group's id or code; None for the grand total
    label: str
    figures: Figures
    extra: dict = field(default_factory=dict)  # unit rows: parent_id, path, depth
    children: list["Row"] = field(default_factory=list)
    # A name short enough for a chart's axis (an inspection's team, where it has one), read
    # with the labels; not part of the figures' data (row_as_dict).
    short_label: str = ""


@dataclass
class Rollup:
    group_by: str
    filters: RollupFilters
    today: dt.date  # the day the figures stand at (as_of, or today)
    rows: list[Row]
    total: Figures


# --- The moment --------------------------------------------------------------------------


def local_today() -> dt.date:
    return timezone.localdate()


def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after `day` in the project's time zone (Asia/Shanghai)."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)


# --- The task set ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fields:
    """Where the aggregate reads status, deadline and closing time (now, or as of a day)."""

    status: str = "status"
    deadline: str = "deadline"
    closed_at: str = "closed_at"
    on_time: str | None = None  # a boolean alias, where F() on aliases cannot be aggregated


NOW_FIELDS = _Fields()
AS_OF_FIELDS = _Fields(
    status=as_of.STATUS, deadline=as_of.DEADLINE, closed_at=as_of.CLOSED_AT,
    on_time=as_of.ON_TIME,
)


def _as_of_aliases(qs: QuerySet[Task], cutoff: dt.datetime, *, user: User) -> QuerySet[Task]:
    """Alias each task's status, deadline and closing time as they stood before `cutoff`
    (one pass over the history, tracker.figures.as_of; a top supervisor sees the whole ledger,
    so the pass need not be narrowed to their tasks first)."""
    return as_of.with_state_as_of(qs, cutoff, narrow=not access.is_top_supervisor(user))


def scoped_tasks(*, user: User, filters: RollupFilters) -> tuple[QuerySet[Task], _Fields]:
    """The tasks the user may see, narrowed by the filters, and where to read their state."""
    qs = Task.objects.filter(access.visible_tasks_q(user))
    fields = NOW_FIELDS
    if filters.as_of is not None:
        qs = _as_of_aliases(qs, end_of_day(filters.as_of), user=user)
        fields = AS_OF_FIELDS
    if filters.inspection_id is not None:
        qs = qs.filter(inspection_id=filters.inspection_id)
    if filters.unit is not None:
        qs = qs.filter(
            lead_unit_id__in=Unit.objects.subtree_of(filters.unit).values("id")
        )
    if filters.kind:
        qs = qs.filter(inspection__kind=filters.kind)
    if filters.key_only:
        qs = qs.filter(is_key=True)
    if filters.deadline_from is not None:
        qs = qs.filter(**{f"{fields.deadline}__gte": filters.deadline_from})
    if filters.deadline_to is not None:
        qs = qs.filter(**{f"{fields.deadline}__lte": filters.deadline_to})
    return qs, fields


@dataclass(frozen=True)
class OverdueTask:
    """A task overdue on the figures' day, as it stood that day."""

    id: int
    title: str
    lead_unit: str
    status: str
    deadline: dt.date


def overdue_tasks(*, user: User, filters: RollupFilters) -> list[OverdueTask]:
    """The tasks the figures count as overdue (the same tasks, the same day: as_of or today),
    with their status and deadline as they stood then, earliest deadline first. One query."""
    today = filters.as_of or local_today()
    qs, f = scoped_tasks(user=user, filters=filters)
    rows = (
        qs.filter(deadlines.overdue_q(today, status=f.status, deadline=f.deadline))
        .annotate(then_status=F(f.status), then_deadline=F(f.deadline))
        .order_by("then_deadline", "id")
        .values_list("id", "title", "lead_unit__name", "then_status", "then_deadline")
    )
    return [OverdueTask(*row) for row in rows]


def _count_aggregates(f: _Fields) -> dict:
    """The counts that do not depend on the day: total, each status, closed on time (also the
    recount of the maintained tallies, tracker.figures.tallies)."""
    status, deadline = f.status, f.deadline
    if f.on_time:
        on_time = Q(**{f.on_time: True})
    else:
        on_time = Q(**{f"{deadline}__isnull": True}) | Q(
            **{f"{f.closed_at}__date__lte": F(deadline)}
        )
    return {
        "total": Count("id"),
        "completed": Count("id", filter=Q(**{status: S.COMPLETED})),
        "basically_completed": Count("id", filter=Q(**{status: S.BASICALLY_COMPLETED})),
        "long_term": Count("id", filter=Q(**{status: S.LONG_TERM})),
        "not_started": Count("id", filter=Q(**{status: S.NOT_STARTED})),
        "in_progress": Count("id", filter=Q(**{status: S.IN_PROGRESS})),
        "submitted": Count("id", filter=Q(**{status: S.SUBMITTED})),
        "closed_on_time": Count(
            "id",
            filter=Q(**{status: S.COMPLETED}) & on_time,
        ),
    }


def _light_aggregates(f: _Fields, today: dt.date) -> dict:
    """Overdue and due soon on `today` (tracker.deadlines)."""
    at = {"status": f.status, "deadline": f.deadline}
    return {
        "overdue": Count("id", filter=deadlines.overdue_q(today, **at)),
        "due_soon": Count("id", filter=deadlines.due_soon_q(today, **at)),
    }


def _aggregates(f: _Fields, today: dt.date) -> dict:
    return {**_count_aggregates(f), **_light_aggregates(f, today)}


def _figures(values: dict) -> Figures:
    return Figures(**{name: values.get(name) or 0 for name in ALL_FIELDS})


# --- The rollup --------------------------------------------------------------------------


class Source:
    AUTO = "auto"  # the maintained tallies when they can answer, else the scan
    SCAN = "scan"  # the reference: one aggregate over the visible tasks


def rollup(
    *,
    user: User,
    group_by: str = Grouping.TOTAL,
    filters: RollupFilters,
    source: str = Source.AUTO,
) -> Rollup:
    """The figures of the user's visible ledger, grouped; constant queries per call."""
    return rollups(user=user, groupings=[group_by], filters=filters, source=source)[group_by]


def rollups(
    *,
    user: User,
    groupings: Sequence[str],
    filters: RollupFilters,
    source: str = Source.AUTO,
) -> dict[str, Rollup]:
    """The same figures in several groupings at once (挂图作战 shows them by inspection and
    by unit), each equal to `rollup()` for that grouping.

    From the tallies, every part is read once, grouped by all the groupings' keys together
    (lead unit × inspection: some thousands of groups), and each grouping's sums are taken
    from those groups in the same statement (_sums_by_each_key), the re-checks with them.
    So the queries are those of one rollup, plus the labels of each grouping. The scan (as
    of a past day, 重点任务 only) is run per grouping, its re-checks counted once by one
    grouped query (_add_rechecks)."""
    groupings = list(dict.fromkeys(groupings))
    user = access.as_instance(user)
    if source == Source.AUTO and served_by_tallies(filters):
        return _tally_rollups(user=user, groupings=groupings, filters=filters)
    results = {
        group_by: _scan_rollup(user=user, group_by=group_by, filters=filters)
        for group_by in groupings
    }
    if filters.as_of is None:
        _add_rechecks(results, user=user, filters=filters)
    return results


# Each grouping's key over the re-checks (through their task).
_RECHECK_KEYS = {
    Grouping.INSPECTION: F("task__inspection_id"),
    Grouping.KIND: F("task__inspection__kind"),
    Grouping.UNIT: F("task__lead_unit__path"),
    Grouping.ASPECT: F("task__problem__aspect"),
    Grouping.MONTH: TruncMonth("task__deadline", output_field=DateField()),
}


def _add_rechecks(results: dict[str, "Rollup"], *, user: User, filters: RollupFilters) -> None:
    """Today's re-check counts of the counted tasks into the rows and the totals: one grouped
    query over the re-checks of the same scoped tasks (tracker.access through scoped_tasks),
    grouped by every grouping's key together."""
    tasks, _ = scoped_tasks(user=user, filters=filters)
    counts = recheck_aggregates()
    rechecks = TaskRecheck.objects.filter(task__in=tasks.values("pk"))
    keyed = [group_by for group_by in results if group_by != Grouping.TOTAL]
    if not keyed:
        groups = [((), rechecks.aggregate(**counts))]
    else:
        keys = {f"g{n}": _RECHECK_KEYS[group_by] for n, group_by in enumerate(keyed)}
        groups = [
            (tuple(g[name] for name in keys), g)
            for g in rechecks.annotate(**keys).values(*keys).annotate(**counts).order_by()
        ]
    groups = [(key, values) for key, values in groups if any(values[n] for n in RECHECK_FIELDS)]
    for group_by, result in results.items():
        if group_by == Grouping.TOTAL:
            projected = [(None, values) for _, values in groups]
        else:
            at = keyed.index(group_by)
            projected = [(key[at], values) for key, values in groups]
        _apply_rechecks(result, projected)


def _apply_rechecks(result: "Rollup", groups: list[tuple[object, dict]]) -> None:
    rows = result.rows
    if result.group_by == Grouping.MONTH:
        groups = [(_month_label_key(key), values) for key, values in groups]
    by_key: dict[object, list[Row]] = {}
    for row in rows:
        by_key.setdefault(row.key, []).append(row)
    for key, values in groups:
        for name in RECHECK_FIELDS:
            setattr(result.total, name, getattr(result.total, name) + values[name])
        if result.group_by == Grouping.TOTAL:
            continue
        for row in _rows_counting(result.group_by, key, by_key):
            for name in RECHECK_FIELDS:
                setattr(row.figures, name, getattr(row.figures, name) + values[name])
    if result.group_by == Grouping.TOTAL:
        for row in rows:
            if row.figures is not result.total:
                for name in RECHECK_FIELDS:
                    setattr(row.figures, name, getattr(result.total, name))


def _rows_counting(group_by: str, key, by_key: dict[object, list[Row]]) -> list[Row]:
    """The rows a re-check group with `key` counts in: a unit row for every unit on the
    path of the group's lead unit (the unit and the units above it: the path's ids, so a
    unit row's path is a prefix of the key), else the row of that key (for aspects, no
    aspect and an empty one are one row)."""
    if group_by == Grouping.UNIT:
        if key is None:
            return []
        return [row for unit_id in _path_ids(key) for row in by_key.get(unit_id, ())]
    hits = list(by_key.get(key, ()))
    if group_by == Grouping.ASPECT and not key:
        hits += [row for other in ("", None) if other != key
                 for row in by_key.get(other, ())]
    return hits


def _month_label_key(value) -> str | None:
    month = _month_key(value)
    if month is None:
        return None
    if isinstance(month, dt.datetime):
        month = month.date()
    return month.strftime("%Y-%m")


def served_by_tallies(filters: RollupFilters) -> bool:
    """Today's figures, with deadline bounds (if any) on whole months: the tallies are keyed
    by deadline month, and not by 重点任务."""
    if filters.as_of is not None or filters.key_only:
        return False
    if filters.deadline_from is not None and filters.deadline_from.day != 1:
        return False
    return filters.deadline_to is None or (filters.deadline_to + dt.timedelta(days=1)).day == 1


def _scan_rollup(*, user: User, group_by: str, filters: RollupFilters) -> Rollup:
    today = filters.as_of or local_today()
    qs, f = scoped_tasks(user=user, filters=filters)
    aggregates = _aggregates(f, today)

    if group_by == Grouping.TOTAL:
        total = _figures(qs.aggregate(**aggregates))
        return Rollup(group_by, filters, today, [Row(None, "合计", total)], total)

    if group_by == Grouping.UNIT:
        per_lead_unit = {
            g["lead_unit_id"]: _figures(g)
            for g in qs.values("lead_unit_id").annotate(**aggregates).order_by()
        }
        return _unit_rollup(per_lead_unit, user=user, filters=filters, today=today)

    key, order = {
        Grouping.INSPECTION: ("inspection_id", None),
        Grouping.KIND: ("inspection__kind", None),
        Grouping.ASPECT: ("problem__aspect", "problem__aspect"),
        Grouping.MONTH: ("month", "month"),
    }[group_by]
    if group_by == Grouping.MONTH:
        qs = qs.annotate(month=TruncMonth(f.deadline, output_field=DateField()))
    grouped = list(qs.values(key).annotate(**aggregates).order_by(*([order] if order else [])))
    rows = [Row(g[key], "", _figures(g)) for g in grouped]
    return _grouped_rollup(rows, group_by=group_by, filters=filters, today=today)


def _grouped_rollup(
    rows: list[Row], *, group_by: str, filters: RollupFilters, today: dt.date
) -> Rollup:
    _label(rows, group_by)
    total = Figures()
    for row in rows:
        total.add(row.figures)
    return Rollup(group_by, filters, today, rows, total)


def _unit_rollup(
    per_lead_unit: dict[int, Figures], *, user: User, filters: RollupFilters, today: dt.date
) -> Rollup:
    rows = _unit_rows(per_lead_unit, user=user, filters=filters)
    listed = {r.key for r in rows}
    total = Figures()
    for row in rows:
        if row.extra["parent_id"] not in listed:
            total.add(row.figures)  # the tops of the returned forest
    return Rollup(Grouping.UNIT, filters, today, rows, total)


# --- The rollup from the maintained tallies (TaskTally) ----------------------------------

TALLY_COUNTERS = (
    "total", "completed", "basically_completed", "long_term", "not_started", "in_progress",
    "submitted", "closed_on_time", *RECHECK_FIELDS,
)

# Each grouping's key: on the tallies, and on the tasks.
_TALLY_KEYS = {
    Grouping.INSPECTION: ("inspection_id", F("inspection_id")),
    Grouping.KIND: ("inspection__kind", F("inspection__kind")),
    Grouping.UNIT: ("lead_unit_id", F("lead_unit_id")),
    Grouping.ASPECT: ("aspect", F("problem__aspect")),
    Grouping.MONTH: ("deadline_month", TruncMonth("deadline", output_field=DateField())),
}


def _tally_model(groupings: Sequence[str]) -> type[TaskTally] | type[TaskMonthTally]:
    """The smaller table that holds the groupings' keys: TaskMonthTally (no aspect) unless
    one of them is by aspect."""
    return TaskTally if Grouping.ASPECT in groupings else TaskMonthTally


def _narrowed_tallies(
    user: User, filters: RollupFilters, model: type[TaskTally] | type[TaskMonthTally]
) -> QuerySet:
    """The tally rows of the tasks the user sees through their lead unit, narrowed by the
    filters (deadline bounds on whole months: served_by_tallies)."""
    qs = model.objects.filter(
        access.visible_by_lead_unit_q(user), total__gt=0
    )
    if filters.inspection_id is not None:
        qs = qs.filter(inspection_id=filters.inspection_id)
    if filters.unit is not None:
        qs = qs.filter(lead_unit_id__in=Unit.objects.subtree_of(filters.unit).values("id"))
    if filters.kind:
        qs = qs.filter(inspection__kind=filters.kind)
    if filters.deadline_from is not None or filters.deadline_to is not None:
        qs = qs.exclude(deadline_month=NO_DEADLINE_MONTH)
    if filters.deadline_from is not None:
        qs = qs.filter(deadline_month__gte=filters.deadline_from)
    if filters.deadline_to is not None:
        qs = qs.filter(deadline_month__lte=filters.deadline_to.replace(day=1))
    return qs


def _month_key(value) -> dt.date | None:
    if isinstance(value, str):  # a raw row on SQLite (rollups(): several groupings at once)
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    return None if value == NO_DEADLINE_MONTH else value


def _tally_rollups(
    *, user: User, groupings: list[str], filters: RollupFilters
) -> dict[str, Rollup]:
    """The same figures as the scan, from three parts (one query each):

    A  the tallies of the tasks seen through their lead unit (TaskMonthTally, or TaskTally
       when grouped by aspect): every count but the lights; overdue for deadlines before
       this month (the lit tasks of earlier months);
    B  the same tasks' lit tasks due from the first of this month to the end of the yellow
       window, read from tracker_task (index task_lit_deadline): overdue this month, due soon;
    C  the tasks seen only through a supporting unit (tracker.access), scanned as before
       (none for an administrator: no query), their re-checks counted per task.

    The re-check counts (回头看) come with the tallies in A, and with the tasks in C.

    Each part is grouped by the keys of all the groupings at once; each grouping's figures
    are then summed from those groups (rollups()).
    """
    today = local_today()
    month_start = today.replace(day=1)
    tallies = _narrowed_tallies(user, filters, _tally_model(groupings))
    tally_sums = {name: Sum(name) for name in TALLY_COUNTERS}
    tally_sums["overdue"] = Sum("lit", filter=Q(deadline_month__lt=month_start))

    tasks, f = scoped_tasks(user=user, filters=filters)
    this_month = tasks.filter(
        access.visible_by_lead_unit_q(user),
        deadlines.has_light_q(),
        # From the first of this month to the end of the yellow window.
        deadlines.deadline_window_q(month_start - dt.timedelta(days=1),
                                    deadlines.due_soon_until(today)),
    )
    support_only = tasks.filter(access.visible_through_support_only_q(user))
    aggregates = {**_aggregates(f, today), **_recheck_sums_over_tasks()}
    lights = _light_aggregates(f, today)

    keyed = [group_by for group_by in groupings if group_by != Grouping.TOTAL]
    if not keyed:
        total = _figures(tallies.aggregate(**tally_sums))
        total.add(_figures(this_month.aggregate(**lights)))
        total.add(_figures(support_only.aggregate(**aggregates)))
        return {Grouping.TOTAL: Rollup(Grouping.TOTAL, filters, today,
                                       [Row(None, "合计", total)], total)}

    on_tallies = {f"g{n}": F(_TALLY_KEYS[group_by][0]) for n, group_by in enumerate(keyed)}
    on_tasks = {f"g{n}": _TALLY_KEYS[group_by][1] for n, group_by in enumerate(keyed)}
    names = list(on_tallies)
    # Each grouping's counts by its key, in ALL_FIELDS order, summed over the three parts.
    per_grouping: list[dict[object, list[int]]] = [{} for _ in keyed]
    for qs, sums in (
        (tallies.values(**on_tallies), tally_sums),
        (this_month.annotate(**on_tasks).values(*names), lights),
        (support_only.annotate(**on_tasks).values(*names), aggregates),
    ):
        for at, sums_by_key in enumerate(_sums_by_each_key(qs.annotate(**sums), names)):
            normalise = _month_key if keyed[at] == Grouping.MONTH else None
            into = per_grouping[at]
            for key, counts in sums_by_key.items():
                if normalise is not None:
                    key = normalise(key)
                have = into.get(key)
                into[key] = counts if have is None else _plus(have, counts)

    results = {}
    for group_by, summed in zip(keyed, per_grouping, strict=True):
        by_key = {key: _figures_of(counts) for key, counts in summed.items()}
        if group_by == Grouping.UNIT:
            results[group_by] = _unit_rollup(by_key, user=user, filters=filters, today=today)
            continue
        rows = [Row(key, "", figures) for key, figures in by_key.items()]
        if group_by == Grouping.ASPECT:
            rows.sort(key=lambda r: r.key)
        results[group_by] = _grouped_rollup(rows, group_by=group_by, filters=filters,
                                            today=today)
    if Grouping.TOTAL in groupings:
        total = Figures()
        for counts in per_grouping[0].values():  # every group of one grouping: everything
            total.add(_figures_of(counts))
        results[Grouping.TOTAL] = Rollup(Grouping.TOTAL, filters, today,
                                         [Row(None, "合计", total)], total)
    return {group_by: results[group_by] for group_by in groupings}


def _sums_by_each_key(grouped: QuerySet, names: list[str]) -> list[dict[object, list[int]]]:
    """For each key in `names` (the group-by columns of `grouped`, a values().annotate()
    query), the aggregates of `grouped` summed by that key alone, in ALL_FIELDS order.

    One key: the query itself. Several: one statement, in which the database aggregates the
    groups of all the keys together once (a single, parallel pass over the rows: lead unit ×
    inspection is some thousands of groups) and then sums each key's few groups from them,
    so that only those come back (WITH g AS (…) SELECT … GROUP BY g0 UNION ALL …). A
    GROUPING SETS pass gives the same answer, but PostgreSQL plans it without workers."""
    grouped = grouped.order_by()
    counted = [name for name in ALL_FIELDS if name in grouped.query.annotations]
    if len(names) == 1:
        return [{
            g[names[0]]: [g.get(name) or 0 for name in ALL_FIELDS] for g in grouped
        }]
    q = connection.ops.quote_name
    try:
        sql, params = grouped.query.sql_with_params()
    except EmptyResultSet:  # a part with no rows by construction (no support-only tasks)
        return [{} for _ in names]
    outer = ", ".join(f"SUM({q(name)})" for name in counted)
    # Each branch groups by its key; the other keys' columns are not read, but keep their type
    # (MIN(...), not NULL: UNION would resolve two untyped NULLs to text).
    branches = [
        f"SELECT {at}, {', '.join(q(n) if n == name else f'MIN({q(n)})' for n in names)}, "
        f"{outer} FROM g GROUP BY {q(name)}"
        for at, name in enumerate(names)
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"WITH g AS ({sql}) {' UNION ALL '.join(branches)}", params)
        rows = cursor.fetchall()
    result: list[dict[object, list[int]]] = [{} for _ in names]
    for row in rows:
        at = row[0]
        counts = dict(zip(counted, row[1 + len(names):], strict=True))
        result[at][row[1 + at]] = [int(counts.get(name) or 0) for name in ALL_FIELDS]
    return result


def _plus(a: list[int], b: list[int]) -> list[int]:
    return [x + y for x, y in zip(a, b, strict=True)]


def _figures_of(counts: list[int]) -> Figures:
    """Figures from counts in ALL_FIELDS order."""
    return Figures(**dict(zip(ALL_FIELDS, counts, strict=True)))


def _label(rows: list[Row], group_by: str) -> None:
    if group_by == Grouping.INSPECTION:
        inspections = {
            i["id"]: i
            for i in Inspection.objects.filter(pk__in=[r.key for r in rows]).values(
                "id", "title", "kind", "feedback_date", "team"
            )
        }
        for row in rows:
            info = inspections[row.key]
            row.label = info["title"]
            row.short_label = info["team"] or info["title"]
            row.extra = {"kind": info["kind"], "feedback_date": info["feedback_date"]}
        rows.sort(key=lambda r: (r.extra["feedback_date"], r.key), reverse=True)
    elif group_by == Grouping.KIND:
        order = list(InspectionKind.values)
        labels = dict(InspectionKind.choices)
        for row in rows:
            row.label = labels.get(row.key, row.key)
        rows.sort(key=lambda r: order.index(r.key) if r.key in order else len(order))
    elif group_by == Grouping.ASPECT:
        for row in rows:
            row.label = row.key or NO_ASPECT_LABEL
    elif group_by == Grouping.MONTH:
        for row in rows:
            if row.key is None:
                row.label = NO_DEADLINE_LABEL
            else:
                month = row.key.date() if isinstance(row.key, dt.datetime) else row.key
                row.key = month.strftime("%Y-%m")
                row.label = f"{month.year}年{month.month}月"
        rows.sort(key=lambda r: (r.key is None, r.key or ""))


def _unit_universe(units: list[dict], *, user: User, filters: RollupFilters) -> list[dict]:
    """The units a unit rollup lists: the filter unit's subtree, else the units the user
    reaches (tracker.access.reaches_unit, on the rows already read: one Unit stands for each
    row in turn, rather than a model instance per unit)."""
    if filters.unit is not None:
        return [u for u in units if u["path"].startswith(filters.unit.path)]
    probe = Unit()
    reached = []
    for u in units:
        probe.pk, probe.path = u["id"], u["path"]
        if access.reaches_unit(user, probe):
            reached.append(u)
    return reached


def _unit_rows(
    per_lead_unit: dict[int, Figures], *, user: User, filters: RollupFilters
) -> list[Row]:
    units = list(
        Unit.objects.order_by("path").values(
            "id", "name", "parent_id", "path", "depth", "sort_order"
        )
    )
    by_id = {u["id"]: u for u in units}
    listed = {u["id"] for u in _unit_universe(units, user=user, filters=filters)}
    groups = [
        (_path_ids(by_id[unit_id]["path"]), figures)
        for unit_id, figures in per_lead_unit.items()
    ]
    # A task visible to the user but led outside their units (they support it) still counts:
    # its lead unit is listed too, unless a listed unit above it already covers it.
    base = set(listed)
    for path_ids, _ in groups:
        if base.isdisjoint(path_ids):
            listed.add(path_ids[-1])
    # Each unit's counts summed over its subtree: the lead units' own counts, then, deepest
    # unit first (longest path: a unit's path extends the path of the unit above it), each
    # unit's sum added into the unit above it on its path. One addition per unit with tasks
    # below it, whatever the depth.
    sums: dict[int, list[int]] = {}
    for path_ids, figures in groups:
        have = sums.get(path_ids[-1])
        counts = figures.counts()
        sums[path_ids[-1]] = counts if have is None else _plus(have, counts)
    for u in sorted(units, key=lambda u: len(u["path"]), reverse=True):
        counts = sums.get(u["id"])
        if counts is None:
            continue
        path_ids = _path_ids(u["path"])
        if len(path_ids) > 1:
            above = path_ids[-2]
            have = sums.get(above)
            sums[above] = counts if have is None else _plus(have, counts)
    rows = [
        Row(
            u["id"],
            u["name"],
            Figures(**dict(zip(ALL_FIELDS, sums[u["id"]], strict=True)))
            if u["id"] in sums else Figures(),
            {"parent_id": u["parent_id"], "path": u["path"], "depth": u["depth"]},
        )
        for u in units
        if u["id"] in listed
    ]
    return rows


def _path_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def unit_tree(rows: Iterable[Row]) -> list[Row]:
    """Nest unit rows under their parents; a row whose parent is not listed is a top."""
    rows = list(rows)
    by_id = {row.key: row for row in rows}
    tops = []
    for row in rows:
        row.children = []
    for row in rows:
        parent = by_id.get(row.extra["parent_id"])
        (parent.children if parent is not None else tops).append(row)
    return tops


# --- Plain data (the API, the exports and the snapshots all serve this) ------------------

SUBJECT_GROUPINGS = {Grouping.UNIT, Grouping.INSPECTION, Grouping.KIND}


def _rate_number(rate: str | None) -> float | None:
    return None if rate is None else float(rate)


def figures_as_dict(figures: Figures, *, subject: str = "") -> dict:
    return {
        **figures.report_buckets(),
        "not_started": figures.not_started,
        "in_progress": figures.in_progress,
        "submitted": figures.submitted,
        "overdue": figures.overdue,
        "due_soon": figures.due_soon,
        "closed_on_time": figures.closed_on_time,
        "recheck_due": figures.recheck_due,
        "recheck_done": figures.recheck_done,
        "recheck_failed": figures.recheck_failed,
        "completion_rate": _rate_number(figures.completion_rate),
        "broad_rate": _rate_number(figures.broad_rate),
        "on_time_rate": _rate_number(figures.on_time_rate),
        "light": figures.light,
        "light_label": figures.light_label,
        "sentence": figures.sentence(subject=subject),
    }


def row_as_dict(row: Row, group_by: str) -> dict:
    subject = row.label if group_by in SUBJECT_GROUPINGS else ""
    data = {"key": row.key, "label": row.label, **figures_as_dict(row.figures, subject=subject)}
    for name, value in row.extra.items():
        data[name] = value.isoformat() if isinstance(value, dt.date) else value
    if row.children:
        data["children"] = [row_as_dict(child, group_by) for child in row.children]
    return data


def rollup_as_dict(result: Rollup, *, tree: bool = False) -> dict:
    f = result.filters
    rows = unit_tree(result.rows) if tree and result.group_by == Grouping.UNIT else result.rows
    return {
        "group_by": result.group_by,
        "as_of": f.as_of.isoformat() if f.as_of else None,
        "today": result.today.isoformat(),
        "filters": {
            "inspection": f.inspection_id,
            "unit": f.unit.pk if f.unit else None,
            "kind": f.kind,
            "deadline_from": f.deadline_from.isoformat() if f.deadline_from else None,
            "deadline_to": f.deadline_to.isoformat() if f.deadline_to else None,
            "as_of": f.as_of.isoformat() if f.as_of else None,
            "is_key": f.key_only,
        },
        "total": figures_as_dict(result.total),
        "rows": [row_as_dict(row, result.group_by) for row in rows],
    }
