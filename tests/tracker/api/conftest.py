import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.tracker.factories import TaskFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    # Throttle counters live in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sue(bureau):
    """Supervisor over the bureau only: out of scope for anything in the county."""
    return UserFactory(username="sue", unit=bureau, supervisor=True)


@pytest.fixture
def town_task(town, county):
    """A task led by bob's township: in sam's scope, not in sue's or alice's."""
    return TaskFactory(lead_unit=town)


@pytest.fixture
def client_for():
    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make
