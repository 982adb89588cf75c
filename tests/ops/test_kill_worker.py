"""Issue 14 acceptance: deliveries survive a killed worker, each exactly once, recovered
promptly.

Two real `celery worker` processes and one `celery beat` (django-celery-beat's scheduler) on
Redis, against the test PostgreSQL database, send 200 digest e-mails (the real sweep, run by a
worker) to a real SMTP server in this process that takes 50 ms over each message. The server
listens on one port per worker, so it knows whose session a message is; at its 20th message a
worker is killed with SIGKILL while it waits for the answer to DATA: in the middle of its batch,
its claim held, the rest of its batch waiting, its queue message unacknowledged (Redis would
only hand that back after the visibility timeout, an hour). The workers run with a 3 s lease
and the beat queues the requeue every second (on a queue of its own, as production routes it
to `sweeps`), so the other worker sends the rest.

Every Message-ID arrives exactly once and every delivery ends "sent". (The one window left,
a worker killed after the server's acceptance and before "sent" is committed, cannot be closed;
tests/tracker/reminders/test_delivery_lease.py shows the resend it causes is recognisable.)
"""

import asyncio
import email
import email.policy
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import factory
import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.utils import timezone

from config.celery_app import app
from tests.databases import database_url_of_test_db
from tests.tracker.factories import TaskFactory, UnitFactory, UserFactory
from tests.tracker.reminders.conftest import _free_port, wait_until
from tracker.models import Delivery, DeliveryStatus, Role, User
from tracker.reminders.transports import DELIVERY_HEADER
from tracker.workdays import add_workdays

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker]

ROOT = Path(__file__).resolve().parents[2]
UNITS, OFFICERS_PER_UNIT = 10, 20  # 200 officers with e-mail: 200 digests
SLOW_SECONDS = 0.05  # the SMTP server's time over each message
KILL_AT = 20  # the victim's message at which it dies
LEASE_SECONDS = 3


