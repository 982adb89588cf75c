import datetime as dt

from django.db import models

# The deadline month of a task without a deadline. A real date (not NULL) so that the key is
# one unique constraint on both PostgreSQL and SQLite (where NULLs are always distinct), and
# before every month a deadline can take (deadlines.deadline_bounds).
NO_DEADLINE_MONTH = dt.date(1, 1, 1)


class TallyCounts(models.Model):
    """The counters both maintained tables keep, per key (任务计数)."""

    # No database-level foreign keys: the rows follow the tasks through triggers, and a unit or
    # an inspection without tasks may be deleted whatever the order of the statements.
    lead_unit = models.ForeignKey(
        "tracker.Unit", verbose_name="牵头单位", on_delete=models.DO_NOTHING,
        db_constraint=False, db_index=False, related_name="+",  # the key's index leads with it
    )
    inspection = models.ForeignKey(
        "tracker.Inspection", verbose_name="巡视巡察", on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+",
    )
    # The first day of the deadline's month; NO_DEADLINE_MONTH for a task without a deadline.
    deadline_month = models.DateField("完成时限月份")

    total = models.IntegerField("任务数", default=0)
    not_started = models.IntegerField("未启动", default=0)
    in_progress = models.IntegerField("整改中", default=0)
    submitted = models.IntegerField("已提交待审核", default=0)
    completed = models.IntegerField("已完成整改（已销号）", default=0)
    basically_completed = models.IntegerField("基本完成整改", default=0)
    long_term = models.IntegerField("长期坚持", default=0)
    closed_on_time = models.IntegerField("按期销号", default=0)
    lit = models.IntegerField("有灯色", default=0)
    # 回头看 (docs/rechecks.md) of these tasks, by state: due (待单位报告, 待督导确认),
    # confirmed (已确认), failed (未通过). Kept by triggers on tracker_taskrecheck too
    # (migration 0031_recheck_tallies), and moved with their task when its key changes.
    recheck_due = models.IntegerField("回头看待办", default=0)
    recheck_done = models.IntegerField("回头看已确认", default=0)
    recheck_failed = models.IntegerField("回头看未通过", default=0)

    class Meta:
        abstract = True


class TaskTally(TallyCounts):
    """Maintained counts of the tasks (任务计数), one row per (lead unit, inspection, aspect,
    deadline month): the rollups (tracker.figures.rollups) sum these rows instead of scanning
    the ledger.

    Written ONLY by database triggers on tracker_task, tracker_problem and tracker_taskrecheck
    (installed by migrations 0013_task_tallies, 0031_recheck_tallies and
    0032_task_month_tallies), in the same transaction as the change, so the counts are exact
    at every moment whatever writes the task: services, the admin, the Excel ledger, COPY, raw
    SQL. `manage.py tallies --check` compares them with a recount from the tasks, `--rebuild`
    recounts (tracker.figures.tallies).

    `lit` counts the tasks with a light (deadlines.has_light): overdue and due soon depend on
    today and are derived from it (the rollups read the current month's tasks directly).
    A row whose tasks are all gone is deleted by the trigger.
    """

    aspect = models.CharField("方面", max_length=200, blank=True)

    class Meta:
        verbose_name = "任务计数"
        verbose_name_plural = "任务计数"
        constraints = [
            models.UniqueConstraint(
                fields=["lead_unit", "inspection", "aspect", "deadline_month"],
                name="tasktally_key",
            ),
        ]

    def __str__(self) -> str:
        return (f"{self.lead_unit_id}/{self.inspection_id}/{self.aspect or '-'}/"
                f"{self.deadline_month:%Y-%m}: {self.total}")


class TaskMonthTally(TallyCounts):
    """The same counts without the aspect: one row per (lead unit, inspection, deadline
    month), kept by the same triggers in the same statements (migration
    0032_task_month_tallies). Every rollup not grouped by aspect reads these: a ledger's
    tasks fall into a few aspects per unit and month, so this table has a fraction of
    TaskTally's rows (a third, in the bench's ledger), and a rollup's cost is its rows."""

    class Meta:
        verbose_name = "任务月计数"
        verbose_name_plural = "任务月计数"
        constraints = [
            models.UniqueConstraint(
                fields=["lead_unit", "inspection", "deadline_month"],
                name="taskmonthtally_key",
            ),
        ]

    def __str__(self) -> str:
        return (f"{self.lead_unit_id}/{self.inspection_id}/"
                f"{self.deadline_month:%Y-%m}: {self.total}")
