"""Health of the running installation, for load balancers, systemd/compose and operators.

- ``/health/live/`` (and ``/health/``): the process answers. No database, nothing that can be
  slow: a failing liveness probe means "restart this process".
- ``/health/ready/``: every dependency a request or a reminder needs — database, migrations
  applied, cache, broker, the scheduler's heartbeat (queued by beat, run by a worker, so a stale
  stamp means one of them is down), free disk for evidence. JSON with each check's result and
  time; 503 when any fails, so a balancer stops sending traffic here.

Details name the failing part in Chinese without internals (no paths, hosts or passwords):
the endpoints answer anonymous requests.
"""

import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu.exceptions import OperationalError as BrokerError

from config.celery_app import app as celery_app
from tracker.services.heartbeat import heartbeat_seen_at


@dataclass
class CheckResult:
    ok: bool
    detail: str


def check_database() -> CheckResult:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return CheckResult(True, "数据库可用")


_migrations_known_applied = False


def check_migrations() -> CheckResult:
    # Once applied, they stay applied for this process's lifetime: load the graph only once.
    global _migrations_known_applied
    if not _migrations_known_applied:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            return CheckResult(False, f"有{len(pending)}个数据库迁移未执行（manage.py migrate）")
        _migrations_known_applied = True
    return CheckResult(True, "数据库迁移已全部执行")


def check_cache() -> CheckResult:
    key, value = "tracker:health", uuid.uuid4().hex
    cache.set(key, value, timeout=30)
    if cache.get(key) != value:
        return CheckResult(False, "缓存写入后读不到")
    return CheckResult(True, "缓存可用")


def check_broker() -> CheckResult:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.HEALTH_BROKER_TIMEOUT_SECONDS)
    return CheckResult(True, "消息队列可用")


def check_scheduler() -> CheckResult:
    seen_at = heartbeat_seen_at()
    if seen_at is None:
        return CheckResult(False, "尚未收到调度器心跳：beat或后台任务进程未运行")
    age = (timezone.now() - seen_at).total_seconds()
    if age > settings.HEALTH_HEARTBEAT_MAX_AGE_SECONDS:
        return CheckResult(False, f"调度器心跳已{int(age)}秒未更新：beat或后台任务进程可能已停止")
    return CheckResult(True, f"{int(age)}秒前收到调度器心跳")


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk() -> CheckResult:
    free = shutil.disk_usage(_existing_parent(Path(settings.PRIVATE_MEDIA_ROOT))).free
    needed = settings.HEALTH_MIN_FREE_BYTES
    if free < needed:
        return CheckResult(
            False, f"佐证材料目录剩余空间{free // 2**20} MB，低于{needed // 2**20} MB"
        )
    return CheckResult(True, f"佐证材料目录剩余空间{free // 2**20} MB")


READINESS_CHECKS: dict[str, Callable[[], CheckResult]] = {
    "database": check_database,
    "migrations": check_migrations,
    "cache": check_cache,
    "broker": check_broker,
    "scheduler": check_scheduler,
    "disk": check_disk,
}


def _run(check: Callable[[], CheckResult]) -> dict:
    started = time.perf_counter()
    try:
        result = check()
    except (DatabaseError, BrokerError, OSError, ConnectionError, TimeoutError) as exc:
        result = CheckResult(False, f"不可用（{type(exc).__name__}）")
    except Exception as exc:  # a probe reports every failure, it never raises
        result = CheckResult(False, f"检查出错（{type(exc).__name__}）")
    return {"ok": result.ok, "detail": result.detail,
            "ms": round((time.perf_counter() - started) * 1000, 1)}


@never_cache
@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    checks = {name: _run(check) for name, check in READINESS_CHECKS.items()}
    ok = all(result["ok"] for result in checks.values())
    return JsonResponse({"status": "ok" if ok else "fail", "checks": checks},
                        status=200 if ok else 503, json_dumps_params={"ensure_ascii": False})
