"""Issue #11, part 4: error pages 400/403/404/500 in Chinese in the site's layout, with the
reason when the code gave one; the demo runs with DEBUG off and still serves its static files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import get_resolver

from tests.tracker.factories import TaskFactory

ROOT = Path(__file__).resolve().parents[2]


def _client(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_refusal_shows_its_reason(alice):
    response = _client(alice).get("/review/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "无权访问" in html
    assert "只有督导人员可以审核" in html  # the PermissionDenied's own message
    assert "navbar-tracker" in html


@pytest.mark.django_db
def test_a_task_out_of_sight_is_a_404_with_its_reason(alice, town):
    task = TaskFactory(lead_unit=town)
    response = _client(alice).get(f"/tasks/{task.pk}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html
    assert "任务不存在或您无权查看" in html
    assert task.title not in html


@pytest.mark.django_db
def test_english_messages_from_django_are_not_shown(chief):
    # get_object_or_404 raises "No DeadlineExtension matches the given query."
    response = _client(chief).post("/extensions/999999/approve/", {"note": ""})
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html
    assert "matches" not in html
    assert 'id="error-reason"' not in html


@pytest.mark.parametrize(
    ("status", "exception", "shown"),
    [(400, BadRequest("筛选条件有误"), "筛选条件有误"),
     (403, PermissionDenied("只有督导人员可以导入整改台账"), "只有督导人员可以导入整改台账"),
     (404, Http404("消息不存在"), "消息不存在"),
     (403, PermissionDenied(), None),
     (404, Exception("内部细节"), None)],
)
def test_the_handlers_show_a_chinese_reason_only_from_a_refusal(status, exception, shown):
    handler = get_resolver().resolve_error_handler(status)
    html = handler(RequestFactory().get("/somewhere/"), exception).content.decode()
    if shown:
        assert f'<p class="lead error-reason" id="error-reason">{shown}</p>' in html
    else:
        assert 'id="error-reason"' not in html
        assert "内部细节" not in html


@pytest.mark.django_db
def test_a_failed_csrf_check_is_the_chinese_403_page(alice):
    response = _client(alice, enforce_csrf_checks=True).post("/inbox/read-all/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "页面已过期" in html
    assert "CSRF" not in html


DEMO_PROBE = r"""
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
css = client.get("/static/web/css/site.css")
bootstrap = client.get("/static/bootstrap/css/bootstrap.min.css")
missing = client.get("/no-such-page/")
print(json.dumps({
    "debug": settings.DEBUG,
    "css": [css.status_code, css.get("Content-Type", ""),
            b"".join(css.streaming_content)[:200].decode()],
    "bootstrap": [bootstrap.status_code, bootstrap.get("Content-Type", "")],
    "missing": [missing.status_code, missing.content.decode()],
}))
"""


def test_the_demo_settings_run_with_debug_off_and_still_serve_static_files(tmp_path):
    """`make run` uses config.settings.local: DEBUG is off unless DEBUG=1, and the CSS is
    served by WhiteNoise even from an empty STATIC_ROOT (nothing collected yet)."""
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"} | {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "TRACKER_VAR_DIR": str(tmp_path),
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", DEMO_PROBE], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["debug"] is False
    status, content_type, body = probe["css"]
    assert (status, content_type.split(";")[0]) == (200, "text/css")
    assert "--tracker-font" in body
    assert probe["bootstrap"][0] == 200
    status, html = probe["missing"]
    assert status == 404
    assert "页面不存在" in html
    assert "Page not found" not in html


def test_a_developer_asks_for_debug_pages_with_debug_1(tmp_path):
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.local", "DEBUG": "1",
        "TRACKER_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings;"
         " print(settings.DEBUG)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.stdout.strip() == "True", result.stderr
