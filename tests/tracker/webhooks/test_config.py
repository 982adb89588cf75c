"""Celery picked up the webhook settings: the beat entry, the task names and their queues
(a misspelled CELERY_ key or task name would be silently ignored)."""

from django.conf import settings

from config.celery_app import app
from config.celery_queues import DELIVERIES, ROUTES, SWEEPS
from tracker.webhooks.services import SEND_TASK


def _route(name: str) -> str:
    from fnmatch import fnmatch

    return next(route["queue"] for pattern, route in ROUTES.items() if fnmatch(name, pattern))


def test_the_requeue_is_on_the_beat_schedule_and_both_tasks_are_registered():
    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["webhooks-requeue"]
    assert entry["task"] == "tracker.tasks.webhook_deliveries_requeue"
    assert entry["schedule"] == float(settings.TRACKER_DELIVERY_REQUEUE_SECONDS)
    assert entry["task"] in app.tasks
    assert SEND_TASK in app.tasks


def test_sending_runs_on_the_deliveries_queue_and_the_requeue_on_the_sweeps_queue():
    assert _route(SEND_TASK) == DELIVERIES
    assert _route("tracker.tasks.webhook_deliveries_requeue") == SWEEPS


def test_a_post_is_bounded_well_within_the_sending_lease():
    assert settings.TRACKER_OUTBOUND_WEBHOOK_TIMEOUT * 3 < settings.TRACKER_DELIVERY_LEASE_SECONDS
