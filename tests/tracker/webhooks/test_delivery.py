"""Outbound webhooks end to end in the test process: a task change records one delivery per
subscribed endpoint with its history row, and sending posts it, signed, to a real HTTP server
on 127.0.0.1 exactly once; retries, timeouts, failures, scope and inactive endpoints."""

import datetime as dt
import threading

import pytest
from django.db import transaction
from django.utils import timezone

from tests.threads import start_in_thread
from tests.tracker.factories import TaskFactory
from tracker.errors import DomainError
from tracker.models import TaskStatus, WebhookDelivery, WebhookDeliveryStatus
from tracker.services import tasks as task_services
from tracker.webhooks import services as webhooks
from tracker.webhooks import signing

pytestmark = pytest.mark.django_db


def _close(task, actor, capture):
    """Close a submitted task; returns the deliveries it recorded and the after-commit
    callbacks (not run: the test sends in this process instead of through the broker)."""
    with capture() as callbacks:
        task_services.task_close(task=task, actor=actor)
    return list(WebhookDelivery.objects.filter(task_event__task=task).order_by("pk")), callbacks


def test_closing_a_task_is_delivered_once_to_each_subscribed_endpoint(
    receiver, endpoint_at, chief, bureau, django_capture_on_commit_callbacks
):
    closed_a = endpoint_at("/a", on_changed=False)
    closed_b = endpoint_at("/b")
    endpoint_at("/changes-only", on_closed=False)
    endpoint_at("/inactive", active=False)
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.SUBMITTED, title="整治违规收费问题")

    deliveries, callbacks = _close(task, chief, django_capture_on_commit_callbacks)
    assert [d.endpoint_id for d in deliveries] == [closed_a.pk, closed_b.pk]
    assert len(callbacks) == 1  # one queue message for the change's deliveries, after commit
    ids = [d.pk for d in deliveries]

    assert webhooks.webhook_deliveries_send(delivery_ids=ids)["delivered"] == 2
    # The sending task run again (a duplicated queue message) sends nothing more.
    assert webhooks.webhook_deliveries_send(delivery_ids=ids) == {
        "delivered": 0, "retry": 0, "failed": 0, "skipped": 2}

    for path, delivery in (("/a", deliveries[0]), ("/b", deliveries[1])):
        [request] = receiver.received(path)
        assert request["verified"]
        headers = request["headers"]
        assert headers[signing.EVENT_HEADER] == "task.closed"
        assert headers[signing.DELIVERY_HEADER] == str(delivery.pk)
        assert headers[signing.ATTEMPT_HEADER] == "1"
        body = request["json"]
        assert body["event"] == "task.closed"
        assert body["event_label"] == "任务销号"
        assert body["action"] == "close"
        assert body["action_label"] == "审核销号"
        assert body["to_status"] == "completed"
        assert body["from_status_label"] == TaskStatus.SUBMITTED.label
        assert body["task"]["id"] == task.pk
        assert body["task"]["title"] == "整治违规收费问题"
        assert body["task"]["lead_unit"] == {"id": bureau.pk, "name": bureau.name}
        assert body["actor"]["id"] == chief.pk
    assert receiver.received("/changes-only") == []
    assert receiver.received("/inactive") == []
    for delivery in WebhookDelivery.objects.filter(pk__in=ids):
        assert delivery.status == WebhookDeliveryStatus.DELIVERED
        assert (delivery.attempts, delivery.last_status_code) == (1, 200)
        assert delivery.delivered_at is not None


def test_a_tampered_body_or_timestamp_fails_the_signature():
    body = b'{"event":"task.closed"}'
    good = signing.signature(secret="s3cret", timestamp="1700000000", body=body)
    assert signing.verify(secret="s3cret", timestamp="1700000000", body=body, received=good)
    assert not signing.verify(secret="s3cret", timestamp="1700000001", body=body, received=good)
    assert not signing.verify(secret="s3cret", timestamp="1700000000", body=body + b" ",
                              received=good)
    assert not signing.verify(secret="other", timestamp="1700000000", body=body, received=good)


def test_each_action_is_its_event(receiver, endpoint_at, chief, bureau,
                                  django_capture_on_commit_callbacks):
    endpoint = endpoint_at("/all")
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.NOT_STARTED)
    with django_capture_on_commit_callbacks():
        task_services.task_start(task=task, actor=chief)
        task.refresh_from_db()
        task_services.task_submit(task=task, actor=chief)
        task.refresh_from_db()
        task_services.task_close(task=task, actor=chief)
        task.refresh_from_db()
        task_services.task_reopen(task=task, actor=chief, note="回头看发现问题反弹")
    assert list(endpoint.deliveries.order_by("pk").values_list("event", flat=True)) == [
        "task.changed", "task.changed", "task.closed", "task.reopened"]


