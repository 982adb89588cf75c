"""Celery queues by kind of work, and which task goes to which.

Production routes each kind to its own queue so that a slow ledger import never delays the
morning's reminders, nor a report being read an import: deploy/ starts one worker service per
queue (``celery worker -Q <queue>``) and more workers can be added on other machines for any
queue. The embedded run and the tests keep Celery's single default queue: one worker there
consumes everything.

The table is the one place a task's queue is decided; tests/deploy checks that every task the
app registers has a route, and that deploy/ starts a worker for every queue.
"""

from kombu import Queue

SWEEPS = "sweeps"  # the scheduler's periodic work: reminder sweeps, monthly dispatch, heartbeat
DELIVERIES = "deliveries"  # e-mails and robot messages (slow outer servers, retries)
LEDGERS = "ledgers"  # Excel ledger imports and exports (large, CPU-bound)
DOCUMENTS = "documents"  # report documents read in a capped child process (slow, memory-hungry)

QUEUES = (SWEEPS, DELIVERIES, LEDGERS, DOCUMENTS)

# Glob patterns over task names, first match wins (Celery's task_routes semantics).
ROUTES = {
    "tracker.tasks.beat_heartbeat": {"queue": SWEEPS},
    "tracker.tasks.reminders_sweep": {"queue": SWEEPS},
    "tracker.tasks.dispatch_monthly": {"queue": SWEEPS},
    "tracker.tasks.login_failures_purge": {"queue": SWEEPS},
    "tracker.tasks.evidence_orphans_sweep": {"queue": SWEEPS},
    "tracker.tasks.deliveries_requeue": {"queue": SWEEPS},
    "tracker.tasks.notice_overdue_remind": {"queue": SWEEPS},
    "tracker.tasks.rechecks_sweep": {"queue": SWEEPS},
    "tracker.tasks.send_delivery*": {"queue": DELIVERIES},
    "tracker.tasks.webhook_deliveries_requeue": {"queue": SWEEPS},
    "tracker.tasks.webhook_deliveries_send": {"queue": DELIVERIES},
    "tracker.tasks.ledger_*": {"queue": LEDGERS},
    "reports.tasks.*": {"queue": DOCUMENTS},
}


def task_queues() -> list[Queue]:
    return [Queue(name) for name in QUEUES]
