"""EventTally and the triggers that keep it exact (see tracker/models/tallies_events.py)."""

import django.db.models.deletion
from django.db import migrations, models



# The history's local day is Asia/Shanghai (settings.TIME_ZONE): UTC+8 all year, no DST.
ZONE = "Asia/Shanghai"
SQLITE_SHIFT = "'+8 hours'"

# What one history row counts (the same rules as tracker.figures.trend's scan).
COUNTS = {
    "created": "CASE WHEN {e}.action = 'create' THEN 1 ELSE 0 END",
    "closed": "CASE WHEN {e}.to_status = 'completed' AND {e}.from_status <> 'completed' "
              "THEN 1 ELSE 0 END",
    "reopened": "CASE WHEN {e}.from_status = 'completed' AND {e}.to_status <> 'completed' "
                "THEN 1 ELSE 0 END",
}
COUNTING = ("({e}.action = 'create' OR ({e}.to_status = 'completed') "
            "<> ({e}.from_status = 'completed'))")
KEY = "(lead_unit_id, inspection_id, period, start)"
COLUMNS = "(lead_unit_id, inspection_id, period, start, created, closed, reopened)"
ADD = ("ON CONFLICT " + KEY + " DO UPDATE SET created = tracker_eventtally.created + "
       "excluded.created, closed = tracker_eventtally.closed + excluded.closed, "
       "reopened = tracker_eventtally.reopened + excluded.reopened")


# --- PostgreSQL: statement triggers over transition tables ---------------------------------

def pg_contributions(events: str, tasks: str) -> str:
    """Counts per key of the history rows `events`, keyed by the lead unit and inspection in
    `tasks` (a relation with id, lead_unit_id, inspection_id)."""
    sums = ", ".join(f"SUM({sql.format(e='e')}) AS {name}" for name, sql in COUNTS.items())
    local = f"(e.at AT TIME ZONE '{ZONE}')"
    return f"""
        SELECT t.lead_unit_id, t.inspection_id, p.period, p.start, {sums}
        FROM {events} e JOIN {tasks} t ON t.id = e.task_id
        CROSS JOIN LATERAL (VALUES ('month', date_trunc('month', {local})::date),
                                   ('week', date_trunc('week', {local})::date))
             AS p(period, start)
        WHERE {COUNTING.format(e='e')}
        GROUP BY 1, 2, 3, 4"""


def pg_add(events: str, tasks: str) -> str:
    return f"INSERT INTO tracker_eventtally {COLUMNS} {pg_contributions(events, tasks)} {ADD};"


def pg_subtract(events: str, tasks: str) -> str:
    """Take the counts back, and drop the rows left at zero."""
    return f"""
        WITH c AS ({pg_contributions(events, tasks)}),
        u AS (UPDATE tracker_eventtally a SET created = a.created - c.created,
                  closed = a.closed - c.closed, reopened = a.reopened - c.reopened
              FROM c WHERE (a.lead_unit_id, a.inspection_id, a.period, a.start)
                         = (c.lead_unit_id, c.inspection_id, c.period, c.start)
              RETURNING a.id, a.created, a.closed, a.reopened)
        SELECT array_agg(id) INTO emptied FROM u
        WHERE created = 0 AND closed = 0 AND reopened = 0;
        DELETE FROM tracker_eventtally WHERE id = ANY(emptied);"""


MOVED = """(SELECT {side}.id, {side}.lead_unit_id, {side}.inspection_id
            FROM old_tasks o JOIN new_tasks n ON n.id = o.id
            WHERE (o.lead_unit_id, o.inspection_id) IS DISTINCT FROM
                  (n.lead_unit_id, n.inspection_id))"""

