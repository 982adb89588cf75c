"""Logs: one JSON object per line with the request's id and user; a refused permission is one
line, not a traceback; a crash keeps its traceback inside the same line."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from config.logging import ClientErrorsOnOneLine, JsonFormatter, RequestContextFilter

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def request_log():
    """What the production handler would write for django.request, as a list of lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    handler.addFilter(ClientErrorsOnOneLine())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        yield lambda: [line for line in stream.getvalue().splitlines() if line]
    finally:
        logger.removeHandler(handler)


def test_a_refused_permission_is_one_json_line_with_request_and_user(alice, request_log):
    client = Client()
    client.force_login(alice)
    response = client.get("/review/")  # an officer at the supervisors' queue
    assert response.status_code == 403

    [line] = request_log()
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["status"] == 403
    assert entry["request_id"] == response["X-Request-ID"]
    assert entry["user_id"] == alice.pk
    assert "exception" not in entry
    assert "Traceback" not in line


def test_a_sane_request_id_from_the_proxy_is_kept_and_a_forged_one_replaced(client):
    kept = client.get("/health/live/", HTTP_X_REQUEST_ID="nginx-0123456789abcdef")
    assert kept["X-Request-ID"] == "nginx-0123456789abcdef"
    forged = client.get("/health/live/", HTTP_X_REQUEST_ID='x"\n{"level":"CRITICAL"}')
    assert forged["X-Request-ID"] != 'x"\n{"level":"CRITICAL"}'
    assert len(forged["X-Request-ID"]) == 32


def test_a_crash_keeps_its_traceback_inside_one_line():
    formatter = JsonFormatter()
    try:
        raise RuntimeError("坏了")
    except RuntimeError:
        record = logging.getLogger("x").makeRecord(
            "django.request", logging.ERROR, __file__, 1, "Internal Server Error: /x", (),
            sys.exc_info(), extra={"status_code": 500},
        )
    ClientErrorsOnOneLine().filter(record)
    RequestContextFilter().filter(record)
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert "RuntimeError: 坏了" in entry["exception"]
    assert entry["request_id"] == "-"


def test_fields_given_as_extra_are_fields_of_the_json_line():
    record = logging.getLogger("x").makeRecord(
        "tracker.reminders.notifications", logging.INFO, __file__, 1, "通知发送 delivery=7", (),
        None, extra={"delivery_id": 7, "channel": "email", "outcome": "sent",
                     "not_plain": object()},
    )
    RequestContextFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["delivery_id"], entry["channel"], entry["outcome"]) == (7, "email", "sent")
    assert "not_plain" not in entry  # only plain values: a log line never fails to serialise
    assert "args" not in entry
    assert "levelno" not in entry


def test_production_settings_log_json_lines():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "tracker.example.gov.cn",
           "DATABASE_URL": "sqlite:////tmp/unused.sqlite3",
           "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}
    env.pop("LOG_FORMAT", None)
    code = "import django, logging; django.setup(); logging.getLogger('tracker').info('已发送')"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=True)
    [line] = [ln for ln in result.stderr.splitlines() if "已发送" in ln]
    entry = json.loads(line)
    assert entry == {**entry, "level": "INFO", "logger": "tracker", "message": "已发送",
                     "request_id": "-", "user_id": "-"}
