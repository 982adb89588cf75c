"""Issue 14, deliveries: a short lease that a living worker renews, claims that only their own
try may finish, "sent" committed the moment the server accepts, resends recognisable by
Message-ID / X-Tracker-Delivery, and one log line per send.

The end-to-end proof with killed worker processes is tests/ops/test_kill_worker.py."""

import asyncio
import datetime as dt
import email
import email.policy
import logging
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.utils import timezone

from tests.threads import start_in_thread
from tests.tracker.factories import DeliveryFactory, NotificationFactory, UnitFactory, UserFactory
from tests.tracker.reminders.conftest import _free_port, wait_until
from tracker.models import Channel, Delivery, DeliveryStatus, NotificationKind
from tracker.reminders import notifications as notify
from tracker.reminders.transports import DELIVERY_HEADER, TryLater
from tracker.reminders.transports import WeCom as wecom

LOGGER = "tracker.reminders.notifications"


class _Killed(BaseException):
    """Stands for the worker process dying: not an Exception, nothing catches it."""


@pytest.fixture
def queued(monkeypatch):
    """The batches the requeue hands to the broker (recorded instead of sent)."""
    batches: list[list[int]] = []
    monkeypatch.setattr(notify, "queue_delivery_batch", batches.append)
    return batches


def _robot_delivery(webhook_server, path: str, name: str) -> Delivery:
    unit = UnitFactory(name=name)
    unit.wecom_webhook_url = webhook_server.url(path)
    unit.save()
    notification = NotificationFactory(
        recipient_user=None, recipient_unit=unit, kind=NotificationKind.DIGEST,
        body=f"{name}：您有1项整改任务已逾期。",
    )
    return DeliveryFactory(
        notification=notification, channel=Channel.WECOM,
        next_attempt_at=timezone.now() + dt.timedelta(minutes=10),
    )


def _email_delivery(address: str) -> Delivery:
    notification = NotificationFactory(
        recipient_user=UserFactory(email=address), title="【整改督办】整改任务提醒",
        body="张三：您有1项整改任务已逾期。\n",
    )
    return DeliveryFactory(notification=notification, channel=Channel.EMAIL)


def test_a_slow_worker_that_is_alive_keeps_its_lease_and_sends_once(
    transactional_db, webhook_server, settings, queued
):
    """Build 1: the robot takes 2.5 s to answer with a 1 s lease; the requeue runs every
    0.2 s meanwhile and takes nothing back (neither the claim being sent nor the batch's
    delivery waiting its turn), so each message goes out once. A claim nobody renews is
    taken back by the very next requeue once its lease has passed."""
    settings.TRACKER_DELIVERY_LEASE_SECONDS = 1
    webhook_server.delays["/wecom/slow"] = 2.5
    slow = _robot_delivery(webhook_server, "/wecom/slow", "市档案局")
    behind = _robot_delivery(webhook_server, "/wecom/behind", "市统计局")
    results: dict = {}
    worker = start_in_thread(
        lambda: notify.deliveries_send_batch(delivery_ids=[slow.pk, behind.pk]), results, "w"
    )
    wait_until(lambda: Delivery.objects.filter(pk=slow.pk, status="sending").exists(),
               timeout=10, what="开始发送")
    requeues = 0
    while worker.is_alive():
        notify.deliveries_requeue(now=timezone.now())
        requeues += 1
        time.sleep(0.2)
    worker.join()
    assert results["w"] == {"sent": 2, "failed": 0, "skipped": 0, "retrying": 0}
    assert requeues >= 8  # the requeue really ran, well past the lease, while it was sending
    assert queued == []
    assert len(webhook_server.received("/wecom/slow")) == 1
    assert len(webhook_server.received("/wecom/behind")) == 1
    for delivery in (slow, behind):
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)

    # A worker that died: its claim is not renewed, and the next requeue returns it.
    abandoned = _robot_delivery(webhook_server, "/wecom/dead", "市气象局")
    Delivery.objects.filter(pk=abandoned.pk).update(
        status=DeliveryStatus.SENDING, attempts=1,
        claimed_at=timezone.now() - dt.timedelta(seconds=1.5),
    )
    assert notify.deliveries_requeue(now=timezone.now()) == 1
    assert queued == [[abandoned.pk]]
    abandoned.refresh_from_db()
    assert abandoned.status == DeliveryStatus.PENDING
    assert abandoned.last_error.startswith(notify.INTERRUPTED)


def test_a_try_that_lost_its_claim_cannot_undo_the_next_one(
    transactional_db, webhook_server, settings, queued, monkeypatch
):
    """Build 2: worker 1 stalls past its lease, the requeue hands the delivery to worker 2
    (try 2), and only then does worker 1's request fail. Its write is conditional on its own
    try, so it leaves try 2's claim alone: no third worker can be given the delivery while
    try 2 is still sending, and it is sent once."""
    settings.TRACKER_DELIVERY_LEASE_SECONDS = 60
    delivery = _robot_delivery(webhook_server, "/wecom/taken", "市人社局")
    real_send = wecom.send
    in_try = {1: threading.Event(), 2: threading.Event()}
    go = {1: threading.Event(), 2: threading.Event()}

    def send(**kwargs):
        number = kwargs["attempt"].number
        in_try[number].set()
        assert go[number].wait(15)
        if number == 1:
            raise TryLater("HTTP 503")
        return real_send(**kwargs)

    monkeypatch.setattr(wecom, "send", send)
    results: dict = {}
    first = start_in_thread(lambda: notify.delivery_send(delivery_id=delivery.pk), results, 1)
    assert in_try[1].wait(10)
    # Worker 1 stalls past its lease: the requeue takes the claim back, worker 2 claims it.
    assert notify.deliveries_requeue(now=timezone.now() + dt.timedelta(seconds=61)) == 1
    second = start_in_thread(lambda: notify.delivery_send(delivery_id=delivery.pk), results, 2)
    assert in_try[2].wait(10)
    go[1].set()
    first.join(10)
    assert results[1] == "skipped"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENDING, 2)
    go[2].set()
    second.join(10)
    assert results[2] == "sent"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    [request] = webhook_server.received("/wecom/taken")
    assert request["headers"][DELIVERY_HEADER] == f"{delivery.pk}/2"


