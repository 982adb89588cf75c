"""TaskMonthTally: the maintained counts without the aspect (see tracker/models/tallies.py).

A rollup's cost is the number of tally rows it reads. Keyed by (lead unit, inspection, aspect,
deadline month), TaskTally has a row for most tasks in a ledger spread over many months and
aspects (640,000 rows for the bench's 1,000,000 tasks); without the aspect, a third of that.
Every rollup not grouped by aspect reads TaskMonthTally.

Kept by the same triggers as TaskTally (0013, 0031), in the same statements and by the same
rule, with the aspect left out of the key; so a problem's aspect changing does not touch it.
The table is filled once from TaskTally here. Unapplying restores 0031's triggers.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

rechecks = importlib.import_module("tracker.migrations.0031_recheck_tallies")
tallies = rechecks.tallies  # 0013
subtracting = rechecks.subtracting  # 0026

FINE_KEY = "lead_unit_id, inspection_id, aspect, deadline_month"
MONTH_KEY = "lead_unit_id, inspection_id, deadline_month"
COUNTERS = rechecks.TASK_COUNTERS + rechecks.RECHECK_COUNTERS


def _month_upsert_sql(vendor: str, source: str) -> str:
    """0031's upsert into TaskTally, keyed without the aspect, into TaskMonthTally."""
    sql = rechecks._upsert_sql(vendor, "SOURCE")
    for old, new in [
        (f"INSERT INTO tracker_tasktally ({FINE_KEY}, ",
         f"INSERT INTO tracker_taskmonthtally ({MONTH_KEY}, "),
        ("SELECT k.lead_unit_id, k.inspection_id, k.aspect, k.deadline_month, ",
         "SELECT k.lead_unit_id, k.inspection_id, k.deadline_month, "),
        ("GROUP BY k.lead_unit_id, k.inspection_id, k.aspect, k.deadline_month ",
         "GROUP BY k.lead_unit_id, k.inspection_id, k.deadline_month "),
        ("ORDER BY k.lead_unit_id, k.inspection_id, k.aspect, k.deadline_month ",
         "ORDER BY k.lead_unit_id, k.inspection_id, k.deadline_month "),
        (f"ON CONFLICT ({FINE_KEY})", f"ON CONFLICT ({MONTH_KEY})"),
    ]:
        assert sql.count(old) == 1, old
        sql = sql.replace(old, new)
    sql = sql.replace("tracker_tasktally.", "tracker_taskmonthtally.")
    assert "tracker_tasktally" not in sql and sql.count("SOURCE") == 1
    return sql.replace("SOURCE", source)


def _month_row_sql(vendor: str, row: str, sign: int, rechecks_sql: dict[str, str]) -> str:
    # The source rows carry an aspect the month key does not read.
    return rechecks._row_sql(vendor, row, sign, "''", rechecks_sql)


def _month_delete_empty_sql(vendor: str, row: str) -> str:
    return (
        f"DELETE FROM tracker_taskmonthtally WHERE total = 0 "
        f"AND lead_unit_id = {row}.lead_unit_id AND inspection_id = {row}.inspection_id "
        f"AND deadline_month = {tallies._month_sql(vendor, f'{row}.deadline')}"
    )


# --- PostgreSQL ------------------------------------------------------------------------------

HELD = {"recheck_due": "r_due", "recheck_done": "r_done", "recheck_failed": "r_failed"}


def _pg_task_function() -> str:
    """0031's function, each upsert and clean-up followed by the same for the month table."""
    v = "postgresql"
    fine = rechecks._pg_task_function()
    for row_sql, month in [
        (rechecks._row_sql(v, "NEW", 1, "new_aspect", HELD),
         _month_upsert_sql(v, _month_row_sql(v, "NEW", 1, HELD))),
        (rechecks._row_sql(v, "OLD", -1, "old_aspect", HELD),
         _month_upsert_sql(v, _month_row_sql(v, "OLD", -1, HELD))),
        (rechecks._row_sql(v, "OLD", -1, "old_aspect", HELD) + " UNION ALL "
         + rechecks._row_sql(v, "NEW", 1, "new_aspect", HELD),
         _month_upsert_sql(v, _month_row_sql(v, "OLD", -1, HELD) + " UNION ALL "
                           + _month_row_sql(v, "NEW", 1, HELD))),
    ]:
        statement = rechecks._upsert_sql(v, row_sql) + ";"
        assert fine.count(statement) == 1, row_sql
        fine = fine.replace(statement, f"{statement}\n        {month};")
    empty = tallies._delete_empty_sql(v, "OLD", "old_aspect") + ";"
    assert fine.count(empty) == 2
    return fine.replace(empty, f"{empty}\n        {_month_delete_empty_sql(v, 'OLD')};")


