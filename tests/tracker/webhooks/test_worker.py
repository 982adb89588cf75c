"""The webhook deliveries through a real Celery worker on the configured broker (the embedded
one on SQLite, Redis in CI's PostgreSQL + Redis run), to the real receiving server."""

import uuid

import pytest
from celery import current_app

from tests.tracker.factories import TaskFactory
from tests.tracker.reminders.conftest import wait_until
from tracker.models import TaskStatus, WebhookDelivery, WebhookDeliveryStatus
from tracker.services import tasks as task_services
from tracker.webhooks import services as webhooks

UNFINISHED = [WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.SENDING]


def _settled(**filters) -> bool:
    deliveries = WebhookDelivery.objects.filter(**filters)
    return deliveries.exists() and not deliveries.filter(status__in=UNFINISHED).exists()


@pytest.mark.worker
def test_worker_delivers_a_closed_task_once_per_endpoint_even_when_queued_twice(
    transactional_db, celery_worker, receiver, endpoint_at, chief, bureau
):
    endpoint_at("/one")
    endpoint_at("/two", on_changed=False)
    endpoint_at("/off", active=False)
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.SUBMITTED)
    task_services.task_close(task=task, actor=chief)  # queued after its commit
    wait_until(_settled, timeout=30, what="外部推送送达")
    ids = list(WebhookDelivery.objects.values_list("pk", flat=True))
    assert len(ids) == 2
    # The same message again (a broker redelivery): the worker finds nothing pending.
    duplicates = [f"duplicate-{uuid.uuid4().hex}" for _ in range(2)]
    for task_id in duplicates:
        current_app.signature(webhooks.SEND_TASK, args=(ids,)).apply_async(task_id=task_id)
    wait_until(lambda: all(f"[{task_id}] succeeded" in celery_worker.output()
                           for task_id in duplicates),
               timeout=30, what="重复消息处理完毕")
    assert [r["verified"] for r in receiver.received("/one")] == [True]
    assert [r["verified"] for r in receiver.received("/two")] == [True]
    assert receiver.received("/off") == []
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {("delivered", 1)}
    assert "Traceback" not in celery_worker.output()


@pytest.mark.worker
def test_worker_retries_a_500_when_the_requeue_finds_it_due(
    transactional_db, celery_worker, receiver, endpoint_at, chief, bureau
):
    endpoint_at("/flaky")
    receiver.scripts["/flaky"] = [(500, 0.0)]
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.SUBMITTED)
    task_services.task_close(task=task, actor=chief)
    delivery = wait_until(
        lambda: WebhookDelivery.objects.filter(attempts=1, status="pending").first(),
        timeout=30, what="第一次发送失败并退回待发送",
    )
    assert delivery.last_status_code == 500
    assert webhooks.webhook_deliveries_requeue(now=delivery.next_attempt_at) == 1
    wait_until(lambda: _settled(pk=delivery.pk), timeout=30, what="重试后送达")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "delivered", 2, 200)
    assert [r["status"] for r in receiver.received("/flaky")] == [500, 200]
