"""Sending through a real Celery worker to real servers on 127.0.0.1 (acceptance 1 and 4), and
interrupted or repeated sends that send nothing twice (acceptance 3)."""

import base64
import datetime as dt
import email
import email.policy
import hashlib
import hmac
import time

import pytest
from django.utils import timezone

from tests.tracker.factories import TaskFactory, UnitFactory, UserFactory
from tests.tracker.reminders.conftest import at, wait_until
from tracker import tasks as celery_tasks
from tracker.models import Delivery, DeliveryStatus, Notification, Role
from tracker.reminders import notifications as notify
from tracker.reminders.services import reminders_sweep
from tracker.reminders.transports import WeCom as wecom
from tracker.workdays import add_workdays

D = dt.date
SWEEP_DAY = D(2026, 10, 10)  # the deadline below is overdue on this (adjusted) Saturday


def _unit_with_robots(webhook_server, name, wecom_path=None, dingtalk_path=None, secret=""):
    unit = UnitFactory(name=name)
    unit.wecom_webhook_url = webhook_server.url(wecom_path) if wecom_path else ""
    unit.dingtalk_webhook_url = webhook_server.url(dingtalk_path) if dingtalk_path else ""
    unit.dingtalk_secret = secret
    unit.save()
    return unit


def _settled(delivery_filter=None):
    """True once no delivery is pending or being sent."""
    qs = Delivery.objects.all() if delivery_filter is None else delivery_filter
    return qs.exists() and not qs.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
    ).exists()


@pytest.mark.worker
def test_worker_posts_wecom_and_signed_dingtalk_messages_in_their_formats(
    transactional_db, celery_worker, webhook_server
):
    """Acceptance 1: a real worker sends to a real HTTP server; bodies match the formats."""
    unit = _unit_with_robots(webhook_server, "市住建局", "/wecom/a", "/dingtalk/a", "SECabc123")
    UserFactory(unit=unit, role=Role.OFFICER, full_name="李科长", phone="13800000001",
                email="")
    TaskFactory(lead_unit=unit, deadline=D(2026, 10, 9), title="整治违规收费问题")
    result = reminders_sweep(now=at(SWEEP_DAY))
    assert result.deliveries == 2  # the officer has no e-mail: only the two robots
    wait_until(_settled, timeout=30, what="机器人消息发送完成")

    [wecom_request] = webhook_server.received("/wecom/a")
    body = wecom_request["body"]
    assert set(body) == {"msgtype", "markdown"}
    assert body["msgtype"] == "markdown"
    assert set(body["markdown"]) == {"content"}
    assert "整治违规收费问题" in body["markdown"]["content"]
    assert "已逾期" in body["markdown"]["content"]
    assert len(body["markdown"]["content"].encode()) <= 4096
    assert wecom_request["headers"]["Content-Type"].startswith("application/json")

    [ding_request] = webhook_server.received("/dingtalk/a")
    body = ding_request["body"]
    assert body["msgtype"] == "markdown"
    assert set(body["markdown"]) == {"title", "text"}
    assert "整治违规收费问题" in body["markdown"]["text"]
    assert body["at"] == {"atMobiles": ["13800000001"], "isAtAll": False}
    assert "@13800000001" in body["markdown"]["text"]
    timestamp = ding_request["query"]["timestamp"][0]
    expected = base64.b64encode(
        hmac.new(b"SECabc123", f"{timestamp}\nSECabc123".encode(), hashlib.sha256).digest()
    ).decode()
    assert ding_request["query"]["sign"] == [expected]
    assert abs(int(timestamp) - time.time() * 1000) < 60_000
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 2


@pytest.mark.worker
def test_worker_sends_the_chinese_digest_email_through_a_real_smtp_server(
    transactional_db, celery_worker, smtp_server, bureau
):
    """Acceptance 1: one e-mail through aiosmtpd on 127.0.0.1, subject and body in Chinese."""
    smtp_server.handler.messages.clear()
    UserFactory(unit=bureau, role=Role.OFFICER, email="zhang@example.test", full_name="张三")
    TaskFactory(lead_unit=bureau, deadline=D(2026, 10, 9), title="清理超标配备公务用车")
    reminders_sweep(now=at(SWEEP_DAY))
    wait_until(_settled, timeout=30, what="邮件发送完成")
    [envelope] = smtp_server.handler.messages
    assert envelope.rcpt_tos == ["zhang@example.test"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert str(message["Subject"]).strip().startswith("【整改督办】10月10日整改任务提醒：1项已逾期")
    text = message.get_content()
    assert text.startswith("张三：")
    assert "清理超标配备公务用车" in text
    assert "已逾期1个工作日" in text


@pytest.mark.worker
def test_a_webhook_failing_twice_then_succeeding_gets_the_message_once(
    transactional_db, celery_worker, webhook_server
):
    """Acceptance 4: retried with backoff on the worker, delivered exactly once."""
    webhook_server.scripts["/wecom/flaky"] = [
        (503, {"errcode": -1, "errmsg": "busy"}),
        (200, {"errcode": 45009, "errmsg": "api freq out of limit"}),
    ]
    unit = _unit_with_robots(webhook_server, "市水务局", "/wecom/flaky")
    TaskFactory(lead_unit=unit, deadline=D(2026, 10, 9))
    reminders_sweep(now=at(SWEEP_DAY))
    wait_until(_settled, timeout=40, what="重试后发送成功")
    time.sleep(1.5)  # nothing more arrives later
    assert len(webhook_server.received("/wecom/flaky")) == 3
    assert len(webhook_server.received("/wecom/flaky", ok_only=True)) == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 3)


