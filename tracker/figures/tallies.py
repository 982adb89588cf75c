"""The maintained counts (TaskTally): recount, check, rebuild.

The database triggers of migrations 0013_task_tallies and 0031_recheck_tallies keep
tracker_tasktally exact as tasks and their 回头看 change; this module recounts the same
figures from the tasks and re-checks through the ORM, with the rules the rollups scan with
(tracker.figures.rollups, tracker.deadlines), so that a check compares two independent
spellings: the triggers' SQL and the ORM's.
"""

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, DateField, F, QuerySet, Value
from django.db.models.functions import Coalesce, TruncMonth

from tracker import deadlines
from tracker.figures.rollups import NOW_FIELDS, _count_aggregates, recheck_aggregates
from tracker.models import NO_DEADLINE_MONTH, Task, TaskRecheck, TaskTally

KEY = ("lead_unit_id", "inspection_id", "aspect", "deadline_month")
TASK_COUNTERS = (
    "total", "not_started", "in_progress", "submitted", "completed", "basically_completed",
    "long_term", "closed_on_time", "lit",
)
RECHECK_COUNTERS = ("recheck_due", "recheck_done", "recheck_failed")
COUNTERS = TASK_COUNTERS + RECHECK_COUNTERS


def _key_values(prefix: str = "") -> dict:
    """The key's columns as expressions over a task (through `prefix`, e.g. "task__")."""
    return {
        **({"lead_unit_id": F(f"{prefix}lead_unit_id"),
            "inspection_id": F(f"{prefix}inspection_id")} if prefix else {}),
        "aspect": F(f"{prefix}problem__aspect"),
        "deadline_month": Coalesce(
            TruncMonth(f"{prefix}deadline", output_field=DateField()),
            Value(NO_DEADLINE_MONTH, output_field=DateField()),
        ),
    }


def recount() -> QuerySet:
    """The task counts as they should stand: one aggregate over every task, grouped by the key."""
    return (
        Task.objects.values("lead_unit_id", "inspection_id", **_key_values())
        .annotate(**_count_aggregates(NOW_FIELDS), lit=Count("id", filter=deadlines.has_light_q()))
        .order_by()
    )


def recount_rechecks() -> QuerySet:
    """The 回头看 counts as they should stand: one aggregate over every re-check, grouped by its
    task's key, counted by the rollups' own rule (rollups.recheck_aggregates)."""
    return (
        TaskRecheck.objects.values(**_key_values("task__"))
        .annotate(**recheck_aggregates())
        .order_by()
    )


@dataclass(frozen=True)
class Mismatch:
    key: tuple
    maintained: dict | None  # None: no row where the recount has tasks
    recounted: dict | None  # None: a row for tasks that do not exist


def _normalised_key(row: dict) -> tuple:
    month = row["deadline_month"]
    if hasattr(month, "date"):  # a datetime from some backends' truncation
        month = month.date()
    return (row["lead_unit_id"], row["inspection_id"], row["aspect"], month)


def tally_check() -> list[Mismatch]:
    """Every key where the maintained tallies differ from a recount (empty: exact)."""
    with transaction.atomic():
        maintained = {
            _normalised_key(row): {name: row[name] for name in COUNTERS}
            for row in TaskTally.objects.filter(total__gt=0).values(*KEY, *COUNTERS)
        }
        # A row left at zero must hold zeros everywhere, or it is a mismatch too.
        for row in TaskTally.objects.filter(total=0).values(*KEY, *COUNTERS):
            if any(row[name] for name in COUNTERS):
                maintained[_normalised_key(row)] = {name: row[name] for name in COUNTERS}
        recounted = {
            _normalised_key(row): {
                **{name: row[name] for name in TASK_COUNTERS},
                **dict.fromkeys(RECHECK_COUNTERS, 0),
            }
            for row in recount()
        }
        for row in recount_rechecks():
            # A key without tasks cannot have re-checks: a row of tasks' zeros shows it.
            counts = recounted.setdefault(_normalised_key(row), dict.fromkeys(COUNTERS, 0))
            counts.update({name: row[name] for name in RECHECK_COUNTERS})
    return [
        Mismatch(key, maintained.get(key), recounted.get(key))
        for key in sorted(set(maintained) | set(recounted), key=repr)
        if maintained.get(key) != recounted.get(key)
    ]


@transaction.atomic
def tally_rebuild() -> int:
    """Recount the tallies from the tasks and their 回头看 (one INSERT … SELECT, each row
    written once); returns the number of rows.

    On PostgreSQL the tasks and re-checks are locked against writes (SHARE) for the length of
    the recount, so no change slips between the delete and the insert; SQLite has one writer
    anyway."""
    table = TaskTally._meta.db_table
    tasks, task_params = recount().values_list(*KEY, *TASK_COUNTERS).query.sql_with_params()
    rechecks, recheck_params = (
        recount_rechecks().values_list(*KEY, *RECHECK_COUNTERS).query.sql_with_params()
    )
    columns = ", ".join(
        [f"t.{name}" for name in KEY + TASK_COUNTERS]
        + [f"COALESCE(r.{name}, 0)" for name in RECHECK_COUNTERS]
    )
    joined = " AND ".join(f"r.{name} = t.{name}" for name in KEY)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE tracker_task, tracker_taskrecheck IN SHARE MODE")
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(KEY + COUNTERS)}) SELECT {columns} "
            f"FROM ({tasks}) AS t LEFT JOIN ({rechecks}) AS r ON {joined}",
            (*task_params, *recheck_params),
        )
    return TaskTally.objects.count()