PG_FUNCTIONS = {
    "tracker_eventtally_add": pg_add("new_events", "tracker_task"),
    "tracker_eventtally_subtract": pg_subtract("old_events", "tracker_task"),
    "tracker_eventtally_change": pg_subtract("old_events", "tracker_task")
    + pg_add("new_events", "tracker_task"),
    "tracker_eventtally_move": "IF EXISTS " + MOVED.format(side="n") + " THEN "
    + pg_subtract("tracker_taskevent", MOVED.format(side="o"))
    + pg_add("tracker_taskevent", MOVED.format(side="n")) + " END IF;",
    # TRUNCATE, unless the same statement truncates the counts too (Django's flush between
    # transactional tests lists every table): then they are in use, and DELETE empties them.
    "tracker_eventtally_truncate": "BEGIN TRUNCATE tracker_eventtally; EXCEPTION WHEN "
    "object_in_use THEN DELETE FROM tracker_eventtally; END;",
}
PG_TRIGGERS = [
    ("tracker_eventtally_add", "AFTER INSERT ON tracker_taskevent "
     "REFERENCING NEW TABLE AS new_events"),
    ("tracker_eventtally_subtract", "AFTER DELETE ON tracker_taskevent "
     "REFERENCING OLD TABLE AS old_events"),
    ("tracker_eventtally_change", "AFTER UPDATE ON tracker_taskevent "
     "REFERENCING OLD TABLE AS old_events NEW TABLE AS new_events"),
    ("tracker_eventtally_move", "AFTER UPDATE ON tracker_task "
     "REFERENCING OLD TABLE AS old_tasks NEW TABLE AS new_tasks"),
    ("tracker_eventtally_truncate", "AFTER TRUNCATE ON tracker_taskevent"),
]


def pg_install(cursor) -> None:
    for name, body in PG_FUNCTIONS.items():
        cursor.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                       f"DECLARE emptied bigint[]; BEGIN {body} RETURN NULL; END $$;")
    for name, when in PG_TRIGGERS:
        cursor.execute(f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION {name}();")
    cursor.execute(pg_add("tracker_taskevent", "tracker_task"))  # the history so far


def pg_uninstall(cursor) -> None:
    for name, when in PG_TRIGGERS:
        table = when.split(" ON ")[1].split()[0]
        cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table};")
    for name in PG_FUNCTIONS:
        cursor.execute(f"DROP FUNCTION IF EXISTS {name}();")


# --- SQLite: row triggers -----------------------------------------------------------------

def sqlite_periods(e: str, where: str) -> str:
    """(period, start, created, closed, reopened) of the counting history rows `e`, once per
    period kind."""
    counts = ", ".join(f"{sql.format(e=e)} AS {name}" for name, sql in COUNTS.items())
    starts = {"month": f"date({e}.at, {SQLITE_SHIFT}, 'start of month')",
              "week": f"date({e}.at, {SQLITE_SHIFT}, '-6 days', 'weekday 1')"}
    source = "" if e in ("NEW", "OLD") else f" FROM tracker_taskevent {e}"
    return " UNION ALL ".join(
        f"SELECT '{period}' AS period, {start} AS start, {counts}{source} "
        f"WHERE {COUNTING.format(e=e)} AND {where}"
        for period, start in starts.items())


def sqlite_add(e: str, unit: str, inspection: str, where: str) -> str:
    return (f"INSERT INTO tracker_eventtally {COLUMNS} SELECT {unit}, {inspection}, period, "
            f"start, SUM(created), SUM(closed), SUM(reopened) FROM ({sqlite_periods(e, where)}) "
            f"WHERE true GROUP BY period, start {ADD};")


def sqlite_subtract(e: str, unit: str, inspection: str, where: str) -> str:
    # No alias for the updated table: SQLite refuses one inside a trigger.
    return f"""UPDATE tracker_eventtally SET created = tracker_eventtally.created - c.created,
            closed = tracker_eventtally.closed - c.closed,
            reopened = tracker_eventtally.reopened - c.reopened
        FROM (SELECT period, start, SUM(created) AS created, SUM(closed) AS closed,
                     SUM(reopened) AS reopened FROM ({sqlite_periods(e, where)})
              GROUP BY period, start) AS c
        WHERE tracker_eventtally.lead_unit_id = {unit}
          AND tracker_eventtally.inspection_id = {inspection}
          AND tracker_eventtally.period = c.period AND tracker_eventtally.start = c.start;
        DELETE FROM tracker_eventtally WHERE created = 0 AND closed = 0 AND reopened = 0
          AND lead_unit_id = {unit} AND inspection_id = {inspection};"""


