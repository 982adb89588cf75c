"""Celery tasks. They take ids and plain values and call services; no logic lives here."""

import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="tracker.tasks.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> str:
    """Proof of life for the scheduler: the worker logs one line per beat tick."""
    stamp = timezone.localtime().isoformat(timespec="seconds")
    logger.info("beat tick %s", stamp)
    return stamp
