"""Tests: the same code as production, on whatever DATABASE_URL / CELERY_BROKER_URL say."""

import hashlib
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES, env

SECRET_KEY = env.str("SECRET_KEY", default="test-only-secret-key-not-for-production-use-0123456789")
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The working-day calendar is rebuilt only when a service changes the overrides (tests that need
# the cross-process check set a number), so pinned query counts do not depend on the clock.
WORKDAY_CALENDAR_RECHECK_SECONDS = None

# Keep the embedded broker's messages apart from a `make run` on the same checkout.
if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    BROKER_DIR = VAR_DIR / "test-broker"  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),  # default: ./control in the cwd
        "store_processed": False,
    }

# One process's memory (each test starts with it cleared, tests/conftest.py), not the files a
# `make run` on the same checkout keeps in var/cache.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Serve static files from the apps' folders without a collectstatic step in tests.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests that drive a real worker process need a test database the worker can open too:
    # a file (per checkout) instead of SQLite's in-memory default.
    _checkout = hashlib.sha1(str(BASE_DIR).encode()).hexdigest()[:8]
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(
        Path(env.str("TRACKER_TEST_DB_DIR", default=tempfile.gettempdir()))
        / f"test_tracker_{_checkout}.sqlite3"
    )

