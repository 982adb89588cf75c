"""/health/live/ answers without touching anything; /health/ready/ checks every dependency,
reports each with its time, and turns 503 naming the part that failed."""

import datetime as dt
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from config.celery_app import app as celery_app
from tracker.services.heartbeat import heartbeat_record
from tracker.tasks import beat_heartbeat

pytestmark = pytest.mark.django_db
CHECKS = {"database", "migrations", "cache", "broker", "scheduler", "disk"}


@pytest.fixture
def heartbeat_now():
    heartbeat_record(now=timezone.now())


def test_liveness_answers_without_a_database_query(client, django_assert_num_queries):
    for url in ("/health/live/", "/health/"):
        with django_assert_num_queries(0):
            response = client.get(url)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert "no-cache" in response["Cache-Control"]


def test_readiness_reports_every_check_with_its_time_when_all_is_well(client, heartbeat_now):
    response = client.get("/health/ready/")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == CHECKS
    for name, check in body["checks"].items():
        assert check["ok"] is True, name
        assert isinstance(check["ms"], float)
        assert check["detail"]


def test_the_heartbeat_task_stamps_the_scheduler_check(client):
    assert client.get("/health/ready/").json()["checks"]["scheduler"]["ok"] is False
    beat_heartbeat()  # what a worker does on each beat tick
    assert client.get("/health/ready/").json()["checks"]["scheduler"]["ok"] is True


def test_a_stale_heartbeat_makes_the_site_not_ready(client, settings):
    heartbeat_record(now=timezone.now() - dt.timedelta(seconds=600))
    settings.HEALTH_HEARTBEAT_MAX_AGE_SECONDS = 300
    response = client.get("/health/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["scheduler"]["ok"] is False
    assert re.search(r"已6\d\d秒未更新", body["checks"]["scheduler"]["detail"])
    assert body["checks"]["database"]["ok"] is True  # only the failing part is marked


def test_an_unreachable_broker_is_named(client, heartbeat_now, settings, monkeypatch):
    settings.HEALTH_BROKER_TIMEOUT_SECONDS = 0.5
    # Nothing listens on port 1; the check must fail quickly, not hang the probe.
    monkeypatch.setattr(celery_app.conf, "broker_write_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {})
    response = client.get("/health/ready/")
    assert response.status_code == 503
    broker = response.json()["checks"]["broker"]
    assert broker["ok"] is False
    assert broker["detail"].startswith("不可用")
    assert "127.0.0.1" not in broker["detail"]  # anonymous probe: no internals


def test_low_disk_for_evidence_is_reported(client, heartbeat_now, settings):
    settings.HEALTH_MIN_FREE_BYTES = 2**62
    response = client.get("/health/ready/")
    assert response.status_code == 503
    assert response.json()["checks"]["disk"]["ok"] is False
    assert "低于" in response.json()["checks"]["disk"]["detail"]


@pytest.mark.django_db(transaction=True)
def test_an_unapplied_migration_makes_the_site_not_ready(client, heartbeat_now, monkeypatch):
    import config.health as health

    monkeypatch.setattr(health, "_migrations_known_applied", False)
    call_command("migrate", "tracker", "0006", verbosity=0)
    try:
        response = client.get("/health/ready/")
        assert response.status_code == 503
        assert "迁移未执行" in response.json()["checks"]["migrations"]["detail"]
    finally:
        # Every app: going back in tracker also unapplied the apps whose migrations need it.
        call_command("migrate", verbosity=0)
    monkeypatch.setattr(health, "_migrations_known_applied", False)
    heartbeat_record(now=timezone.now())
    ready = client.get("/health/ready/")
    assert ready.status_code == 200, ready.json()
