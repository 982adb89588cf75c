"""签收 (acknowledgement): who acknowledged a task's assignment, and when; what awaits it.

Tasks that exist before this migration count as acknowledged when they were created (by
nobody in particular: the ledger predates 签收), so an old ledger does not start reminding.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from tracker.migrations._sqlite_triggers import sqlite_triggers_off, sqlite_triggers_on


AWAITING_XOR_ACKNOWLEDGED = models.CheckConstraint(
    condition=models.Q(ack_requested_at__isnull=True)
    | models.Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True),
    name="task_ack_awaiting_xor_acknowledged",
)


def acknowledge_existing_tasks(apps, schema_editor):
    Task = apps.get_model("tracker", "Task")
    Task.objects.filter(acknowledged_at__isnull=True, ack_requested_at__isnull=True).update(
        acknowledged_at=models.F("created_at")
    )


class Migration(migrations.Migration):

    dependencies = [
        ('tracker', '0020_task_list_indexes'),
    ]

    operations = [
        migrations.RunPython(sqlite_triggers_off, sqlite_triggers_on),
        migrations.AddField(
            model_name='task',
            name='ack_requested_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='待签收起始时间'),
        ),
        migrations.AddField(
            model_name='task',
            name='acknowledged_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='签收时间'),
        ),
        migrations.AddField(
            model_name='task',
            name='acknowledged_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='签收人'),
        ),
        migrations.AlterField(
            model_name='taskevent',
            name='action',
            field=models.CharField(choices=[('create', '创建任务'), ('start', '启动整改'), ('progress', '填报进展'), ('submit', '提交销号'), ('close', '审核销号'), ('send_back', '退回整改'), ('mark_basically_completed', '认定基本完成'), ('mark_long_term', '转为长期坚持'), ('reopen', '重新打开'), ('extend_deadline', '延期'), ('edit', '修改任务'), ('notice_issue', '下发督办单'), ('notice_reply', '回复督办单'), ('acknowledge', '签收')], max_length=30, verbose_name='操作'),
        ),
        migrations.AddIndex(
            model_name='task',
            index=models.Index(condition=models.Q(('ack_requested_at__isnull', False)), fields=['ack_requested_at'], name='task_awaiting_ack'),
        ),
        migrations.AddConstraint(model_name="task", constraint=AWAITING_XOR_ACKNOWLEDGED),
        migrations.RunPython(sqlite_triggers_on, sqlite_triggers_off),
        migrations.RunPython(acknowledge_existing_tasks, migrations.RunPython.noop,
                             elidable=True),
    ]
