"""回头看 in the maintained counts (TaskTally.recheck_due / recheck_done / recheck_failed).

The rollups counted each request's re-checks with a grouped query over tracker_taskrecheck
joined to the visible tasks: with a re-check for most closed tasks (a ledger some years on),
that query cost as much as the rest of the rollup several times over. The counts are kept here
as the task counts are (migration 0013), in the same rows, so a rollup reads them with the rest.

What is counted, at every moment (the invariant `manage.py tallies --check` holds them to):
each task counts, under its key (lead unit, inspection, aspect, deadline month), its re-checks
that exist: due = 待单位报告 or 待督导确认, done = 已确认, failed = 未通过 (scheduled ones
are not counted). So

- a re-check written (insert, state change, delete) adds or takes back its bucket under its
  task's key, if its task exists (a task deleted first took its re-checks' counts with it);
- a task inserted or deleted adds or takes back the re-checks it has then; a task whose key
  changes (lead unit, inspection, deadline month, or its problem's aspect) moves them.

PostgreSQL: the re-check triggers are statement triggers over transition tables (a closing
batch writes thousands of re-checks in one statement: one UPDATE of the counts, not one per
row). They lock the re-checks' tasks (and problems) FOR SHARE in id order before reading their
keys, so a concurrent change of a task's key waits for them, and then counts their re-checks
as committed (the task trigger reads them with a statement of its own, a fresh snapshot).
SQLite: row triggers (one writer at a time).

The task and problem triggers of 0013 (and SQLite's subtracting delete trigger of 0026) are
replaced by versions that carry the re-check counts; unapplying restores them.
"""

import importlib

from django.db import migrations, models

from tracker.migrations._sqlite_triggers import sqlite_triggers_off, sqlite_triggers_on

tallies = importlib.import_module("tracker.migrations.0013_task_tallies")
subtracting = importlib.import_module("tracker.migrations.0026_sqlite_task_tally_delete")

KEY = tallies.KEY
TASK_COUNTERS = tallies.COUNTERS
RECHECK_COUNTERS = ("recheck_due", "recheck_done", "recheck_failed")
# Each counted bucket's states (tracker.models.RecheckState, frozen here).
RECHECK_STATES = {
    "recheck_due": ("due", "reported"),
    "recheck_done": ("confirmed",),
    "recheck_failed": ("failed",),
}


def _in_states(column: str, name: str) -> str:
    return f"{column} IN ({', '.join(repr(s) for s in RECHECK_STATES[name])})"


def _upsert_sql(vendor: str, source: str) -> str:
    """0013's upsert, with the source's signed re-check counts summed in too: `source` rows are
    (lead_unit_id, inspection_id, aspect, deadline_month, sign, status, deadline, closed_at,
    recheck_due, recheck_done, recheck_failed)."""
    base = tallies._upsert_sql(vendor, "SOURCE")
    select_head = "SELECT k.lead_unit_id, k.inspection_id, k.aspect, k.deadline_month, "
    assert base.count(select_head) == 1 and base.count(" FROM (SOURCE) AS k") == 1
    columns = f"({KEY}, {', '.join(TASK_COUNTERS)})"
    sums = ", ".join(f"SUM(k.{name})" for name in RECHECK_COUNTERS)
    updates = ", ".join(
        f"{name} = tracker_tasktally.{name} + excluded.{name}" for name in RECHECK_COUNTERS
    )
    return (
        base.replace(columns, f"({KEY}, {', '.join(TASK_COUNTERS + RECHECK_COUNTERS)})")
        .replace(" FROM (SOURCE) AS k", f", {sums} FROM ({source}) AS k")
        .replace(" DO UPDATE SET ", f" DO UPDATE SET {updates}, ")
    )


def _row_sql(vendor: str, row: str, sign: int, aspect: str, rechecks: dict[str, str]) -> str:
    """One task's contribution, its re-checks' counts given as SQL per counter."""
    counts = ", ".join(f"{sign} * ({rechecks[name]}) AS {name}" for name in RECHECK_COUNTERS)
    return f"{tallies._row_sql(vendor, row, sign, aspect)}, {counts}"