@pytest.mark.worker
def test_a_webhook_that_always_fails_leaves_a_failed_record_and_the_rest_is_sent(
    transactional_db, celery_worker, webhook_server
):
    """Acceptance 4: retries run out, the delivery is failed (visible in the admin), no
    exception escapes the batch and the other units in the same batch get their messages."""
    webhook_server.always["/wecom/down"] = (503, {"errcode": -1, "errmsg": "down"})
    webhook_server.always["/dingtalk/badkey"] = (200, {"errcode": 310000, "errmsg": "sign"})
    down = _unit_with_robots(webhook_server, "市林业局", "/wecom/down", "/dingtalk/badkey")
    fine = _unit_with_robots(webhook_server, "市文旅局", "/wecom/fine")
    TaskFactory(lead_unit=down, deadline=D(2026, 10, 9))
    TaskFactory(lead_unit=fine, deadline=D(2026, 10, 9))
    reminders_sweep(now=at(SWEEP_DAY))
    wait_until(_settled, timeout=60, what="重试用尽")
    assert len(webhook_server.received("/wecom/fine", ok_only=True)) == 1
    failed = Delivery.objects.get(channel="wecom", notification__recipient_unit=down)
    # One try in the batch, then the retrying task: first run and 2 retries (worker setting).
    assert (failed.status, failed.attempts) == (DeliveryStatus.FAILED, 4)
    assert "HTTP 503" in failed.last_error
    assert len(webhook_server.received("/wecom/down")) == 4
    permanent = Delivery.objects.get(channel="dingtalk")
    assert (permanent.status, permanent.attempts) == (DeliveryStatus.FAILED, 1)
    assert "310000" in permanent.last_error
    assert "Traceback" not in celery_worker.output()


@pytest.mark.worker
def test_the_beat_task_runs_the_sweep_on_the_worker(
    transactional_db, celery_worker, webhook_server
):
    """The periodic task by its beat name, on the worker, with the real clock."""
    unit = _unit_with_robots(webhook_server, "市审计局", "/wecom/beat")
    today = timezone.localdate()
    TaskFactory(lead_unit=unit, deadline=add_workdays(today, -1))
    celery_tasks.reminders_sweep.delay()
    wait_until(lambda: webhook_server.received("/wecom/beat", ok_only=True), timeout=30,
               what="定时任务经 worker 发送")
    assert Notification.objects.filter(recipient_unit=unit).count() == 1


class _Killed(BaseException):
    """Stands for the worker process dying: not an Exception, nothing catches it."""


def test_a_send_batch_killed_halfway_and_rerun_sends_the_rest_once(
    transactional_db, webhook_server, monkeypatch
):
    """Acceptance 3: interrupted after half its batch, the re-run sends the rest, once each."""
    queued: list[list[int]] = []
    monkeypatch.setattr(notify, "queue_delivery_batch", queued.append)
    units = [_unit_with_robots(webhook_server, f"单位{i}", f"/wecom/u{i}") for i in range(10)]
    # Real time here: the sending claims are stamped with the clock.
    now = timezone.now()
    for unit in units:
        TaskFactory(lead_unit=unit, deadline=add_workdays(timezone.localdate(now), -1))
    reminders_sweep(now=now)
    [batch] = queued
    assert len(batch) == 10

    real_send = wecom.send
    calls = {"n": 0}

    def dies_on_the_sixth(**kwargs):
        calls["n"] += 1
        if calls["n"] == 6:
            raise _Killed
        return real_send(**kwargs)

    monkeypatch.setattr(wecom, "send", dies_on_the_sixth)
    with pytest.raises(_Killed):
        notify.deliveries_send_batch(delivery_ids=batch)
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 5
    assert Delivery.objects.filter(status=DeliveryStatus.SENDING).count() == 1

    # The same message delivered again (acks_late redelivery) sends nothing twice...
    monkeypatch.setattr(wecom, "send", real_send)
    notify.deliveries_send_batch(delivery_ids=batch)
    # ...and the next sweep, once the dead worker's claim has expired, queues what is left.
    queued.clear()
    rerun = reminders_sweep(now=now + dt.timedelta(hours=1))
    assert rerun.reminders == 0
    for ids in queued:
        notify.deliveries_send_batch(delivery_ids=ids)
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 10
    for i in range(10):
        assert len(webhook_server.received(f"/wecom/u{i}", ok_only=True)) == 1, i