def test_a_worker_killed_after_the_smtp_server_accepted_resends_a_recognisable_copy(
    transactional_db, smtp_server, settings, queued, monkeypatch, caplog
):
    """Build 2, the window that cannot be closed: the server accepted the e-mail and the
    worker died before "sent" was committed. After the lease it is sent again, and the copy
    is recognisable: the same Message-ID, X-Tracker-Delivery "<id>/1" then "<id>/2", and a
    warning that names the interrupted try."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
    smtp_server.handler.messages.clear()
    delivery = _email_delivery("li@example.test")

    def dies(*args, **kwargs):
        raise _Killed

    record_sent = notify._record_sent
    monkeypatch.setattr(notify, "_record_sent", dies)
    with pytest.raises(_Killed):
        notify.deliveries_send_batch(delivery_ids=[delivery.pk])
    monkeypatch.setattr(notify, "_record_sent", record_sent)
    assert len(smtp_server.handler.messages) == 1
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SENDING

    later = timezone.now() + dt.timedelta(seconds=settings.TRACKER_DELIVERY_LEASE_SECONDS + 1)
    assert notify.deliveries_requeue(now=later) == 1
    with caplog.at_level(logging.INFO, logger=LOGGER):
        notify.deliveries_send_batch(delivery_ids=queued[0])
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)

    messages = [email.message_from_bytes(envelope.content, policy=email.policy.default)
                for envelope in smtp_server.handler.messages]
    assert [m["Message-ID"] for m in messages] == [
        f"<tracker-delivery-{delivery.pk}@localhost>"
    ] * 2
    assert [m[DELIVERY_HEADER] for m in messages] == [f"{delivery.pk}/1", f"{delivery.pk}/2"]
    [warning] = [r for r in caplog.records if "上一次发送中断" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    assert f"delivery={delivery.pk} channel=email" in warning.getMessage()
    assert "attempt=2" in warning.getMessage()


class _SlowQuit:
    """An SMTP server that accepts, then takes its time over QUIT and notes what the
    database says about the delivery meanwhile."""

    def __init__(self, delivery_id: int) -> None:
        self.delivery_id = delivery_id
        self.accepted = 0
        self.status_during_quit: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        self.accepted += 1
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server, session, envelope):
        status = await asyncio.to_thread(
            lambda: Delivery.objects.get(pk=self.delivery_id).status
        )
        self.status_during_quit.append(status)
        await asyncio.sleep(0.3)
        return "221 Bye"


def test_the_acceptance_is_committed_before_quit(transactional_db, settings):
    """Build 2: "sent" is in the database while the client still waits for the server's
    answer to QUIT, so a worker that dies during QUIT has nothing left to resend."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    delivery = _email_delivery("wang@example.test")
    handler = _SlowQuit(delivery.pk)
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        assert notify.delivery_send(delivery_id=delivery.pk) == "sent"
    finally:
        controller.stop()
    assert handler.accepted == 1
    assert handler.status_during_quit == [DeliveryStatus.SENT]


def test_every_send_is_logged_at_info_with_delivery_channel_recipient_and_outcome(
    transactional_db, webhook_server, caplog
):
    """Issue 14 (structured logs): one line per e-mail or robot send, at INFO when sent, with
    the delivery, its channel, its recipient (a unit's name, never the robot URL with its key)
    and the outcome; a permanent failure is a warning with its reason."""
    webhook_server.always["/wecom/badkey"] = (200, {"errcode": 93000, "errmsg": "invalid key"})
    by_mail = _email_delivery("zhao@example.test")
    by_robot = _robot_delivery(webhook_server, "/wecom/ok?key=SECRET-KEY", "市民政局")
    refused = _robot_delivery(webhook_server, "/wecom/badkey", "市商务局")
    mail.outbox.clear()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        outcome = notify.deliveries_send_batch(
            delivery_ids=[by_mail.pk, by_robot.pk, refused.pk]
        )
    assert outcome == {"sent": 2, "failed": 1, "skipped": 0, "retrying": 0}
    lines = {r.delivery_id: r for r in caplog.records if hasattr(r, "delivery_id")}
    assert set(lines) == {by_mail.pk, by_robot.pk, refused.pk}
    assert lines[by_mail.pk].levelno == logging.INFO
    assert lines[by_mail.pk].getMessage() == (
        f"通知发送 delivery={by_mail.pk} channel=email recipient=zhao@example.test "
        "attempt=1 outcome=sent"
    )
    robot = lines[by_robot.pk]
    unit_label = f"市民政局(unit={by_robot.notification.recipient_unit_id})"
    assert (robot.levelno, robot.channel, robot.recipient, robot.outcome) == (
        logging.INFO, "wecom", unit_label, "sent"
    )
    assert "SECRET-KEY" not in caplog.text
    failed = lines[refused.pk]
    assert (failed.levelno, failed.outcome) == (logging.WARNING, "failed")
    assert "errcode=93000" in failed.getMessage()
    # The e-mail carries its delivery's Message-ID and try.
    [message] = mail.outbox
    assert message.extra_headers["Message-ID"] == f"<tracker-delivery-{by_mail.pk}@localhost>"
    assert message.extra_headers[DELIVERY_HEADER] == f"{by_mail.pk}/1"