def _counted_sql(task_id: str) -> dict[str, str]:
    """A task's re-checks in each bucket, as scalar subqueries (SQLite's triggers)."""
    return {
        name: f"SELECT count(*) FROM tracker_taskrecheck WHERE task_id = {task_id} "
              f"AND {_in_states('state', name)}"
        for name in RECHECK_COUNTERS
    }


def _problem_move_sql(vendor: str) -> str:
    """A problem's aspect changed: its tasks' counts (and their re-checks) move."""
    per_task = _counted_sql("t.id")
    rechecks = ", ".join(f"a.sign * ({per_task[name]}) AS {name}" for name in RECHECK_COUNTERS)
    source = (
        f"SELECT t.lead_unit_id AS lead_unit_id, t.inspection_id AS inspection_id, "
        f"a.aspect AS aspect, {tallies._month_sql(vendor, 't.deadline')} AS deadline_month, "
        f"a.sign AS sign, t.status AS status, t.deadline AS deadline, t.closed_at AS closed_at, "
        f"{rechecks} "
        f"FROM tracker_task AS t CROSS JOIN (SELECT OLD.aspect AS aspect, -1 AS sign "
        f"UNION ALL SELECT NEW.aspect, 1) AS a WHERE t.problem_id = NEW.id"
    )
    return _upsert_sql(vendor, source)


def _recount_rechecks_sql(vendor: str) -> str:
    """Set every row's re-check counts from the re-checks as they stand (UPDATE … FROM:
    PostgreSQL, SQLite 3.33+)."""
    sums = ", ".join(
        f"SUM(CASE WHEN {_in_states('r.state', name)} THEN 1 ELSE 0 END) AS {name}"
        for name in RECHECK_COUNTERS
    )
    sets = ", ".join(f"{name} = c.{name}" for name in RECHECK_COUNTERS)
    return (
        f"UPDATE tracker_tasktally SET {sets} FROM ("
        f"SELECT t.lead_unit_id, t.inspection_id, p.aspect, "
        f"{tallies._month_sql(vendor, 't.deadline')} AS deadline_month, {sums} "
        f"FROM tracker_taskrecheck AS r JOIN tracker_task AS t ON t.id = r.task_id "
        f"JOIN tracker_problem AS p ON p.id = t.problem_id "
        f"GROUP BY t.lead_unit_id, t.inspection_id, p.aspect, deadline_month) AS c "
        f"WHERE tracker_tasktally.lead_unit_id = c.lead_unit_id "
        f"AND tracker_tasktally.inspection_id = c.inspection_id "
        f"AND tracker_tasktally.aspect = c.aspect "
        f"AND tracker_tasktally.deadline_month = c.deadline_month"
    )


# --- PostgreSQL ------------------------------------------------------------------------------

def _pg_recheck_change(rows: str) -> str:
    """Add the signed buckets of `rows` (task_id, state, sign) under their tasks' keys: lock
    the tasks and their problems FOR SHARE in id order, then one UPDATE."""
    v = "postgresql"
    sums = ", ".join(
        f"SUM(CASE WHEN {_in_states('r.state', name)} THEN r.sign ELSE 0 END) AS {name}"
        for name in RECHECK_COUNTERS
    )
    sets = ", ".join(f"{name} = a.{name} + c.{name}" for name in RECHECK_COUNTERS)
    return f"""
    PERFORM 1 FROM tracker_task AS t WHERE t.id IN (SELECT task_id FROM ({rows}) AS r)
        ORDER BY t.id FOR SHARE;
    PERFORM 1 FROM tracker_problem AS p WHERE p.id IN (
            SELECT t.problem_id FROM tracker_task AS t
            WHERE t.id IN (SELECT task_id FROM ({rows}) AS r))
        ORDER BY p.id FOR SHARE;
    UPDATE tracker_tasktally AS a SET {sets} FROM (
        SELECT t.lead_unit_id, t.inspection_id, p.aspect,
               {tallies._month_sql(v, 't.deadline')} AS deadline_month, {sums}
        FROM ({rows}) AS r JOIN tracker_task AS t ON t.id = r.task_id
        JOIN tracker_problem AS p ON p.id = t.problem_id
        GROUP BY 1, 2, 3, 4
    ) AS c
    WHERE (a.lead_unit_id, a.inspection_id, a.aspect, a.deadline_month)
        = (c.lead_unit_id, c.inspection_id, c.aspect, c.deadline_month)
      AND ({' OR '.join(f'c.{name} <> 0' for name in RECHECK_COUNTERS)});"""


