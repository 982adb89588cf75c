"""The maintained counts (TaskTally): recount, check, rebuild.

The database triggers of migration 0013_task_tallies keep tracker_tasktally exact as tasks
change; this module recounts the same figures from the tasks through the ORM, with the rules
the rollups scan with (tracker.figures.rollups, tracker.deadlines), so that a check compares
two independent spellings: the triggers' SQL and the ORM's.
"""

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, DateField, F, QuerySet, Value
from django.db.models.functions import Coalesce, TruncMonth

from tracker import deadlines
from tracker.figures.rollups import NOW_FIELDS, _count_aggregates
from tracker.models import NO_DEADLINE_MONTH, Task, TaskTally

KEY = ("lead_unit_id", "inspection_id", "aspect", "deadline_month")
COUNTERS = (
    "total", "not_started", "in_progress", "submitted", "completed", "basically_completed",
    "long_term", "closed_on_time", "lit",
)


def recount() -> QuerySet:
    """The tallies as they should stand: one aggregate over every task, grouped by the key."""
    return (
        Task.objects.values(
            "lead_unit_id",
            "inspection_id",
            aspect=F("problem__aspect"),
            deadline_month=Coalesce(
                TruncMonth("deadline", output_field=DateField()),
                Value(NO_DEADLINE_MONTH, output_field=DateField()),
            ),
        )
        .annotate(**_count_aggregates(NOW_FIELDS), lit=Count("id", filter=deadlines.has_light_q()))
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
            _normalised_key(row): {name: row[name] for name in COUNTERS} for row in recount()
        }
    return [
        Mismatch(key, maintained.get(key), recounted.get(key))
        for key in sorted(set(maintained) | set(recounted), key=repr)
        if maintained.get(key) != recounted.get(key)
    ]


@transaction.atomic
def tally_rebuild() -> int:
    """Recount the tallies from the tasks (INSERT … SELECT); returns the number of rows.

    On PostgreSQL the tasks are locked against writes (SHARE) for the length of the recount,
    so no change slips between the delete and the insert; SQLite has one writer anyway."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE tracker_task IN SHARE MODE")
        cursor.execute(f"DELETE FROM {TaskTally._meta.db_table}")
        select = recount().values_list(*KEY, *COUNTERS)
        sql, params = select.query.sql_with_params()
        cursor.execute(
            f"INSERT INTO {TaskTally._meta.db_table} ({', '.join(KEY + COUNTERS)}) {sql}",
            params,
        )
    return TaskTally.objects.count()
