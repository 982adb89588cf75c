"""Keeping SQLite's triggers through a table rebuild (a helper for migrations, not one: the
migration loader skips modules whose names begin with an underscore).

On SQLite, adding a NOT NULL column, a check or a foreign key, and removing a column, rebuilds
the table (create a copy, drop, rename). The tally triggers of migrations 0013/0014 (on
tracker_task, tracker_taskevent and the tables that read them) would break the rename or be
dropped with the old table. A migration that rebuilds such a table runs `sqlite_triggers_off`
before and `sqlite_triggers_on` after (each as the other's reverse), so the triggers come back
unchanged and the counts stay exactly as they were. PostgreSQL alters tables in place and keeps
its triggers: both do nothing there.
"""

_SAVED_TRIGGERS: dict[str, list[tuple[str, str]]] = {}


def sqlite_triggers_off(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        saved = _SAVED_TRIGGERS[connection.alias] = list(cursor.fetchall())
        for name, _ in saved:
            cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')


def sqlite_triggers_on(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for _, sql in _SAVED_TRIGGERS.pop(connection.alias, []):
            cursor.execute(sql)