PG_RECHECK_FUNCTIONS = {
    "tracker_recheck_tally_insert": _pg_recheck_change(
        "SELECT task_id, state, 1 AS sign FROM new_rechecks"),
    "tracker_recheck_tally_delete": _pg_recheck_change(
        "SELECT task_id, state, -1 AS sign FROM old_rechecks"),
    "tracker_recheck_tally_update": _pg_recheck_change(
        "SELECT task_id, state, -1 AS sign FROM old_rechecks "
        "UNION ALL SELECT task_id, state, 1 FROM new_rechecks"),
    # TRUNCATE of the re-checks alone (with the tasks, 0013's trigger empties every row).
    "tracker_recheck_tally_truncate": "UPDATE tracker_tasktally SET "
    + ", ".join(f"{name} = 0" for name in RECHECK_COUNTERS) + ";",
}
PG_RECHECK_TRIGGERS = {
    "tracker_recheck_tally_insert": "AFTER INSERT ON tracker_taskrecheck "
    "REFERENCING NEW TABLE AS new_rechecks FOR EACH STATEMENT",
    "tracker_recheck_tally_delete": "AFTER DELETE ON tracker_taskrecheck "
    "REFERENCING OLD TABLE AS old_rechecks FOR EACH STATEMENT",
    "tracker_recheck_tally_update": "AFTER UPDATE ON tracker_taskrecheck "
    "REFERENCING OLD TABLE AS old_rechecks NEW TABLE AS new_rechecks FOR EACH STATEMENT",
    "tracker_recheck_tally_truncate": "AFTER TRUNCATE ON tracker_taskrecheck "
    "FOR EACH STATEMENT",
}


def _pg_task_function() -> str:
    v = "postgresql"
    unchanged = " AND ".join(f"OLD.{c} IS NOT DISTINCT FROM NEW.{c}" for c in tallies.TASK_COLUMNS)
    old_key = (f"OLD.lead_unit_id, OLD.inspection_id, old_aspect, "
               f"{tallies._month_sql(v, 'OLD.deadline')}")
    new_key = (f"NEW.lead_unit_id, NEW.inspection_id, new_aspect, "
               f"{tallies._month_sql(v, 'NEW.deadline')}")
    counts = ", ".join(
        f"count(*) FILTER (WHERE {_in_states('state', name)})" for name in RECHECK_COUNTERS
    )
    held = {"recheck_due": "r_due", "recheck_done": "r_done", "recheck_failed": "r_failed"}
    return f"""
CREATE OR REPLACE FUNCTION tracker_task_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_aspect varchar;
    new_aspect varchar;
    r_due integer := 0;
    r_done integer := 0;
    r_failed integer := 0;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF {unchanged} THEN
            RETURN NULL;
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT aspect INTO STRICT old_aspect FROM tracker_problem
            WHERE id = OLD.problem_id FOR SHARE;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT aspect INTO STRICT new_aspect FROM tracker_problem
            WHERE id = NEW.problem_id FOR SHARE;
    END IF;
    -- The task's re-checks go with it: counted when it comes, goes or changes key (for a
    -- change within one key they would cancel out).
    IF TG_OP = 'INSERT' THEN
        SELECT {counts} INTO r_due, r_done, r_failed FROM tracker_taskrecheck
            WHERE task_id = NEW.id;
    ELSIF TG_OP = 'DELETE' OR ({old_key}) IS DISTINCT FROM ({new_key}) THEN
        SELECT {counts} INTO r_due, r_done, r_failed FROM tracker_taskrecheck
            WHERE task_id = OLD.id;
    END IF;
    IF TG_OP = 'INSERT' THEN
        {_upsert_sql(v, _row_sql(v, 'NEW', 1, 'new_aspect', held))};
    ELSIF TG_OP = 'DELETE' THEN
        {_upsert_sql(v, _row_sql(v, 'OLD', -1, 'old_aspect', held))};
        {tallies._delete_empty_sql(v, 'OLD', 'old_aspect')};
    ELSE
        {_upsert_sql(v, _row_sql(v, 'OLD', -1, 'old_aspect', held) + ' UNION ALL '
                     + _row_sql(v, 'NEW', 1, 'new_aspect', held))};
        {tallies._delete_empty_sql(v, 'OLD', 'old_aspect')};
    END IF;
    RETURN NULL;
END
$$"""


