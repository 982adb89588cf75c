"""Evidence files sent with a 回头看 report (docs/rechecks.md): a nullable link from Evidence to
its TaskRecheck. A nullable column: ALTER TABLE ADD COLUMN on both databases, no table rebuild."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tracker', '0027_taskevent_lead_unit_moves'),
    ]

    operations = [
        migrations.AddField(
            model_name='evidence',
            name='recheck',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='evidence', to='tracker.taskrecheck', verbose_name='所属回头看'),
        ),
    ]
