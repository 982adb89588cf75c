"""Typed lead-unit moves in the history (TaskEvent.lead_unit_from / lead_unit_to).

Edits before this migration kept the move only as names in `data["lead_unit"]`. They are
filled in here: each task's moves are walked newest first, the newest move's new unit is the
task's lead unit now, and each move's old unit is the unit of that name when the name is
unique in the tree (so also the new unit of the move before it). A name that is not unique
leaves the old unit empty: that move is then not read by the as-of figures, which count the
task under its lead unit as the later history shows it (docs/scoring.md).
"""

from collections import defaultdict

import django.db.models.deletion
from django.db import migrations, models

from tracker.migrations._sqlite_triggers import sqlite_triggers_off, sqlite_triggers_on


def fill_typed_moves(apps, schema_editor):
    TaskEvent = apps.get_model("tracker", "TaskEvent")
    Task = apps.get_model("tracker", "Task")
    Unit = apps.get_model("tracker", "Unit")
    moves = list(
        TaskEvent.objects.filter(action="edit", data__has_key="lead_unit",
                                 lead_unit_from__isnull=True, lead_unit_to__isnull=True)
        .order_by("task_id", "-at", "-id").values("id", "task_id", "data")
    )
    if not moves:
        return
    ids_by_name = defaultdict(list)
    for pk, name in Unit.objects.values_list("id", "name"):
        ids_by_name[name].append(pk)
    unique = {name: ids[0] for name, ids in ids_by_name.items() if len(ids) == 1}
    leading_now = dict(
        Task.objects.filter(pk__in={m["task_id"] for m in moves}).values_list("id", "lead_unit_id")
    )
    task_id, to_id = None, None
    for move in moves:
        if move["task_id"] != task_id:  # the newest move of the next task
            task_id, to_id = move["task_id"], leading_now[move["task_id"]]
        change = move["data"]["lead_unit"]
        from_id = unique.get(change.get("from")) if isinstance(change, dict) else None
        TaskEvent.objects.filter(pk=move["id"]).update(lead_unit_from_id=from_id,
                                                       lead_unit_to_id=to_id)
        to_id = from_id  # the move before this one handed the task to this move's old unit


class Migration(migrations.Migration):

    dependencies = [
        ('tracker', '0026_sqlite_task_tally_delete'),
    ]

    # Adding the nullable columns is an ALTER TABLE on SQLite too; removing them (unapplying)
    # rebuilds tracker_taskevent, which the tally triggers do not survive: saved and restored.
    operations = [
        migrations.RunPython(sqlite_triggers_off, sqlite_triggers_on),
        migrations.AddField(
            model_name='taskevent',
            name='lead_unit_from',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tracker.unit', verbose_name='原牵头单位'),
        ),
        migrations.AddField(
            model_name='taskevent',
            name='lead_unit_to',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tracker.unit', verbose_name='新牵头单位'),
        ),
        migrations.AddIndex(
            model_name='taskevent',
            index=models.Index(condition=models.Q(('lead_unit_from__isnull', False)), fields=['task', 'at'], name='taskevent_lead_unit_moves'),
        ),
        migrations.RunPython(sqlite_triggers_on, sqlite_triggers_off),
        migrations.RunPython(fill_typed_moves, migrations.RunPython.noop, elidable=True),
    ]
