"""PostgreSQL: new tasks are counted once per INSERT statement, not once per row.

A first import of a ledger writes thousands of tasks in one INSERT (tasks_create_batch); the
row trigger of 0013/0031/0032 ran two upserts and a re-check count for each of them (about a
second of database time per 10,000 rows). A statement trigger over the inserted rows (a
transition table) does the same arithmetic in one upsert per table, grouped by key in key
order; the row trigger keeps UPDATE and DELETE. The rule is unchanged: each new task counts
under its key with the re-checks it has (none, unless written before it in the same
transaction). SQLite keeps its row triggers (one writer, and no transition tables).
"""

import importlib

from django.db import migrations

months = importlib.import_module("tracker.migrations.0032_task_month_tallies")
rechecks = months.rechecks  # 0031
tallies = months.tallies  # 0013


def _new_tasks_source() -> str:
    v = "postgresql"
    counts = ", ".join(
        f"count(*) FILTER (WHERE {rechecks._in_states('state', name)}) AS {name}"
        for name in rechecks.RECHECK_COUNTERS
    )
    carried = ", ".join(f"COALESCE(r.{name}, 0) AS {name}" for name in rechecks.RECHECK_COUNTERS)
    return (
        f"SELECT n.lead_unit_id AS lead_unit_id, n.inspection_id AS inspection_id, "
        f"p.aspect AS aspect, {tallies._month_sql(v, 'n.deadline')} AS deadline_month, "
        f"1 AS sign, n.status AS status, n.deadline AS deadline, n.closed_at AS closed_at, "
        f"{carried} "
        f"FROM new_tasks AS n JOIN tracker_problem AS p ON p.id = n.problem_id "
        f"LEFT JOIN (SELECT task_id, {counts} FROM tracker_taskrecheck "
        f"WHERE task_id IN (SELECT id FROM new_tasks) GROUP BY task_id) AS r "
        f"ON r.task_id = n.id"
    )


def _insert_function() -> str:
    v = "postgresql"
    source = _new_tasks_source()
    # FOR SHARE on the problems, in id order: as the row trigger does for one (a concurrent
    # change of an aspect waits, or is seen).
    return f"""
CREATE OR REPLACE FUNCTION tracker_task_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM tracker_problem AS p WHERE p.id IN (SELECT problem_id FROM new_tasks)
        ORDER BY p.id FOR SHARE;
    {rechecks._upsert_sql(v, source)};
    {months._month_upsert_sql(v, source)};
    RETURN NULL;
END
$$"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in (
        _insert_function(),
        "DROP TRIGGER tracker_task_tally ON tracker_task",
        "CREATE TRIGGER tracker_task_tally AFTER DELETE OR UPDATE ON tracker_task "
        "FOR EACH ROW EXECUTE FUNCTION tracker_task_tally()",
        "CREATE TRIGGER tracker_task_tally_insert AFTER INSERT ON tracker_task "
        "REFERENCING NEW TABLE AS new_tasks FOR EACH STATEMENT "
        "EXECUTE FUNCTION tracker_task_tally_insert()",
    ):
        schema_editor.execute(sql, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in (
        "DROP TRIGGER IF EXISTS tracker_task_tally_insert ON tracker_task",
        "DROP FUNCTION IF EXISTS tracker_task_tally_insert()",
        "DROP TRIGGER tracker_task_tally ON tracker_task",
        "CREATE TRIGGER tracker_task_tally AFTER INSERT OR DELETE OR UPDATE ON tracker_task "
        "FOR EACH ROW EXECUTE FUNCTION tracker_task_tally()",
    ):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("tracker", "0032_task_month_tallies"),
    ]

    operations = [
        migrations.RunPython(install, uninstall),
    ]
