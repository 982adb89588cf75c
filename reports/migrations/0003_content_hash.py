"""SourceReport.content_hash: reports are told apart by their normalised text, not their bytes.

Existing rows are fingerprinted from their stored (cleaned) text. Where two existing rows
already hold the same content, the first imported keeps the fingerprint and the later ones stay
blank: no row is deleted, and a new import of that content finds the first."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    from reports.parsing.fingerprint import content_fingerprint

    SourceReport = apps.get_model("reports", "SourceReport")
    seen = set()
    for report in SourceReport.objects.order_by("imported_at", "id").only("id", "text").iterator():
        fingerprint = content_fingerprint(report.text)
        if fingerprint in seen:
            continue
        seen.add(fingerprint)
        SourceReport.objects.filter(pk=report.pk).update(content_hash=fingerprint)


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0002_figure_category_source_confidence"),
        ("tracker", "0010_ledger_jobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="sourcereport",
            name="content_hash",
            field=models.CharField(blank=True, default="", max_length=64, verbose_name="正文指纹"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="sourcereport",
            constraint=models.UniqueConstraint(
                condition=models.Q(("content_hash", ""), _negated=True),
                fields=("content_hash",),
                name="sourcereport_content_hash_unique",
            ),
        ),
    ]