def _pg_problem_function() -> str:
    return f"""
CREATE OR REPLACE FUNCTION tracker_problem_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.aspect IS DISTINCT FROM NEW.aspect THEN
        {_problem_move_sql('postgresql')};
        DELETE FROM tracker_tasktally WHERE total = 0 AND inspection_id = OLD.inspection_id
            AND aspect = OLD.aspect;
    END IF;
    RETURN NULL;
END
$$"""


def _pg_install(schema_editor) -> None:
    schema_editor.execute(_pg_task_function(), params=None)
    schema_editor.execute(_pg_problem_function(), params=None)
    for name, body in PG_RECHECK_FUNCTIONS.items():
        schema_editor.execute(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {body} RETURN NULL; END $$",
            params=None,
        )
        schema_editor.execute(
            f"CREATE TRIGGER {name} {PG_RECHECK_TRIGGERS[name]} EXECUTE FUNCTION {name}()",
            params=None,
        )


def _pg_uninstall(schema_editor) -> None:
    for name in PG_RECHECK_FUNCTIONS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON tracker_taskrecheck", params=None)
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()", params=None)
    # 0013's functions, as they were (its trigger statements stand).
    for sql in tallies._postgresql_sql():
        if sql.lstrip().startswith("CREATE OR REPLACE FUNCTION tracker_task_tally()") or \
                sql.lstrip().startswith("CREATE OR REPLACE FUNCTION tracker_problem_tally()"):
            schema_editor.execute(sql, params=None)


# --- SQLite ----------------------------------------------------------------------------------

SQLITE_TASK_TRIGGERS = ("tracker_task_tally_insert", "tracker_task_tally_delete",
                        "tracker_task_tally_update", "tracker_problem_tally")
SQLITE_RECHECK_TRIGGERS = ("tracker_recheck_tally_insert", "tracker_recheck_tally_delete",
                           "tracker_recheck_tally_update")


def _sqlite_recheck_update(row: str, sign: str) -> str:
    """Add `row`'s (NEW or OLD) bucket, signed, under its task's key, if the task exists."""
    v = "sqlite"
    sets = ", ".join(
        f"{name} = {name} {sign} (CASE WHEN {_in_states(f'{row}.state', name)} THEN 1 ELSE 0 END)"
        for name in RECHECK_COUNTERS
    )
    return (
        f"UPDATE tracker_tasktally SET {sets} "
        f"WHERE (lead_unit_id, inspection_id, aspect, deadline_month) = ("
        f"SELECT t.lead_unit_id, t.inspection_id, p.aspect, "
        f"{tallies._month_sql(v, 't.deadline')} FROM tracker_task AS t "
        f"JOIN tracker_problem AS p ON p.id = t.problem_id WHERE t.id = {row}.task_id)"
    )


