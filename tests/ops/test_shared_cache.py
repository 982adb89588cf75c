"""Production counts in one cache shared by every process (Redis): a throttle counter written by
one process is read by another, so limits add up across gunicorn workers and web servers."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parents[2]


def _in_production_process(code: str) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "tracker.example.gov.cn",
           "DATABASE_URL": "sqlite:////tmp/unused-shared-cache.sqlite3",
           "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
           "CACHE_URL": "redis://127.0.0.1:6379/15"}
    script = f"import django; django.setup(); from django.core.cache import cache; {code}"
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def test_a_value_counted_in_one_process_is_seen_by_another():
    key = f"throttle_user_{uuid.uuid4().hex}"
    _in_production_process(f"cache.set('{key}', [1, 2, 3], 60)")
    seen = _in_production_process(f"print(cache.get('{key}'))")
    assert seen == "[1, 2, 3]"
    backend = _in_production_process(
        "from django.core.cache import caches; print(type(caches['default']).__name__)"
    )
    assert backend == "RedisCache"
