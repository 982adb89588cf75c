"""Maintained counts of the history (the trend's source): created, closed (销号) and reopened
tasks per lead unit, inspection and week or month.

The database keeps them, in the same transaction as the rows they count (migration
0014_event_tallies installs the triggers):

- a history row inserted (tracker.services.history.record_event, or the bench's COPY) adds
  to the row of its task's lead unit and inspection, for the week and the month of its time
  (Asia/Shanghai);
- a history row deleted or changed takes its counts back (history is append-only, but the
  counts stay exact whatever writes it);
- a task whose lead unit or inspection changes moves the counts of all its history rows
  from the old key to the new one;
- TRUNCATE of the history empties the counts.

PostgreSQL uses statement-level triggers with transition tables (one grouped upsert per
statement, so a COPY of millions of rows costs one aggregate); SQLite uses row triggers.
tracker.figures.trend.tally_check() recounts from the history and lists any difference.
"""

from django.db import models


class TallyPeriod(models.TextChoices):
    WEEK = "week", "周"
    MONTH = "month", "月"


class EventTally(models.Model):
    # No database constraint: the rows are written by triggers and emptied with the history
    # (TRUNCATE), never through the ORM; the foreign keys serve joins and filters.
    lead_unit = models.ForeignKey(
        "tracker.Unit", verbose_name="牵头单位", on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+",
    )
    inspection = models.ForeignKey(
        "tracker.Inspection", verbose_name="巡视巡察", on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+",
    )
    period = models.CharField("周期", max_length=5, choices=TallyPeriod.choices)
    start = models.DateField("周期起始日")
    created = models.IntegerField("新增任务", default=0)
    closed = models.IntegerField("销号", default=0)
    reopened = models.IntegerField("重新打开", default=0)

    class Meta:
        verbose_name = "历史计数"
        verbose_name_plural = "历史计数"
        constraints = [
            models.UniqueConstraint(
                fields=["lead_unit", "inspection", "period", "start"],
                name="eventtally_key",
            ),
        ]
        indexes = [
            # The trend over a scope: one period kind, the lead units the user sees.
            models.Index(fields=["period", "lead_unit", "start"], name="eventtally_scope"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_unit_id}/{self.inspection_id} {self.period} {self.start}"