def _sqlite_sql() -> list[str]:
    v = "sqlite"
    old_aspect = "(SELECT aspect FROM tracker_problem WHERE id = OLD.problem_id)"
    new_aspect = "(SELECT aspect FROM tracker_problem WHERE id = NEW.problem_id)"
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in tallies.TASK_COLUMNS)
    old_rechecks, new_rechecks = _counted_sql("OLD.id"), _counted_sql("NEW.id")
    subtract = ", ".join(
        [f"{name} = {name} - (CASE WHEN {subtracting.CONDITIONS[name]} THEN 1 ELSE 0 END)"
         for name in TASK_COUNTERS]
        + [f"{name} = {name} - ({old_rechecks[name]})" for name in RECHECK_COUNTERS]
    )
    return [
        f"""
CREATE TRIGGER tracker_task_tally_insert AFTER INSERT ON tracker_task BEGIN
    {_upsert_sql(v, _row_sql(v, 'NEW', 1, new_aspect, new_rechecks))};
END""",
        # 0026: subtracted by UPDATE (a flush in any order leaves nothing behind).
        f"""
CREATE TRIGGER tracker_task_tally_delete AFTER DELETE ON tracker_task BEGIN
    UPDATE tracker_tasktally SET {subtract}
    WHERE lead_unit_id = OLD.lead_unit_id AND inspection_id = OLD.inspection_id
      AND aspect = {old_aspect}
      AND deadline_month = {tallies._month_sql(v, 'OLD.deadline')};
    {tallies._delete_empty_sql(v, 'OLD', old_aspect)};
END""",
        # The re-checks still point at OLD.id (= NEW.id): counted once, moved if the key moves.
        f"""
CREATE TRIGGER tracker_task_tally_update
AFTER UPDATE OF {', '.join(tallies.TASK_COLUMNS)} ON tracker_task WHEN {changed} BEGIN
    {_upsert_sql(v, _row_sql(v, 'OLD', -1, old_aspect, old_rechecks) + ' UNION ALL '
                 + _row_sql(v, 'NEW', 1, new_aspect, old_rechecks))};
    {tallies._delete_empty_sql(v, 'OLD', old_aspect)};
END""",
        f"""
CREATE TRIGGER tracker_problem_tally AFTER UPDATE OF aspect ON tracker_problem
WHEN OLD.aspect IS NOT NEW.aspect BEGIN
    {_problem_move_sql(v)};
    DELETE FROM tracker_tasktally WHERE total = 0 AND inspection_id = OLD.inspection_id
        AND aspect = OLD.aspect;
END""",
        f"""
CREATE TRIGGER tracker_recheck_tally_insert AFTER INSERT ON tracker_taskrecheck BEGIN
    {_sqlite_recheck_update('NEW', '+')};
END""",
        f"""
CREATE TRIGGER tracker_recheck_tally_delete AFTER DELETE ON tracker_taskrecheck BEGIN
    {_sqlite_recheck_update('OLD', '-')};
END""",
        f"""
CREATE TRIGGER tracker_recheck_tally_update AFTER UPDATE OF state, task_id
ON tracker_taskrecheck WHEN OLD.state IS NOT NEW.state OR OLD.task_id IS NOT NEW.task_id BEGIN
    {_sqlite_recheck_update('OLD', '-')};
    {_sqlite_recheck_update('NEW', '+')};
END""",
    ]


def _sqlite_install(schema_editor) -> None:
    for name in SQLITE_TASK_TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}", params=None)
    for sql in _sqlite_sql():
        schema_editor.execute(sql, params=None)


def _sqlite_uninstall(schema_editor) -> None:
    for name in SQLITE_TASK_TRIGGERS + SQLITE_RECHECK_TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}", params=None)
    for sql in tallies._sqlite_sql():
        if "CREATE TRIGGER tracker_task_tally_delete" not in sql:
            schema_editor.execute(sql, params=None)
    schema_editor.execute(subtracting._subtracting_trigger(), params=None)


# --- The operations --------------------------------------------------------------------------

def install_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _pg_install(schema_editor)
    elif vendor == "sqlite":
        _sqlite_install(schema_editor)
    else:
        raise RuntimeError(f"TaskTally triggers are written for PostgreSQL and SQLite, not {vendor}")
    # The re-checks as they stand: counted once, then kept by the triggers.
    schema_editor.execute(_recount_rechecks_sql(vendor), params=None)


def remove_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _pg_uninstall(schema_editor)
    else:
        _sqlite_uninstall(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("tracker", "0030_assigned_notice"),
    ]

    # Adding columns with a default rebuilds tracker_tasktally on SQLite, which the triggers
    # that write it do not survive: saved and restored around it (tracker.migrations._sqlite_triggers).
    operations = [
        migrations.RunPython(sqlite_triggers_off, sqlite_triggers_on),
        migrations.AddField(
            model_name="tasktally",
            name="recheck_done",
            field=models.IntegerField(default=0, verbose_name="回头看已确认"),
        ),
        migrations.AddField(
            model_name="tasktally",
            name="recheck_due",
            field=models.IntegerField(default=0, verbose_name="回头看待办"),
        ),
        migrations.AddField(
            model_name="tasktally",
            name="recheck_failed",
            field=models.IntegerField(default=0, verbose_name="回头看未通过"),
        ),
        migrations.RunPython(sqlite_triggers_on, sqlite_triggers_off),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