def _task_of(e: str, column: str) -> str:
    return f"(SELECT {column} FROM tracker_task WHERE id = {e}.task_id)"


def _row(verb, e: str) -> str:
    return verb(e, _task_of(e, "lead_unit_id"), _task_of(e, "inspection_id"), "1")


SQLITE_TRIGGERS = {
    "tracker_eventtally_add": ("AFTER INSERT ON tracker_taskevent", _row(sqlite_add, "NEW")),
    "tracker_eventtally_subtract": ("AFTER DELETE ON tracker_taskevent",
                                    _row(sqlite_subtract, "OLD")),
    "tracker_eventtally_change": ("AFTER UPDATE ON tracker_taskevent",
                                  _row(sqlite_subtract, "OLD") + _row(sqlite_add, "NEW")),
    "tracker_eventtally_move": (
        "AFTER UPDATE OF lead_unit_id, inspection_id ON tracker_task WHEN "
        "OLD.lead_unit_id <> NEW.lead_unit_id OR OLD.inspection_id <> NEW.inspection_id",
        sqlite_subtract("e", "OLD.lead_unit_id", "OLD.inspection_id", "e.task_id = NEW.id")
        + sqlite_add("e", "NEW.lead_unit_id", "NEW.inspection_id", "e.task_id = NEW.id"),
    ),
}


def sqlite_install(cursor) -> None:
    for name, (when, body) in SQLITE_TRIGGERS.items():
        cursor.execute(f"CREATE TRIGGER {name} {when} BEGIN {body} END;")
    cursor.execute(
        f"INSERT INTO tracker_eventtally {COLUMNS} SELECT t.lead_unit_id, t.inspection_id, "
        f"period, start, SUM(created), SUM(closed), SUM(reopened) FROM "
        f"({sqlite_periods('e', 'true').replace(' AS start, ', ' AS start, e.task_id, ')}) h "
        f"JOIN tracker_task t ON t.id = h.task_id GROUP BY 1, 2, 3, 4;")


def sqlite_uninstall(cursor) -> None:
    for name in SQLITE_TRIGGERS:
        cursor.execute(f"DROP TRIGGER IF EXISTS {name};")


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        if vendor == "postgresql":
            pg_install(cursor)
        elif vendor == "sqlite":
            sqlite_install(cursor)
        else:
            raise NotImplementedError(f"EventTally triggers for {vendor}")


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        if vendor == "postgresql":
            pg_uninstall(cursor)
        elif vendor == "sqlite":
            sqlite_uninstall(cursor)


class Migration(migrations.Migration):

    dependencies = [
        ('tracker', '0013_task_tallies'),
    ]

    operations = [
        migrations.CreateModel(
            name='EventTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('period', models.CharField(choices=[('week', '周'), ('month', '月')], max_length=5, verbose_name='周期')),
                ('start', models.DateField(verbose_name='周期起始日')),
                ('created', models.IntegerField(default=0, verbose_name='新增任务')),
                ('closed', models.IntegerField(default=0, verbose_name='销号')),
                ('reopened', models.IntegerField(default=0, verbose_name='重新打开')),
                ('inspection', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tracker.inspection', verbose_name='巡视巡察')),
                ('lead_unit', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tracker.unit', verbose_name='牵头单位')),
            ],
            options={
                'verbose_name': '历史计数',
                'verbose_name_plural': '历史计数',
                'indexes': [models.Index(fields=['period', 'lead_unit', 'start'], name='eventtally_scope')],
                'constraints': [models.UniqueConstraint(fields=('lead_unit', 'inspection', 'period', 'start'), name='eventtally_key')],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