class Mailbox:
    """The SMTP server's record: what it accepted (by Message-ID), on whose session."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: list[tuple[str, str, str]] = []  # (worker, Message-ID, try header)
        self.counts: Counter = Counter()
        self.pids: dict[str, int] = {}
        self.killed: str | None = None
        self.killed_try = ""
        self.killed_at = 0.0

    def handler(self, worker: str) -> "PortHandler":
        return PortHandler(self, worker)


class PortHandler:
    def __init__(self, mailbox: Mailbox, worker: str) -> None:
        self.mailbox = mailbox
        self.worker = worker

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(SLOW_SECONDS)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        box = self.mailbox
        with box.lock:
            box.counts[self.worker] += 1
            if box.killed is None and box.counts[self.worker] == KILL_AT:
                # Before answering: the message is not accepted, the worker is mid-batch.
                os.kill(box.pids[self.worker], signal.SIGKILL)
                box.killed, box.killed_try = self.worker, str(message[DELIVERY_HEADER])
                box.killed_at = time.monotonic()
                return "421 Service not available"
            box.accepted.append(
                (self.worker, str(message["Message-ID"]), str(message[DELIVERY_HEADER]))
            )
        return "250 Message accepted for delivery"


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config.celery_app", *args],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )


def _stop(processes: list[subprocess.Popen]) -> None:
    """Ask them all to stop at once, then wait; kill what does not stop."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _forget_queues(names: list[str]) -> None:
    """Leave nothing behind in Redis: the queues, their bindings and the dead worker's
    unacknowledged message (Redis would put it back in its queue an hour later)."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        client = channel.client
        for name in names:
            channel.queue_delete(name)
            # The bindings the workers declared (this process's channel does not know them).
            client.delete(channel.keyprefix_queue % name,
                          channel.keyprefix_binding_permanent % name)
        for tag, raw in client.hgetall(channel.unacked_key).items():
            _payload, _exchange, routing_key = json.loads(raw)
            if routing_key in names:
                client.zrem(channel.unacked_index_key, tag)
                client.hdel(channel.unacked_key, tag)


@pytest.fixture
def mailbox(caplog):
    caplog.set_level(logging.WARNING, logger="mail.log")  # aiosmtpd's line per SMTP command
    box = Mailbox()
    controllers = {}
    for worker in ("a", "b"):
        controllers[worker] = Controller(
            box.handler(worker), hostname="127.0.0.1", port=_free_port()
        )
        controllers[worker].start()
    box.ports = {worker: c.port for worker, c in controllers.items()}
    yield box
    for controller in controllers.values():
        controller.stop()


class Processes:
    def __init__(self, queue: str, tmp_path: Path) -> None:
        self.queue = queue
        self.tmp_path = tmp_path
        self.running: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def start(self, name: str, args: list[str], env: dict) -> subprocess.Popen:
        self.logs[name] = self.tmp_path / f"{name}.log"
        self.running[name] = _start(args, env, self.logs[name])
        return self.running[name]

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")

    def wait_ready(self) -> None:
        def ready() -> bool:
            for name, process in self.running.items():
                if process.poll() is not None:
                    pytest.fail(f"{name} 退出：\n{self.log(name)[-3000:]}")
            return all(" ready." in self.log(w) for w in ("a", "b")) \
                and "Sending due task deliveries-requeue" in self.log("beat")

        wait_until(ready, timeout=60, interval=0.2, what="两个 worker 和 beat 启动")


@pytest.fixture
def two_workers_and_a_beat(transactional_db, mailbox, tmp_path):
    """Two solo workers (one per SMTP port) and a beat, on queues of their own: deliveries,
    and the periodic work (the sweep, the requeue). Started here, waited for by the test."""
    queue = f"kill-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.ops.kill_worker_settings",
        "DATABASE_URL": database_url_of_test_db(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "KILL_TEST_SWEEPS_QUEUE": f"{queue}-sweeps",
        "EMAIL_HOST": "127.0.0.1",
        "TRACKER_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
        "TRACKER_DELIVERY_REQUEUE_SECONDS": "1",
        "TRACKER_DIGEST_BATCH_SIZE": "50",
        "PYTHONUNBUFFERED": "1",
    }
    processes = Processes(queue, tmp_path)
    try:
        for worker in ("a", "b"):
            process = processes.start(
                worker,
                ["worker", "-Q", f"{queue},{queue}-sweeps", "-P", "solo", "-l", "INFO",
                 "--without-gossip", "--without-mingle", "--without-heartbeat",
                 "-n", f"{worker}.{queue}@%h"],
                {**env, "EMAIL_PORT": str(mailbox.ports[worker])},
            )
            mailbox.pids[worker] = process.pid
        processes.start("beat", ["beat", "-l", "INFO"], env)
        yield processes
    finally:
        _stop(list(processes.running.values()))
        _forget_queues([queue, f"{queue}-sweeps"])


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    two_workers_and_a_beat, mailbox
):
    processes = two_workers_and_a_beat
    today = timezone.localdate()
    for u in range(UNITS):
        unit = UnitFactory(name=f"单位{u}")
        User.objects.bulk_create(UserFactory.build_batch(
            OFFICERS_PER_UNIT, unit=unit, role=Role.OFFICER,
            email=factory.Sequence(lambda n: f"officer{n}@example.test"),
        ))
        TaskFactory(lead_unit=unit, deadline=add_workdays(today, -1))
    processes.wait_ready()

    started = time.monotonic()
    # The beat's sweep, run by a worker now: it records the reminders and queues four batches.
    app.send_task("tracker.tasks.reminders_sweep", queue=f"{processes.queue}-sweeps")
    expected = UNITS * OFFICERS_PER_UNIT

    victim_claim_returned_at = None

    def all_sent() -> bool:
        nonlocal victim_claim_returned_at
        if mailbox.killed and victim_claim_returned_at is None:
            victim_id = int(mailbox.killed_try.split("/")[0])
            if Delivery.objects.filter(pk=victim_id).exclude(status="sending").exists():
                victim_claim_returned_at = time.monotonic()
        return (
            Delivery.objects.filter(status=DeliveryStatus.SENT).count() == expected
            and len(mailbox.accepted) >= expected
        )

    wait_until(all_sent, timeout=90, interval=0.2, what="200封邮件全部发送")
    time.sleep(1.5)  # nothing arrives late: every delivery is sent, none is left to requeue

    # A worker was killed mid-batch, by SIGKILL.
    assert mailbox.killed is not None, "no worker reached its 20th message"
    victim = processes.running[mailbox.killed]
    assert victim.wait(timeout=5) == -signal.SIGKILL
    survivor = "b" if mailbox.killed == "a" else "a"
    assert processes.running[survivor].poll() is None

    # Exactly once: every delivery's Message-ID arrived once, and every delivery is sent.
    deliveries = list(Delivery.objects.values_list("pk", "status", "channel"))
    assert len(deliveries) == expected
    assert {status for _, status, _ in deliveries} == {DeliveryStatus.SENT}
    assert {channel for _, _, channel in deliveries} == {"email"}
    received = Counter(message_id for _, message_id, _ in mailbox.accepted)
    assert received == Counter({f"<tracker-delivery-{pk}@localhost>": 1
                                for pk, _, _ in deliveries})

    # The message the victim died sending went out once, on try 2, from the survivor.
    victim_id, first_try = mailbox.killed_try.split("/")
    assert first_try == "1"
    [(sender, _, second_try)] = [
        entry for entry in mailbox.accepted
        if entry[1] == f"<tracker-delivery-{victim_id}@localhost>"
    ]
    assert (sender, second_try) == (survivor, f"{victim_id}/2")
    assert mailbox.counts[mailbox.killed] == KILL_AT
    assert f"delivery={victim_id} channel=email" in processes.log(survivor)

    # Prompt: the dead worker's claim came back within seconds (lease 3 s, requeue every
    # second, run once the survivor is between two batches), not after 20 minutes.
    assert victim_claim_returned_at is not None
    assert victim_claim_returned_at - mailbox.killed_at < 20, started
    # Every send has its INFO line in the worker logs.
    assert (processes.log("a") + processes.log("b")).count("outcome=sent") == expected
