"""Settings of the workers and the beat that tests/ops/test_kill_worker.py starts: the reminder
tests' worker settings (e-mail over SMTP to the test's server on 127.0.0.1), with only the
delivery requeue in the beat schedule, so that no sweep on the real clock adds messages."""

from tests.tracker.reminders.worker_settings import *  # noqa: F403
from tests.tracker.reminders.worker_settings import CELERY_BEAT_SCHEDULE as EVERY_ENTRY
from tests.tracker.reminders.worker_settings import env

CELERY_BEAT_SCHEDULE = {"deliveries-requeue": EVERY_ENTRY["deliveries-requeue"]}
# The periodic work on a queue of its own, as production routes it (config/celery_queues.py).
_SWEEPS = {"queue": env.str("KILL_TEST_SWEEPS_QUEUE")}
CELERY_TASK_ROUTES = {
    "tracker.tasks.deliveries_requeue": _SWEEPS,
    "tracker.tasks.reminders_sweep": _SWEEPS,
}
