"""SQLite: a deleted task's counts are subtracted by UPDATE, never inserted.

Django's flush (the test runner's, `manage.py flush`) empties the tables on SQLite with one
DELETE per table in no fixed order. The delete trigger of migration 0013 added the task's
contribution with an upsert: when the counts had been emptied first it wrote a row of negative
counts, and when the task's problem had gone first it tried to write a row without an aspect
(NOT NULL). A task being deleted always has its row (the insert trigger made it, the rebuild
keeps it), so subtracting from that row is the same arithmetic, and a flush in any order
leaves nothing behind. PostgreSQL flushes with TRUNCATE, which fires no row trigger, and keeps
its trigger function.
"""

import importlib

from django.db import migrations

tallies = importlib.import_module("tracker.migrations.0013_task_tallies")

OLD_ASPECT = "(SELECT aspect FROM tracker_problem WHERE id = OLD.problem_id)"
# The counters' conditions, as migration 0013 writes them, on the deleted row.
CONDITIONS = {
    "total": "1",
    "not_started": "OLD.status = 'not_started'",
    "in_progress": "OLD.status = 'in_progress'",
    "submitted": "OLD.status = 'submitted'",
    "completed": "OLD.status = 'completed'",
    "basically_completed": "OLD.status = 'basically_completed'",
    "long_term": "OLD.status = 'long_term'",
    "closed_on_time": (
        f"OLD.status = 'completed' AND (OLD.deadline IS NULL OR "
        f"{tallies._local_date_sql('sqlite', 'OLD.closed_at')} <= OLD.deadline)"
    ),
    "lit": "OLD.deadline IS NOT NULL AND OLD.status NOT IN ('completed', 'long_term')",
}


def _subtracting_trigger() -> str:
    assert set(CONDITIONS) == set(tallies.COUNTERS)
    sets = ", ".join(
        f"{name} = {name} - (CASE WHEN {CONDITIONS[name]} THEN 1 ELSE 0 END)"
        for name in tallies.COUNTERS
    )
    return f"""
CREATE TRIGGER tracker_task_tally_delete AFTER DELETE ON tracker_task BEGIN
    UPDATE tracker_tasktally SET {sets}
    WHERE lead_unit_id = OLD.lead_unit_id AND inspection_id = OLD.inspection_id
      AND aspect = {OLD_ASPECT}
      AND deadline_month = {tallies._month_sql('sqlite', 'OLD.deadline')};
    {tallies._delete_empty_sql('sqlite', 'OLD', OLD_ASPECT)};
END"""


def _upserting_trigger() -> str:
    (statement,) = [sql for sql in tallies._sqlite_sql()
                    if "CREATE TRIGGER tracker_task_tally_delete" in sql]
    return statement


def _replace(schema_editor, sql: str) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS tracker_task_tally_delete", params=None)
    schema_editor.execute(sql, params=None)


def subtract_by_update(apps, schema_editor):
    _replace(schema_editor, _subtracting_trigger())


def subtract_by_upsert(apps, schema_editor):
    _replace(schema_editor, _upserting_trigger())


class Migration(migrations.Migration):

    dependencies = [
        ("tracker", "0025_taskevent_actions_union"),
    ]

    operations = [
        migrations.RunPython(subtract_by_update, subtract_by_upsert),
    ]