def test_a_rolled_back_change_records_and_queues_nothing(
    endpoint_at, chief, bureau, django_capture_on_commit_callbacks
):
    endpoint_at("/a")
    task = TaskFactory(lead_unit=bureau, status=TaskStatus.SUBMITTED)
    recorded = []

    def close_then_fail():
        with transaction.atomic():
            task_services.task_close(task=task, actor=chief)
            recorded.append(WebhookDelivery.objects.count())
            raise RuntimeError("the change fails after its history row")

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        close_then_fail()
    assert recorded == [1]
    assert WebhookDelivery.objects.count() == 0
    assert callbacks == []


def test_an_endpoint_limited_to_a_unit_hears_only_of_tasks_seen_from_its_subtree(
    endpoint_at, chief, bureau, county, town, django_capture_on_commit_callbacks
):
    scoped = endpoint_at("/county", scope_unit=county)
    outside = TaskFactory(lead_unit=bureau, status=TaskStatus.SUBMITTED)
    led_inside = TaskFactory(lead_unit=town, status=TaskStatus.SUBMITTED)
    supported_inside = TaskFactory(lead_unit=bureau, status=TaskStatus.SUBMITTED,
                                   supporting_units=[town])
    for task in (outside, led_inside, supported_inside):
        _close(task, chief, django_capture_on_commit_callbacks)
    assert set(scoped.deliveries.values_list("task_event__task", flat=True)) == {
        led_inside.pk, supported_inside.pk}