def _pg_month_recheck_change(rows: str) -> str:
    """After 0031's UPDATE of TaskTally (the tasks already locked): the same for the month."""
    v = "postgresql"
    sums = ", ".join(
        f"SUM(CASE WHEN {rechecks._in_states('r.state', name)} THEN r.sign ELSE 0 END) "
        f"AS {name}"
        for name in rechecks.RECHECK_COUNTERS
    )
    sets = ", ".join(f"{name} = a.{name} + c.{name}" for name in rechecks.RECHECK_COUNTERS)
    changed = " OR ".join(f"c.{name} <> 0" for name in rechecks.RECHECK_COUNTERS)
    return f"""
    UPDATE tracker_taskmonthtally AS a SET {sets} FROM (
        SELECT t.lead_unit_id, t.inspection_id,
               {tallies._month_sql(v, 't.deadline')} AS deadline_month, {sums}
        FROM ({rows}) AS r JOIN tracker_task AS t ON t.id = r.task_id
        GROUP BY 1, 2, 3
    ) AS c
    WHERE (a.lead_unit_id, a.inspection_id, a.deadline_month)
        = (c.lead_unit_id, c.inspection_id, c.deadline_month)
      AND ({changed});"""


RECHECK_ROWS = {
    "tracker_recheck_tally_insert": "SELECT task_id, state, 1 AS sign FROM new_rechecks",
    "tracker_recheck_tally_delete": "SELECT task_id, state, -1 AS sign FROM old_rechecks",
    "tracker_recheck_tally_update": "SELECT task_id, state, -1 AS sign FROM old_rechecks "
    "UNION ALL SELECT task_id, state, 1 FROM new_rechecks",
}
ZERO_RECHECKS = ", ".join(f"{name} = 0" for name in rechecks.RECHECK_COUNTERS)


def _pg_functions(with_month: bool) -> dict[str, str]:
    """The trigger functions' bodies (BEGIN … END), with or without the month table."""
    bodies = {}
    for name, body in rechecks.PG_RECHECK_FUNCTIONS.items():
        if name in RECHECK_ROWS and with_month:
            body += _pg_month_recheck_change(RECHECK_ROWS[name])
        elif with_month:  # the re-checks truncated alone
            body += f" UPDATE tracker_taskmonthtally SET {ZERO_RECHECKS};"
        bodies[name] = body
    bodies["tracker_task_tally_truncate"] = "DELETE FROM tracker_tasktally;" + (
        " DELETE FROM tracker_taskmonthtally;" if with_month else "")
    return bodies


def _pg_install(schema_editor, *, with_month: bool) -> None:
    task_function = _pg_task_function() if with_month else rechecks._pg_task_function()
    schema_editor.execute(task_function, params=None)
    for name, body in _pg_functions(with_month).items():
        schema_editor.execute(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {body} RETURN NULL; END $$",
            params=None,
        )


# --- SQLite ----------------------------------------------------------------------------------

def _sqlite_month_recheck_update(row: str, sign: str) -> str:
    v = "sqlite"
    sets = ", ".join(
        f"{name} = {name} {sign} "
        f"(CASE WHEN {rechecks._in_states(f'{row}.state', name)} THEN 1 ELSE 0 END)"
        for name in rechecks.RECHECK_COUNTERS
    )
    return (
        f"UPDATE tracker_taskmonthtally SET {sets} "
        f"WHERE (lead_unit_id, inspection_id, deadline_month) = ("
        f"SELECT t.lead_unit_id, t.inspection_id, {tallies._month_sql(v, 't.deadline')} "
        f"FROM tracker_task AS t WHERE t.id = {row}.task_id)"
    )


