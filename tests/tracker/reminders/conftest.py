"""Real servers for the reminder tests: a webhook HTTP server and an SMTP server on 127.0.0.1,
and a real Celery worker process on the configured broker (embedded or Redis)."""

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection

from tests.databases import database_url_of_test_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
REPO = Path(__file__).resolve().parents[3]


def at(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    """An aware datetime at local (Asia/Shanghai) wall-clock time."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def wait_until(condition, timeout: float = 30.0, interval: float = 0.1, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"等待超时（{timeout}s）：{what}")


# --- webhook server -----------------------------------------------------------------------


class WebhookServer:
    """Records every POST; answers from a per-path script of statuses, then 200 errcode 0,
    after a per-path delay in seconds (a slow robot server)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.scripts: dict[str, list] = {}
        self.always: dict[str, tuple[int, dict]] = {}
        self.delays: dict[str, float] = {}
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                parsed = urllib.parse.urlsplit(self.path)
                time.sleep(server.delays.get(parsed.path, 0))
                with server.lock:
                    script = server.scripts.get(parsed.path)
                    if parsed.path in server.always:
                        status, answer = server.always[parsed.path]
                    elif script:
                        status, answer = script.pop(0)
                    else:
                        status, answer = 200, {"errcode": 0, "errmsg": "ok"}
                    server.requests.append({
                        "path": parsed.path,
                        "query": urllib.parse.parse_qs(parsed.query),
                        "headers": dict(self.headers),
                        "body": json.loads(raw.decode("utf-8")),
                        "status": status,
                        "answer": answer,
                    })
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def received(self, path: str, ok_only: bool = False) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["path"] == path
                    and (not ok_only or (r["status"] == 200 and r["answer"].get("errcode") == 0))]

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.scripts.clear()
            self.always.clear()
            self.delays.clear()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def _webhook_server():
    server = WebhookServer()
    yield server
    server.close()


@pytest.fixture
def webhook_server(_webhook_server):
    _webhook_server.reset()
    yield _webhook_server
    _webhook_server.reset()


# --- SMTP server --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture(scope="session")
def smtp_server():
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller
    controller.stop()


# --- Celery worker ------------------------------------------------------------------------


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, smtp_server, tmp_path_factory):
    """A real `celery worker` process on the configured broker, consuming a queue of its own.

    Starts once per session, is always terminated. Tests that use it need `transactional_db`
    so that the worker sees their committed rows.
    """
    from config.celery_app import app

    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:", ":memory:")
    ):
        pytest.fail("worker tests need a file-backed SQLite test database")
    queue = f"tracker-test-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue  # before the first message is sent by this process
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.tracker.reminders.worker_settings",
        "DATABASE_URL": database_url_of_test_db(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port),
        "TRACKER_DELIVERY_MAX_RETRIES": "2",
        "TRACKER_DELIVERY_RETRY_BACKOFF_MAX": "2",
        "TRACKER_WEBHOOK_TIMEOUT": "5",
        "PYTHONUNBUFFERED": "1",
    }
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]).mkdir(
            parents=True, exist_ok=True
        )
        Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["processed_folder"]).mkdir(
            parents=True, exist_ok=True
        )
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config.celery_app", "worker", "-Q", queue,
             "-P", "solo", "-l", "INFO", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-n", f"{queue}@%h"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    worker = Worker(process, log)
    try:
        wait_until(
            lambda: process.poll() is not None or " ready." in worker.output(),
            timeout=60, what="Celery worker 启动",
        )
        if process.poll() is not None:
            pytest.fail(f"Celery worker 退出：\n{worker.output()[-3000:]}")
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
