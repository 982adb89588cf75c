"""Shared fixtures: a small unit tree and one user per role, in the style of alice/bob.

    city (市委)            ← top supervisor `chief` (sees everything)
    ├── bureau (市教育局)   ← officer `alice`
    └── county (东湖区)     ← supervisor `sam` (sees the county's subtree)
        └── town (湖滨街道) ← officer `bob`
"""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from tests.tracker.factories import TaskFactory, UnitFactory, UserFactory
from tracker.models import Role, UnitKind

# In CI's PostgreSQL + Redis run, a test that needs those services must run, never skip.
REQUIRE_SERVICES = os.environ.get("TRACKER_REQUIRE_SERVICES") == "1"
# The real seed reports live beside the checkout (../shared/seeds) when it is there.
SEEDS_DIR = Path(
    os.environ.get("SEEDS_DIR", Path(__file__).resolve().parents[2] / "shared" / "seeds")
)
REQUIRE_SEEDS = os.environ.get("TRACKER_REQUIRE_SEEDS") == "1"


def pytest_report_header(config):
    database = settings.DATABASES["default"]
    broker = settings.CELERY_BROKER_URL.split("@")[-1]
    return [
        f"tracker database: {database['ENGINE'].rsplit('.', 1)[-1]} ({database['NAME']})",
        f"tracker broker: {broker}",
        f"services required (TRACKER_REQUIRE_SERVICES): {REQUIRE_SERVICES}",
    ]


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _skip_or_fail("needs PostgreSQL (set DATABASE_URL)")
    if item.get_closest_marker("redis") and not os.environ.get(
        "CELERY_BROKER_URL", ""
    ).startswith("redis://"):
        _skip_or_fail("needs the Redis broker (set CELERY_BROKER_URL)")
    if item.get_closest_marker("seeds") and not SEEDS_DIR.is_dir():
        if REQUIRE_SEEDS:
            pytest.fail(f"TRACKER_REQUIRE_SEEDS=1 but the seed reports are missing: {SEEDS_DIR}")
        pytest.skip(f"no seed reports at {SEEDS_DIR}")


def _skip_or_fail(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"TRACKER_REQUIRE_SERVICES=1 but this test would skip: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Uploaded evidence goes to a per-test folder, never into the checkout's var/."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def seeds_dir() -> Path:
    return SEEDS_DIR


@pytest.fixture
def city(db):
    return UnitFactory(name="江屿市委", kind=UnitKind.PARTY_COMMITTEE)


@pytest.fixture
def bureau(city):
    return UnitFactory(name="市教育局", kind=UnitKind.CITY_DEPARTMENT, parent=city)


@pytest.fixture
def county(city):
    return UnitFactory(name="东湖区", kind=UnitKind.COUNTY, parent=city)


@pytest.fixture
def town(county):
    return UnitFactory(name="湖滨街道", kind=UnitKind.TOWNSHIP, parent=county)


@pytest.fixture
def alice(bureau):
    """Officer of the bureau."""
    return UserFactory(username="alice", unit=bureau, role=Role.OFFICER)


@pytest.fixture
def bob(town):
    """Officer of a township in the county."""
    return UserFactory(username="bob", unit=town, role=Role.OFFICER)


@pytest.fixture
def sam(county):
    """Supervisor over the county's subtree."""
    return UserFactory(username="sam", unit=county, supervisor=True)


@pytest.fixture
def chief(city):
    """Top supervisor: the root unit, so every task is in scope."""
    return UserFactory(username="chief", unit=city, supervisor=True)


@pytest.fixture
def root_admin(db):
    return UserFactory(username="root", admin=True)


@pytest.fixture
def bureau_task(bureau):
    return TaskFactory(lead_unit=bureau)


@pytest.fixture
def sue(bureau):
    """Supervisor over the bureau only: out of scope for anything in the county."""
    return UserFactory(username="sue", unit=bureau, supervisor=True)


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    # Throttle counters live in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_for():
    """An API client signed in as the given user (anonymous for None)."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make
