"""Heartbeats of the background components, read by the readiness check (config/health.py)."""

import datetime as dt

from tracker.models import ServiceHeartbeat

SCHEDULER = "scheduler"


def heartbeat_record(*, name: str = SCHEDULER, now: dt.datetime) -> None:
    """Stamp ``name`` as alive at ``now``. Idempotent: one row per component, last write wins."""
    ServiceHeartbeat.objects.update_or_create(name=name, defaults={"seen_at": now})


def heartbeat_seen_at(*, name: str = SCHEDULER) -> dt.datetime | None:
    return ServiceHeartbeat.objects.filter(name=name).values_list("seen_at", flat=True).first()
