"""/metrics/ for the intranet's Prometheus: request counters and the tracker's own figures
(open and overdue tasks, reminders, deliveries by status), readable only from the monitoring
addresses."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests.tracker.factories import DeliveryFactory, TaskFactory
from tracker.models import TaskStatus

pytestmark = pytest.mark.django_db


def _value(body: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", body, re.MULTILINE)
    assert match, f"{name}{labels} not in metrics"
    return float(match.group(1))


def test_the_monitoring_server_reads_requests_and_the_ledgers_figures(client, settings):
    settings.METRICS_ALLOWED_ADDRESSES = ["127.0.0.1"]
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    TaskFactory.create_batch(2, deadline=yesterday, status=TaskStatus.IN_PROGRESS)
    TaskFactory(deadline=yesterday, status=TaskStatus.COMPLETED)
    TaskFactory(deadline=timezone.localdate() + dt.timedelta(days=30))
    DeliveryFactory(status="failed")

    client.get("/health/live/")
    response = client.get("/metrics/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert _value(body, "tracker_tasks_overdue") == 2
    assert _value(body, "tracker_tasks_open") == 3
    assert re.search(r'^tracker_deliveries\{channel="\w+",status="failed"\} 1\.0$', body,
                     re.MULTILINE)
    assert "django_http_requests_total_by_method_total" in body


def test_anyone_else_gets_not_found(client, settings):
    settings.METRICS_ALLOWED_ADDRESSES = ["10.0.0.99"]
    assert client.get("/metrics/").status_code == 404
