"""Crash reports: off without SENTRY_DSN; with it, a server error reaches the intranet's
Sentry-compatible server (a real HTTP server here) tagged with the request id, and nothing
personal is sent."""

import gzip
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import django, logging
django.setup()
from django.conf import settings
from django.test import Client
from django.urls import path
import config.urls

def broken(request):
    raise RuntimeError("报表生成失败")

config.urls.urlpatterns.append(path("broken-for-test/", broken))
settings.ALLOWED_HOSTS = ["testserver"]
settings.SECURE_SSL_REDIRECT = False
response = Client(raise_request_exception=False).get(
    "/broken-for-test/", HTTP_X_REQUEST_ID="req-0123456789", secure=True,
    HTTP_AUTHORIZATION="Token secret-token-value")
print("STATUS", response.status_code)
import sentry_sdk
sentry_sdk.flush(timeout=10)
"""


class _Collector(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        type(self).received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_server():
    _Collector.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def _run(extra_env: dict) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "testserver",
           "DATABASE_URL": "sqlite:////tmp/unused-error-reporting.sqlite3",
           "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0", "SENTRY_DSN": "", **extra_env}
    return subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _events(raw: list[bytes]) -> list[dict]:
    events = []
    for envelope in raw:
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


def test_a_server_error_reaches_the_configured_server_with_the_request_id(sentry_server):
    port = sentry_server.server_address[1]
    result = _run({"SENTRY_DSN": f"http://publickey@127.0.0.1:{port}/1"})
    assert "STATUS 500" in result.stdout, result.stderr
    events = _events(_Collector.received)
    assert events, "no event reached the server"
    event = events[0]
    assert event["exception"]["values"][-1]["value"] == "报表生成失败"
    assert event["tags"]["request_id"] == "req-0123456789"
    assert event["environment"] == "production"
    assert "secret-token-value" not in json.dumps(event, ensure_ascii=False)


def test_without_a_dsn_nothing_is_sent(sentry_server):
    result = _run({})
    assert "STATUS 500" in result.stdout, result.stderr
    assert _Collector.received == []
