"""Celery runs on our settings: a misspelled CELERY_ key would be silently ignored, so check
that the app really carries them, and that a real worker takes a message off the broker."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from config.celery_app import app, ensure_broker_folders
from tests.databases import database_url_of_test_db
from tracker.services.heartbeat import heartbeat_seen_at

ROOT = Path(__file__).resolve().parents[2]


def test_celery_app_uses_the_django_settings():
    conf = app.conf
    assert conf.broker_url == settings.CELERY_BROKER_URL
    assert conf.timezone == "Asia/Shanghai"
    assert conf.task_acks_late is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert conf.beat_schedule["beat-heartbeat"]["task"] == "tracker.tasks.beat_heartbeat"
    assert conf.broker_transport_options == settings.CELERY_BROKER_TRANSPORT_OPTIONS


def test_every_scheduled_task_is_registered():
    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name


@pytest.mark.redis
def test_redis_broker_is_used_when_configured():
    assert app.conf.broker_url.startswith("redis://")
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        assert connection.transport.driver_type == "redis"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_sent_through_the_broker(tmp_path):
    """The message crosses a real broker (filesystem by default, Redis in CI's second run), and
    the worker's heartbeat lands in the database the readiness check reads."""
    ensure_broker_folders()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "DATABASE_URL": database_url_of_test_db()}
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config.celery_app", "worker",
             "--pool", "solo", "--queues", queue, "--loglevel", "INFO", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        app.send_task("tracker.tasks.beat_heartbeat", queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "beat tick" not in log.read_text():
            assert worker.poll() is None, log.read_text()
            time.sleep(0.3)
        assert "beat tick" in log.read_text(), log.read_text()
        assert heartbeat_seen_at() is not None
    finally:
        worker.terminate()
        worker.wait(timeout=30)