def test_a_500_then_200_is_retried_after_its_backoff_then_delivered(
    receiver, endpoint_at, chief, bureau, settings, django_capture_on_commit_callbacks
):
    settings.TRACKER_OUTBOUND_WEBHOOK_BACKOFF_SECONDS = 60
    endpoint_at("/flaky")
    receiver.scripts["/flaky"] = [(500, 0.0)]
    [delivery], _ = _close(TaskFactory(lead_unit=bureau, status=TaskStatus.SUBMITTED), chief,
                           django_capture_on_commit_callbacks)
    before = timezone.now()
    assert webhooks.webhook_delivery_send(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.PENDING
    assert (delivery.attempts, delivery.last_status_code) == (1, 500)
    assert "HTTP 500" in delivery.last_error
    assert "第1次发送失败" in delivery.last_error
    assert delivery.next_attempt_at >= before + dt.timedelta(seconds=60)

    # Not due yet: the requeue leaves it; once due, it is queued after commit and sent.
    with django_capture_on_commit_callbacks() as callbacks:
        assert webhooks.webhook_deliveries_requeue(now=before) == 0
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        assert webhooks.webhook_deliveries_requeue(now=delivery.next_attempt_at) == 1
    assert len(callbacks) == 1
    assert webhooks.webhook_delivery_send(delivery_id=delivery.pk) == "delivered"
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (2, 200, "")
    requests = receiver.received("/flaky")
    assert [r["headers"][signing.ATTEMPT_HEADER] for r in requests] == ["1", "2"]
    assert {r["headers"][signing.DELIVERY_HEADER] for r in requests} == {str(delivery.pk)}
    assert all(r["verified"] for r in requests)


def test_a_timeout_is_retried(receiver, endpoint_at, chief, bureau, settings,
                              django_capture_on_commit_callbacks):
    settings.TRACKER_OUTBOUND_WEBHOOK_TIMEOUT = 0.3
    endpoint_at("/slow")
    receiver.scripts["/slow"] = [(200, 1.5)]
    [delivery], _ = _close(TaskFactory(lead_unit=bureau, status=TaskStatus.SUBMITTED), chief,
                           django_capture_on_commit_callbacks)
    assert webhooks.webhook_delivery_send(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert "网络错误" in delivery.last_error
    assert delivery.last_status_code is None
    assert webhooks.webhook_delivery_send(delivery_id=delivery.pk) == "delivered"
    assert len(receiver.received("/slow")) == 2


def test_backoff_doubles_up_to_its_cap(settings):
    settings.TRACKER_OUTBOUND_WEBHOOK_BACKOFF_SECONDS = 30
    settings.TRACKER_OUTBOUND_WEBHOOK_BACKOFF_MAX_SECONDS = 200
    assert [webhooks.backoff(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [
        30, 60, 120, 200, 200]


def test_used_up_attempts_fail_with_the_reason_and_an_admin_resend_delivers(
    receiver, endpoint_at, chief, root_admin, bureau, settings,
    django_capture_on_commit_callbacks,
):
    settings.TRACKER_OUTBOUND_WEBHOOK_MAX_ATTEMPTS = 2
    endpoint_at("/down")
    receiver.scripts["/down"] = [(503, 0.0), (503, 0.0)]
    [delivery], _ = _close(TaskFactory(lead_unit=bureau, status=TaskStatus.SUBMITTED), chief,
                           django_capture_on_commit_callbacks)
    assert webhooks.webhook_delivery_send(delivery_id=delivery.pk) == "retry"
    assert webhooks.webhook_delivery_send(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.FAILED
    assert delivery.last_error == "已尝试2次仍失败：HTTP 503"
    assert delivery.last_status_code == 503
    assert webhooks.webhook_delivery_send(delivery_id=delivery.pk) == "skipped"

    with pytest.raises(DomainError):
        webhooks.webhook_delivery_resend(delivery=delivery, actor=chief, now=timezone.now())
    with django_capture_on_commit_callbacks() as callbacks:
        assert webhooks.webhook_delivery_resend(
            delivery=delivery, actor=root_admin, now=timezone.now())
    assert len(callbacks) == 1
    assert webhooks.webhook_delivery_send(delivery_id=delivery.pk) == "delivered"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.attempt_limit) == ("delivered", 3, 4)
    assert len(receiver.received("/down")) == 3


def test_a_4xx_answer_fails_at_once(receiver, endpoint_at, chief, bureau,
                                    django_capture_on_commit_callbacks):
    endpoint_at("/gone")
    receiver.scripts["/gone"] = [(410, 0.0)]
    [delivery], _ = _close(TaskFactory(lead_unit=bureau, status=TaskStatus.SUBMITTED), chief,
                           django_capture_on_commit_callbacks)
    assert webhooks.webhook_delivery_send(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("failed", 410)
    assert delivery.last_error == "接收方拒绝：HTTP 410"


def test_an_endpoint_deactivated_before_sending_is_not_sent(
    receiver, endpoint_at, chief, bureau, django_capture_on_commit_callbacks
):
    endpoint = endpoint_at("/later-off")
    [delivery], _ = _close(TaskFactory(lead_unit=bureau, status=TaskStatus.SUBMITTED), chief,
                           django_capture_on_commit_callbacks)
    endpoint.active = False
    endpoint.save()
    assert webhooks.webhook_delivery_send(delivery_id=delivery.pk) == "failed"
    assert receiver.received("/later-off") == []
    delivery.refresh_from_db()
    assert delivery.last_error == "推送地址已停用，未发送"


def test_a_claim_whose_worker_died_is_sent_again_after_the_lease(
    receiver, endpoint_at, chief, bureau, settings, django_capture_on_commit_callbacks
):
    endpoint_at("/a")
    [delivery], _ = _close(TaskFactory(lead_unit=bureau, status=TaskStatus.SUBMITTED), chief,
                           django_capture_on_commit_callbacks)
    claimed_at = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="sending", attempts=1, claimed_at=claimed_at)  # a worker took it and died
    lease = dt.timedelta(seconds=settings.TRACKER_DELIVERY_LEASE_SECONDS)
    with django_capture_on_commit_callbacks():
        assert webhooks.webhook_deliveries_requeue(now=claimed_at + lease / 2) == 0
        assert webhooks.webhook_deliveries_requeue(
            now=claimed_at + lease + dt.timedelta(seconds=1)) == 1
    assert webhooks.webhook_delivery_send(delivery_id=delivery.pk) == "delivered"
    [request] = receiver.received("/a")
    assert request["headers"][signing.ATTEMPT_HEADER] == "2"


@pytest.mark.postgres
def test_two_workers_sending_the_same_delivery_at_once_post_it_once(
    transactional_db, receiver, endpoint_at, chief, bureau
):
    from tests.tracker.factories import WebhookDeliveryFactory

    endpoint = endpoint_at("/race")
    receiver.scripts["/race"] = [(200, 0.5)]
    # A recorded delivery that no broker message carries (a task's change would also queue
    # one, and a worker left running on the shared broker could take it first).
    delivery = WebhookDeliveryFactory(endpoint=endpoint)
    results: dict = {}
    barrier = threading.Barrier(4)
    threads = [
        start_in_thread(lambda: webhooks.webhook_delivery_send(delivery_id=delivery.pk),
                        results, n, barrier)
        for n in range(4)
    ]
    for thread in threads:
        thread.join(30)
    assert sorted(results.values()) == ["delivered", "skipped", "skipped", "skipped"]
    assert len(receiver.received("/race")) == 1


def test_only_administrators_save_endpoints_and_the_service_checks_the_url(sam, root_admin):
    from tests.tracker.factories import WebhookEndpointFactory

    endpoint = WebhookEndpointFactory.build(url="https://oa.example.internal/hook")
    with pytest.raises(DomainError):
        webhooks.webhook_endpoint_save(endpoint=endpoint, actor=sam, now=timezone.now())
    assert endpoint.pk is None
    endpoint.url = "https://user:pw@oa.example.internal/hook"
    with pytest.raises(DomainError) as refused:
        webhooks.webhook_endpoint_save(endpoint=endpoint, actor=root_admin, now=timezone.now())
    assert refused.value.fields == {"url": "接收地址中不得包含用户名或密码"}
    endpoint.url = "https://oa.example.internal/hook"
    saved = webhooks.webhook_endpoint_save(endpoint=endpoint, actor=root_admin,
                                           now=timezone.now())
    assert saved.pk is not None
    assert saved.created_by == root_admin
