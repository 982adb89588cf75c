"""Deadline moves in real columns.

Until now an approved extension stored {"from", "to"} in `data` and an edit stored
{"deadline": {"from", "to"}, ...}. Both move into `deadline_from` / `deadline_to`; `data` keeps
the other details. A task created without a deadline and dated later had its original
deadline set by the dating edit: its original deadline is the one it was created with (none),
and the dating edit is a change.
"""

import datetime as dt

from django.db import migrations, models

EXTEND_DEADLINE, EDIT = "extend_deadline", "edit"


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def deadlines_to_columns(apps, schema_editor):
    TaskEvent = apps.get_model("tracker", "TaskEvent")
    Task = apps.get_model("tracker", "Task")
    moved, first_move = [], {}
    events = TaskEvent.objects.filter(action__in=[EXTEND_DEADLINE, EDIT]).order_by("at", "id")
    for event in events.iterator():
        data = dict(event.data or {})
        if event.action == EXTEND_DEADLINE:
            change = {"from": data.pop("from", None), "to": data.pop("to", None)}
        elif "deadline" in data:
            change = data.pop("deadline") or {}
        else:
            continue
        event.deadline_from, event.deadline_to = _date(change.get("from")), _date(change.get("to"))
        event.data = data
        moved.append(event)
        first_move.setdefault(event.task_id, event)
    TaskEvent.objects.bulk_update(moved, ["deadline_from", "deadline_to", "data"], batch_size=500)
    created_undated = [
        task_id for task_id, event in first_move.items() if event.deadline_from is None
    ]
    Task.objects.filter(pk__in=created_undated).update(original_deadline=None)


def deadlines_to_json(apps, schema_editor):
    TaskEvent = apps.get_model("tracker", "TaskEvent")
    Task = apps.get_model("tracker", "Task")
    moved, first_move = [], {}
    events = TaskEvent.objects.filter(deadline_to__isnull=False).order_by("at", "id")
    for event in events.iterator():
        change = {"from": _iso(event.deadline_from), "to": _iso(event.deadline_to)}
        if event.action == EXTEND_DEADLINE:
            event.data = {**event.data, **change}
        else:
            event.data = {"deadline": change, **event.data}
        first_move.setdefault(event.task_id, event.deadline_to)
        event.deadline_from = event.deadline_to = None
        moved.append(event)
    TaskEvent.objects.bulk_update(moved, ["deadline_from", "deadline_to", "data"], batch_size=500)
    # The old meaning: the first deadline a task ever had is its original one.
    for task in Task.objects.filter(
        pk__in=list(first_move), original_deadline__isnull=True, deadline__isnull=False
    ):
        Task.objects.filter(pk=task.pk).update(original_deadline=first_move[task.pk])


class Migration(migrations.Migration):

    dependencies = [
        ('tracker', '0004_loginfailure'),
    ]

    operations = [
        migrations.AddField(
            model_name='taskevent',
            name='deadline_from',
            field=models.DateField(blank=True, null=True, verbose_name='原完成时限'),
        ),
        migrations.AddField(
            model_name='taskevent',
            name='deadline_to',
            field=models.DateField(blank=True, null=True, verbose_name='新完成时限'),
        ),
        migrations.RunPython(deadlines_to_columns, deadlines_to_json),
        migrations.AddIndex(
            model_name='taskevent',
            index=models.Index(condition=models.Q(('deadline_to__isnull', False)), fields=['task', 'at'], name='taskevent_deadline_moves'),
        ),
        migrations.AddConstraint(
            model_name='taskevent',
            constraint=models.CheckConstraint(condition=models.Q(('deadline_from__isnull', True), ('deadline_to__isnull', False), _connector='OR'), name='taskevent_deadline_move_lands_on_a_date'),
        ),
        migrations.AddConstraint(
            model_name='taskevent',
            constraint=models.CheckConstraint(condition=models.Q(('deadline_to__isnull', True), ('action__in', ('extend_deadline', 'edit')), _connector='OR'), name='taskevent_deadline_only_on_moves'),
        ),
        migrations.AddConstraint(
            model_name='taskevent',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('action', 'extend_deadline'), _negated=True), models.Q(('deadline_from__isnull', False), ('deadline_to__isnull', False)), _connector='OR'), name='taskevent_extension_moves_deadline'),
        ),
    ]
