"""Celery tasks. They take ids and plain values and call services; no logic lives here."""

import datetime as dt
import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from tracker.reminders import notifications
from tracker.reminders import services as reminders
from tracker.services import auth, evidence, heartbeat, ledger_jobs, notices, rechecks
from tracker.webhooks import services as webhooks

logger = logging.getLogger(__name__)


@shared_task(name="tracker.tasks.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> str:
    """Proof of life for the scheduler and a worker: one log line and one stamp per beat tick
    (read by /health/ready/)."""
    now = timezone.now()
    heartbeat.heartbeat_record(now=now)
    stamp = timezone.localtime(now).isoformat(timespec="seconds")
    logger.info("beat tick %s", stamp)
    return stamp


@shared_task(name="tracker.tasks.reminders_sweep", ignore_result=True)
def reminders_sweep() -> dict:
    """Periodic: record what is due today and queue the messages (idempotent by state)."""
    result = reminders.reminders_sweep(now=timezone.now())
    return {"reminders": result.reminders, "notifications": result.notifications,
            "deliveries": result.deliveries, "requeued": result.requeued}


@shared_task(name="tracker.tasks.notice_overdue_remind", ignore_result=True)
def notice_overdue_remind() -> int:
    """Periodic (daily): tell units of 督办单 parts unanswered after the reply-by day, once
    per part (idempotent: a second run tells nobody)."""
    return notices.notice_overdue_remind(now=timezone.now())


@shared_task(name="tracker.tasks.rechecks_sweep", ignore_result=True)
def rechecks_sweep() -> dict:
    """Periodic (daily): 回头看 falling due become 待单位报告 and the lead unit is told; due
    ones still unreported are reminded (idempotent: a second run changes and tells nothing)."""
    result = rechecks.rechecks_sweep(now=timezone.now())
    return {"due": result.due, "reminded": result.reminded}


@shared_task(name="tracker.tasks.dispatch_monthly", ignore_result=True)
def dispatch_monthly() -> int:
    """Periodic: the monthly request to units to report progress (once per unit and month)."""
    return reminders.dispatch_monthly(now=timezone.now())


@shared_task(name="tracker.tasks.send_delivery_batch", ignore_result=True)
def send_delivery_batch(delivery_ids: list[int]) -> dict:
    """Send one batch; transient failures continue in send_delivery with backoff."""
    return notifications.deliveries_send_batch(delivery_ids=delivery_ids)


@shared_task(name="tracker.tasks.deliveries_requeue", ignore_result=True)
def deliveries_requeue() -> int:
    """Periodic (every TRACKER_DELIVERY_REQUEUE_SECONDS): send again what a dead worker left,
    once its lease has run out."""
    return notifications.deliveries_requeue(now=timezone.now())


@shared_task(
    bind=True,
    name="tracker.tasks.send_delivery",
    ignore_result=True,
    autoretry_for=(notifications.DeliveryTryLater,),
    retry_backoff=True,
    retry_backoff_max=settings.TRACKER_DELIVERY_RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=settings.TRACKER_DELIVERY_MAX_RETRIES,
)
def send_delivery(self, delivery_id: int) -> str:
    """Send one delivery that failed transiently; on the last attempt a failure is recorded
    as failed by the service instead of raising."""
    return notifications.delivery_send(
        delivery_id=delivery_id, final=self.request.retries >= self.max_retries
    )


@shared_task(
    name="tracker.tasks.ledger_job_run", ignore_result=True, acks_late=True,
    soft_time_limit=settings.TRACKER_LEDGER_JOB_SOFT_TIME_LIMIT,
    time_limit=settings.TRACKER_LEDGER_JOB_TIME_LIMIT,
)
def ledger_job_run(job_id: int) -> str:
    """A large ledger import's preview or apply, or a large export (idempotent by the job's
    state: a second delivery finds nothing to do). Bounded in time by the task's limits and in
    memory by the upload's bounds, checked before any parsing."""
    try:
        return ledger_jobs.ledger_job_run(job_id=job_id)
    except SoftTimeLimitExceeded:
        ledger_jobs.ledger_job_timed_out(job_id=job_id)
        return "failed"


@shared_task(name="tracker.tasks.login_failures_purge", ignore_result=True)
def login_failures_purge() -> int:
    """Daily: drop login-failure rows whose window and wait have passed."""
    return auth.login_failures_purge(now=timezone.now())


@shared_task(name="tracker.tasks.evidence_orphans_sweep", ignore_result=True)
def evidence_orphans_sweep() -> int:
    """Daily: delete evidence files that no row names (left by rolled-back uploads)."""
    grace = dt.timedelta(hours=settings.EVIDENCE_ORPHAN_GRACE_HOURS)
    return len(evidence.evidence_orphans_sweep(now=timezone.now(), grace=grace))


@shared_task(name="tracker.tasks.webhook_deliveries_send", ignore_result=True)
def webhook_deliveries_send(delivery_ids: list[int]) -> dict:
    """Send outbound webhook deliveries still pending (idempotent by their state); a transient
    failure is put back with its backoff and queued again by webhook_deliveries_requeue."""
    return webhooks.webhook_deliveries_send(delivery_ids=delivery_ids)


@shared_task(name="tracker.tasks.webhook_deliveries_requeue", ignore_result=True)
def webhook_deliveries_requeue() -> int:
    """Periodic (every TRACKER_DELIVERY_REQUEUE_SECONDS): queue the webhook deliveries whose
    time has come."""
    return webhooks.webhook_deliveries_requeue(now=timezone.now())
