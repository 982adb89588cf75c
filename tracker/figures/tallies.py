"""The maintained counts (TaskTally, TaskMonthTally): recount, check, rebuild.

The database triggers of migrations 0013_task_tallies, 0031_recheck_tallies and
0032_task_month_tallies keep both tables exact as tasks and their 回头看 change; this module
recounts the same figures from the tasks and re-checks through the ORM, with the rules the
rollups scan with (tracker.figures.rollups, tracker.deadlines), so that a check compares two
independent spellings: the triggers' SQL and the ORM's.
"""

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, DateField, F, Model, QuerySet, Value
from django.db.models.functions import Coalesce, TruncMonth

from tracker import deadlines
from tracker.figures.rollups import NOW_FIELDS, _count_aggregates, recheck_aggregates
from tracker.models import NO_DEADLINE_MONTH, Task, TaskMonthTally, TaskRecheck, TaskTally

TASK_COUNTERS = (
    "total", "not_started", "in_progress", "submitted", "completed", "basically_completed",
    "long_term", "closed_on_time", "lit",
)
RECHECK_COUNTERS = ("recheck_due", "recheck_done", "recheck_failed")
COUNTERS = TASK_COUNTERS + RECHECK_COUNTERS


@dataclass(frozen=True)
class Table:
    """A maintained table and its key (migrations 0013, 0031, 0032)."""

    model: type[Model]
    key: tuple[str, ...]


TALLIES = Table(TaskTally, ("lead_unit_id", "inspection_id", "aspect", "deadline_month"))
MONTH_TALLIES = Table(TaskMonthTally, ("lead_unit_id", "inspection_id", "deadline_month"))
TABLES = (TALLIES, MONTH_TALLIES)


def _key_values(key: tuple[str, ...], prefix: str = "") -> tuple[list[str], dict]:
    """The key's columns over a task (through `prefix`, e.g. "task__"): plain fields, and
    expressions by name."""
    fields, expressions = [], {}
    for name in key:
        if name in ("lead_unit_id", "inspection_id"):
            if prefix:
                expressions[name] = F(f"{prefix}{name}")
            else:
                fields.append(name)
        elif name == "aspect":
            expressions[name] = F(f"{prefix}problem__aspect")
        else:
            expressions[name] = Coalesce(
                TruncMonth(f"{prefix}deadline", output_field=DateField()),
                Value(NO_DEADLINE_MONTH, output_field=DateField()),
            )
    return fields, expressions


def recount(table: Table = TALLIES) -> QuerySet:
    """The task counts as they should stand: one aggregate over every task, grouped by the
    table's key."""
    fields, expressions = _key_values(table.key)
    return (
        Task.objects.values(*fields, **expressions)
        .annotate(**_count_aggregates(NOW_FIELDS), lit=Count("id", filter=deadlines.has_light_q()))
        .order_by()
    )


def recount_rechecks(table: Table = TALLIES) -> QuerySet:
    """The 回头看 counts as they should stand: one aggregate over every re-check, grouped by its
    task's key, counted by the rollups' own rule (rollups.recheck_aggregates)."""
    _, expressions = _key_values(table.key, "task__")
    return TaskRecheck.objects.values(**expressions).annotate(**recheck_aggregates()).order_by()


@dataclass(frozen=True)
class Mismatch:
    table: Table
    key: tuple  # in table.key's order
    maintained: dict | None  # None: no row where the recount has tasks
    recounted: dict | None  # None: a row for tasks that do not exist


def _normalised_key(table: Table, row: dict) -> tuple:
    month = row["deadline_month"]
    if hasattr(month, "date"):  # a datetime from some backends' truncation
        month = month.date()
    return tuple(month if name == "deadline_month" else row[name] for name in table.key)


def _check(table: Table) -> list[Mismatch]:
    rows = table.model.objects.values(*table.key, *COUNTERS)
    maintained = {
        _normalised_key(table, row): {name: row[name] for name in COUNTERS}
        for row in rows.filter(total__gt=0)
    }
    # A row left at zero must hold zeros everywhere, or it is a mismatch too.
    for row in rows.filter(total=0):
        if any(row[name] for name in COUNTERS):
            maintained[_normalised_key(table, row)] = {name: row[name] for name in COUNTERS}
    recounted = {
        _normalised_key(table, row): {
            **{name: row[name] for name in TASK_COUNTERS},
            **dict.fromkeys(RECHECK_COUNTERS, 0),
        }
        for row in recount(table)
    }
    for row in recount_rechecks(table):
        # A key without tasks cannot have re-checks: a row of tasks' zeros shows it.
        counts = recounted.setdefault(_normalised_key(table, row), dict.fromkeys(COUNTERS, 0))
        counts.update({name: row[name] for name in RECHECK_COUNTERS})
    return [
        Mismatch(table, key, maintained.get(key), recounted.get(key))
        for key in sorted(set(maintained) | set(recounted), key=repr)
        if maintained.get(key) != recounted.get(key)
    ]


def tally_check() -> list[Mismatch]:
    """Every key of either table where the maintained counts differ from a recount (empty:
    exact)."""
    with transaction.atomic():
        return [mismatch for table in TABLES for mismatch in _check(table)]


@transaction.atomic
def tally_rebuild() -> int:
    """Recount both tables from the tasks and their 回头看 (one INSERT … SELECT each, each row
    written once); returns the number of TaskTally rows.

    On PostgreSQL the tasks and re-checks are locked against writes (SHARE) for the length of
    the recount, so no change slips between the delete and the insert; SQLite has one writer
    anyway."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE tracker_task, tracker_taskrecheck IN SHARE MODE")
        for table in TABLES:
            _rebuild(cursor, table)
    return TaskTally.objects.count()


def _rebuild(cursor, table: Table) -> None:
    db_table = table.model._meta.db_table
    tasks, task_params = recount(table).values_list(
        *table.key, *TASK_COUNTERS).query.sql_with_params()
    rechecks, recheck_params = recount_rechecks(table).values_list(
        *table.key, *RECHECK_COUNTERS).query.sql_with_params()
    columns = ", ".join(
        [f"t.{name}" for name in table.key + TASK_COUNTERS]
        + [f"COALESCE(r.{name}, 0)" for name in RECHECK_COUNTERS]
    )
    joined = " AND ".join(f"r.{name} = t.{name}" for name in table.key)
    cursor.execute(f"DELETE FROM {db_table}")
    cursor.execute(
        f"INSERT INTO {db_table} ({', '.join(table.key + COUNTERS)}) SELECT {columns} "
        f"FROM ({tasks}) AS t LEFT JOIN ({rechecks}) AS r ON {joined}",
        (*task_params, *recheck_params),
    )
