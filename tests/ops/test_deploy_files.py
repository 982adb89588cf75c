"""deploy/ is checked, not only written: the systemd units pass `systemd-analyze verify`, the
nginx site passes `nginx -t`, and the files agree with the settings they depend on (queues,
upload limit, timeouts, required environment).

Without systemd-analyze or nginx the two tool checks skip, unless TRACKER_REQUIRE_DEPLOY_TOOLS=1
(CI installs nginx and sets it), where they fail instead.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from celery.app.routes import MapRoute
from django.conf import settings

from config import celery_queues
from config.celery_app import app

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
SITE = DEPLOY / "nginx" / "tracker.conf"
REQUIRE_TOOLS = os.environ.get("TRACKER_REQUIRE_DEPLOY_TOOLS") == "1"


def _tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists()
                                  else None)
    if path is None:
        if REQUIRE_TOOLS:
            pytest.fail(f"TRACKER_REQUIRE_DEPLOY_TOOLS=1 but {name} is not installed")
        pytest.skip(f"{name} is not installed")
    return path


def _env_example() -> dict[str, str]:
    pairs = {}
    for line in (DEPLOY / "tracker.env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def _compose_command(service: dict) -> str:
    command = service.get("command", "")
    return command if isinstance(command, str) else " ".join(command)


def _registered_task_names() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


# --- Queues ----------------------------------------------------------------------------------


def test_every_task_is_routed_to_a_declared_queue():
    names = _registered_task_names()
    assert "tracker.tasks.reminders_sweep" in names  # the app's tasks are really loaded
    route = MapRoute(celery_queues.ROUTES)
    unrouted = sorted(name for name in names if route(name) is None)
    assert unrouted == [], f"tasks without a queue in config/celery_queues.py: {unrouted}"
    assert {route(name)["queue"] for name in names} <= set(celery_queues.QUEUES)


def test_each_kind_of_work_has_its_own_queue():
    route = MapRoute(celery_queues.ROUTES)
    assert route("tracker.tasks.reminders_sweep")["queue"] == celery_queues.SWEEPS
    assert route("tracker.tasks.send_delivery_batch")["queue"] == celery_queues.DELIVERIES
    assert route("tracker.tasks.ledger_import_job")["queue"] == celery_queues.LEDGERS
    assert route("reports.tasks.report_import_run")["queue"] == celery_queues.DOCUMENTS
    assert len(set(celery_queues.QUEUES)) == 4


def test_production_settings_route_by_kind_and_can_be_switched_off():
    code = ("import django, json; django.setup(); from django.conf import settings as s; "
            "print(json.dumps([getattr(s, 'CELERY_TASK_DEFAULT_QUEUE', 'celery'), "
            "[q.name for q in getattr(s, 'CELERY_TASK_QUEUES', None) or []], "
            "sorted(getattr(s, 'CELERY_TASK_ROUTES', None) or {})]))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "tracker.example.gov.cn",
           "DATABASE_URL": "sqlite:////tmp/unused.sqlite3",
           "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}

    def read(**extra) -> list:
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, **extra},
                             capture_output=True, text=True, check=True).stdout
        return yaml.safe_load(out.strip().splitlines()[-1])

    default_queue, queues, routes = read()
    assert default_queue == celery_queues.SWEEPS
    assert queues == list(celery_queues.QUEUES)
    assert routes == sorted(celery_queues.ROUTES)
    assert read(CELERY_QUEUES_BY_KIND="False") == ["celery", [], []]


def test_systemd_and_compose_start_one_worker_per_queue_and_exactly_one_beat():
    target = (UNITS / "tracker.target").read_text(encoding="utf-8")
    systemd_queues = set(re.findall(r"tracker-worker@([a-z]+)\.service", target))
    assert systemd_queues == set(celery_queues.QUEUES)
    assert len(re.findall(r"\btracker-beat\.service", target)) == 1

    services = _compose()["services"]
    compose_queues = {
        re.search(r"--queues (\S+)", _compose_command(service)).group(1)
        for name, service in services.items() if name.startswith("worker-")
    }
    assert compose_queues == set(celery_queues.QUEUES)
    beats = [name for name, service in services.items()
             if re.search(r"celery_app\b.*\bbeat\b", _compose_command(service))]
    assert beats == ["beat"]
    assert "deploy" not in services["beat"]  # no replicas: one scheduler


# --- Settings the files depend on ------------------------------------------------------------


def _required_production_env() -> set[str]:
    source = (ROOT / "config" / "settings" / "production.py").read_text(encoding="utf-8")
    return set(re.findall(r'env\.(?:str|list|db|int|bool)\("([A-Z_]+)"\)', source))


def test_the_environment_template_names_every_required_setting():
    required = _required_production_env()
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL"} <= required
    example = _env_example()
    assert required <= set(example), f"missing in tracker.env.example: {required - set(example)}"
    assert example["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert int(example["EVIDENCE_MAX_BYTES"]) == settings.EVIDENCE_MAX_BYTES
    assert example["NUM_PROXIES"] == "1"  # nginx is the one proxy in front of gunicorn


def _nginx_size(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", text).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


def test_nginx_refuses_bodies_above_the_evidence_limit_and_waits_as_long_as_gunicorn():
    site = SITE.read_text(encoding="utf-8")
    body_limit = _nginx_size(re.search(r"client_max_body_size (\S+);", site).group(1))
    # Room for the multipart form around one file, but not a second file's worth.
    assert settings.EVIDENCE_MAX_BYTES < body_limit < 2 * settings.EVIDENCE_MAX_BYTES
    read_timeout = int(re.search(r"proxy_read_timeout (\d+)s;", site).group(1))
    assert read_timeout == int(_env_example()["WEB_TIMEOUT"])
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert re.search(r"alias /srv/tracker/var/staticfiles/;", site)
    assert _env_example()["STATIC_ROOT"] == "/srv/tracker/var/staticfiles"


# --- The tools themselves --------------------------------------------------------------------


def test_systemd_units_pass_systemd_analyze_verify(tmp_path):
    analyze = _tool("systemd-analyze")
    # The units name /srv/tracker and /etc/tracker; verify checks that ExecStart's programs
    # exist, so the check runs on a copy pointed at a stand-in installation.
    srv = tmp_path / "srv"
    (srv / ".venv" / "bin").mkdir(parents=True)
    for program in ("gunicorn", "celery", "python"):
        stub = srv / ".venv" / "bin" / program
        stub.write_text("#!/bin/sh\n")
        stub.chmod(0o755)
    (tmp_path / "tracker.env").write_text("", encoding="utf-8")
    for unit in UNITS.iterdir():
        text = unit.read_text(encoding="utf-8")
        text = text.replace("/etc/tracker/tracker.env", str(tmp_path / "tracker.env"))
        (tmp_path / unit.name).write_text(text.replace("/srv/tracker", str(srv)),
                                          encoding="utf-8")
    names = ["tracker-web.service", "tracker-beat.service", "tracker.target",
             "tracker-backup.service", "tracker-backup.timer"] + [
        f"tracker-worker@{queue}.service" for queue in celery_queues.QUEUES
    ]
    result = subprocess.run([analyze, "verify", *names], cwd=tmp_path,
                            capture_output=True, text=True)
    # verify exits 0 on unknown keys and bad values, printing a warning: both must be silent.
    assert result.returncode == 0, result.stderr
    assert not result.stderr.strip(), result.stderr


def test_nginx_site_passes_nginx_t(tmp_path):
    nginx = _tool("nginx")
    openssl = _tool("openssl")
    tls = tmp_path / "tls"
    tls.mkdir()
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=tracker.example.gov.cn", "-keyout", str(tls / "tracker.key"),
         "-out", str(tls / "tracker.crt")],
        check=True, capture_output=True,
    )
    site = tmp_path / "tracker.conf"
    site.write_text(SITE.read_text(encoding="utf-8").replace("/etc/tracker/tls", str(tls)),
                    encoding="utf-8")
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {site};\n}}\n",
        encoding="utf-8",
    )
    result = subprocess.run([nginx, "-t", "-e", "stderr", "-p", str(tmp_path), "-c", str(conf)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_production_parses_every_uploaded_ledger_in_the_worker():
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.TRACKER_LEDGER_IMPORTS_IN_WORKER)")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "tracker.example.gov.cn",
           "DATABASE_URL": "sqlite:////tmp/unused.sqlite3",
           "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}
    env.pop("TRACKER_LEDGER_IMPORTS_IN_WORKER", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "True"