def _sqlite_month_statements() -> dict[str, list[str]]:
    """What each of 0031's SQLite triggers also does for the month table."""
    v = "sqlite"
    old_rechecks, new_rechecks = rechecks._counted_sql("OLD.id"), rechecks._counted_sql("NEW.id")
    subtract = ", ".join(
        [f"{name} = {name} - (CASE WHEN {subtracting.CONDITIONS[name]} THEN 1 ELSE 0 END)"
         for name in rechecks.TASK_COUNTERS]
        + [f"{name} = {name} - ({old_rechecks[name]})" for name in rechecks.RECHECK_COUNTERS]
    )
    return {
        "tracker_task_tally_insert": [
            _month_upsert_sql(v, _month_row_sql(v, "NEW", 1, new_rechecks)),
        ],
        # Subtracted by UPDATE, as 0026 does for TaskTally (a flush in any order).
        "tracker_task_tally_delete": [
            f"UPDATE tracker_taskmonthtally SET {subtract} "
            f"WHERE lead_unit_id = OLD.lead_unit_id AND inspection_id = OLD.inspection_id "
            f"AND deadline_month = {tallies._month_sql(v, 'OLD.deadline')}",
            _month_delete_empty_sql(v, "OLD"),
        ],
        "tracker_task_tally_update": [
            _month_upsert_sql(v, _month_row_sql(v, "OLD", -1, old_rechecks) + " UNION ALL "
                              + _month_row_sql(v, "NEW", 1, old_rechecks)),
            _month_delete_empty_sql(v, "OLD"),
        ],
        "tracker_problem_tally": [],  # the aspect is not in the month key
        "tracker_recheck_tally_insert": [_sqlite_month_recheck_update("NEW", "+")],
        "tracker_recheck_tally_delete": [_sqlite_month_recheck_update("OLD", "-")],
        "tracker_recheck_tally_update": [_sqlite_month_recheck_update("OLD", "-"),
                                         _sqlite_month_recheck_update("NEW", "+")],
    }


def _trigger_name(sql: str) -> str:
    return sql.split("CREATE TRIGGER", 1)[1].split()[0]


def _sqlite_sql() -> list[str]:
    extra = _sqlite_month_statements()
    statements = []
    for sql in rechecks._sqlite_sql():
        body = sql.rstrip()
        assert body.endswith("END")
        added = "".join(f"    {statement};\n" for statement in extra[_trigger_name(sql)])
        statements.append(f"{body[:-3]}{added}END")
    return statements


def _sqlite_drop_all(schema_editor) -> None:
    for name in rechecks.SQLITE_TASK_TRIGGERS + rechecks.SQLITE_RECHECK_TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}", params=None)


# --- The operations --------------------------------------------------------------------------

FILL = (
    f"INSERT INTO tracker_taskmonthtally ({MONTH_KEY}, {', '.join(COUNTERS)}) "
    f"SELECT {MONTH_KEY}, {', '.join(f'SUM({name})' for name in COUNTERS)} "
    f"FROM tracker_tasktally GROUP BY {MONTH_KEY}"
)


def install_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _pg_install(schema_editor, with_month=True)
    elif vendor == "sqlite":
        _sqlite_drop_all(schema_editor)
        for sql in _sqlite_sql():
            schema_editor.execute(sql, params=None)
    else:
        raise RuntimeError(f"TaskTally triggers are written for PostgreSQL and SQLite, not {vendor}")
    # The counts as they stand (TaskTally is exact), summed over the aspects.
    schema_editor.execute(FILL, params=None)


def remove_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _pg_install(schema_editor, with_month=False)
    else:
        _sqlite_drop_all(schema_editor)
        for sql in rechecks._sqlite_sql():
            schema_editor.execute(sql, params=None)



class Migration(migrations.Migration):

    dependencies = [
        ('tracker', '0031_recheck_tallies'),
    ]

    operations = [
        migrations.CreateModel(
            name='TaskMonthTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('deadline_month', models.DateField(verbose_name='完成时限月份')),
                ('total', models.IntegerField(default=0, verbose_name='任务数')),
                ('not_started', models.IntegerField(default=0, verbose_name='未启动')),
                ('in_progress', models.IntegerField(default=0, verbose_name='整改中')),
                ('submitted', models.IntegerField(default=0, verbose_name='已提交待审核')),
                ('completed', models.IntegerField(default=0, verbose_name='已完成整改（已销号）')),
                ('basically_completed', models.IntegerField(default=0, verbose_name='基本完成整改')),
                ('long_term', models.IntegerField(default=0, verbose_name='长期坚持')),
                ('closed_on_time', models.IntegerField(default=0, verbose_name='按期销号')),
                ('lit', models.IntegerField(default=0, verbose_name='有灯色')),
                ('recheck_due', models.IntegerField(default=0, verbose_name='回头看待办')),
                ('recheck_done', models.IntegerField(default=0, verbose_name='回头看已确认')),
                ('recheck_failed', models.IntegerField(default=0, verbose_name='回头看未通过')),
                ('inspection', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tracker.inspection', verbose_name='巡视巡察')),
                ('lead_unit', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tracker.unit', verbose_name='牵头单位')),
            ],
            options={
                'verbose_name': '任务月计数',
                'verbose_name_plural': '任务月计数',
                'constraints': [models.UniqueConstraint(fields=('lead_unit', 'inspection', 'deadline_month'), name='taskmonthtally_key')],
            },
        ),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
