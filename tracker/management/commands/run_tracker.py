"""`make run`: the whole tracker on one machine with nothing but Python.

Migrates, loads the demo city if absent, collects static files, runs one reminder sweep (so
the demo users' inboxes hold today's reminders at once, at any hour), then starts a Celery
worker with the beat scheduler embedded (on the configured broker: the filesystem one by
default) and serves the site with waitress until interrupted.
"""

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from tracker.reminders.services import reminders_sweep


def sweep_on_start(stdout) -> None:
    """One sweep as of now, whatever the hour. The beat runs it at :30 from 8 to 20 only; a
    sweep is idempotent by state, so running it at start-up too changes nothing but timing.
    Its messages are queued on the broker and sent once the worker is up."""
    result = reminders_sweep(now=timezone.now())
    stdout.write(
        f"启动时催办扫描（{result.today:%Y-%m-%d}）：新增提醒{result.reminders}条，"
        f"消息{result.notifications}条"
    )


def waitress_options(*, trusted_proxy: str | None) -> dict:
    """waitress's settings. Alone on a laptop it trusts no forwarded header (and, by default,
    drops them). Behind a reverse proxy (TRUSTED_PROXY=its address) it takes the client's
    address and scheme from that proxy's X-Forwarded-For and X-Forwarded-Proto, trusting as
    many hops as NUM_PROXIES says, the rule of tracker.services.auth.client_address; otherwise
    the production settings' HTTPS detection would never see https and redirect forever.
    Production runs gunicorn behind nginx (deploy/); this is for a pilot that runs `make run`
    behind a proxy."""
    options = {"threads": 8, "_quiet": True}
    if trusted_proxy:
        options.update(
            trusted_proxy=trusted_proxy,
            trusted_proxy_count=max(settings.REST_FRAMEWORK.get("NUM_PROXIES") or 1, 1),
            trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"},
            clear_untrusted_proxy_headers=True,
        )
    return options


class Command(BaseCommand):
    help = "启动整改跟踪系统：网站、接口、后台任务进程与定时调度（嵌入式默认配置，含演示数据）。"

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-worker", action="store_true", help="不启动后台任务进程")
        parser.add_argument(
            "--trusted-proxy", default=os.environ.get("TRUSTED_PROXY") or None,
            help="前置反向代理的地址：信任其 X-Forwarded-For / X-Forwarded-Proto（默认不信任）",
        )

    def handle(self, *args, host, port, no_worker, trusted_proxy, **options):
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        from config.celery_app import ensure_broker_folders

        # Before the demo: its transitions notify people, and those messages are queued on
        # the broker as each one commits.
        ensure_broker_folders()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_demo", stdout=self.stdout)
        call_command("collectstatic", interactive=False, verbosity=0)
        sweep_on_start(self.stdout)

        worker = None if no_worker else self._start_worker()
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        address = f"http://{host}:{port}/"
        self.stdout.write(
            self.style.SUCCESS(f"整改跟踪系统已启动：{address}  （管理后台 {address}admin/）")
        )
        self.stdout.write("按 Ctrl+C 停止。")
        self.stdout.flush()
        try:
            from waitress import serve

            from config.wsgi import application

            options = waitress_options(trusted_proxy=trusted_proxy)
            serve(application, host=host, port=port, **options)
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()

    def _start_worker(self) -> subprocess.Popen:
        command = [
            sys.executable, "-m", "celery", "-A", "config.celery_app", "worker", "--beat",
            "--loglevel", "INFO", "--concurrency", "2",
            "--schedule", str(settings.VAR_DIR / "celerybeat-schedule"),
        ]
        return subprocess.Popen(command, env=os.environ.copy())
