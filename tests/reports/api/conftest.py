import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.tracker.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sue(bureau):
    """Supervisor over the bureau only: out of scope for anything in the county."""
    return UserFactory(username="sue", unit=bureau, supervisor=True)


@pytest.fixture
def client_for():
    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make
