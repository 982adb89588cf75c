"""The notifications API, the admin pages and the Celery configuration."""

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.tracker.factories import TaskFactory
from tests.tracker.reminders.conftest import at
from tracker.models import Delivery, DeliveryStatus, Notification
from tracker.reminders.services import reminders_sweep

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def notifications_for(bureau, town, alice, bob):
    TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 9), title="甲")
    TaskFactory(lead_unit=town, deadline=D(2026, 10, 9), title="乙")
    reminders_sweep(now=at(D(2026, 10, 10)))
    reminders_sweep(now=at(D(2026, 10, 15)))  # nothing new for officers: no second message


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_user_lists_only_their_own_notifications(notifications_for, alice, bob):
    response = _client(alice).get("/api/v1/notifications/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [n["items"][0]["title"] for n in results] == ["甲"]
    assert results[0]["is_read"] is False


def test_unread_count_and_mark_read(notifications_for, alice, bob):
    client = _client(alice)
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    mine = Notification.objects.get(recipient_user=alice)
    theirs = Notification.objects.get(recipient_user=bob)
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    assert client.post(f"/api/v1/notifications/{mine.pk}/read/").status_code == 204
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 0}
    assert _client(bob).get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    assert _client(bob).post("/api/v1/notifications/read-all/").json() == {"marked": 1}


def test_anonymous_users_get_nothing(notifications_for):
    assert APIClient().get("/api/v1/notifications/").status_code in (401, 403)


def test_failed_deliveries_are_visible_in_the_admin(notifications_for, root_admin, client):
    Delivery.objects.update(status=DeliveryStatus.FAILED, last_error="HTTP 503")
    client.force_login(root_admin)
    response = client.get(reverse("admin:tracker_delivery_changelist") + "?status=failed")
    assert response.status_code == 200
    assert "HTTP 503" in response.content.decode()
    for name in ("reminder", "notification", "dispatchrequest"):
        assert client.get(reverse(f"admin:tracker_{name}_changelist")).status_code == 200


def test_celery_picked_up_our_settings_and_the_beat_schedule(settings):
    """A misspelled CELERY_ key would be silently ignored: check what Celery actually sees."""
    from config.celery_app import app
    from tracker import tasks  # noqa: F401  (registers the tasks)

    schedule = app.conf.beat_schedule
    assert {"beat-heartbeat", "reminders-sweep", "dispatch-monthly", "deliveries-requeue"} <= set(
        schedule
    )
    # A dead worker's claims come back promptly: the requeue runs several times per lease.
    requeue_every = schedule["deliveries-requeue"]["schedule"]
    assert requeue_every <= settings.TRACKER_DELIVERY_LEASE_SECONDS / 2
    assert settings.TRACKER_DELIVERY_LEASE_SECONDS <= 120
    for entry in schedule.values():
        assert entry["task"] in app.tasks, entry["task"]
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert app.conf.timezone == "Asia/Shanghai"
    retrying = app.tasks["tracker.tasks.send_delivery"]
    assert retrying.max_retries >= 1
    assert retrying.retry_backoff
    assert retrying.retry_jitter
    # Backoff stays far below the visibility timeout of the Redis broker.
    visibility = app.conf.broker_transport_options.get("visibility_timeout", 3600)
    assert retrying.retry_backoff_max < visibility
