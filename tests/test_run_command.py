"""Acceptance: the run command, on the embedded defaults, migrates, loads
the demo city, serves /admin/ where a demo user logs in and sees the demo tasks, and its
worker logs beat ticks."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, seconds: float, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        assert process.poll() is None, log.read_text()
        time.sleep(0.5)
    raise AssertionError(f"timed out; output:\n{log.read_text()}")


def responds(url: str) -> bool:
    try:
        return urllib.request.urlopen(url, timeout=2).status == 200
    except OSError:
        return False


class Browser:
    """Just enough of a browser: keeps cookies by hand (http.cookiejar ignores them for bare
    IP hosts) and follows the redirect after login."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def _request(self, url: str, data: dict | None = None) -> urllib.request.Request:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body)
        request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        return request

    def _remember(self, headers) -> None:
        for header in headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]

    def get(self, url: str) -> str:
        response = urllib.request.urlopen(self._request(url), timeout=10)
        self._remember(response.headers)
        return response.read().decode()

    def post(self, url: str, data: dict) -> str:
        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(self._request(url, data), timeout=10)  # a refused login answers 200
        assert redirect.value.code == 302
        self._remember(redirect.value.headers)
        return self.get(urllib.parse.urljoin(url, redirect.value.headers["Location"]))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_run_command_serves_admin_with_demo_data_and_ticks(tmp_path):
    port = free_port()
    log = tmp_path / "run.log"
    # The embedded defaults: no DATABASE_URL, no CELERY_BROKER_URL, state under a fresh var/.
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(TRACKER_VAR_DIR=str(tmp_path / "var"), BEAT_HEARTBEAT_SECONDS="2")
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_tracker", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: responds(f"{base}/health/"), 120, process, log)
        output = log.read_text()
        assert "整改任务27项" in output
        assert "演示报告：已导入" in output
        assert re.search(r"zgb\s+demo12345", output)
        # Issue 11: one reminder sweep at start, whatever the hour.
        assert re.search(
            r"启动时催办扫描（[0-9-]+）：新增提醒[1-9][0-9]*条，消息[1-9][0-9]*条", output
        )

        browser = Browser()
        login_page = browser.get(f"{base}/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
        task_list = browser.post(f"{base}/admin/login/?next=/admin/tracker/task/", {
            "csrfmiddlewaretoken": token, "username": "zgb", "password": "demo12345",
            "next": "/admin/tracker/task/",
        })
        assert "建立签约项目全周期跟踪台账" in task_list
        assert "27 整改任务" in task_list or "27 个整改任务" in task_list

        wait_for(lambda: "beat tick" in log.read_text(), 60, process, log)
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=60)
