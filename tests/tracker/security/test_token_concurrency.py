"""Issue #14 on PostgreSQL (real row locks): simultaneous sign-ins of one script (same user,
same client name) leave exactly one live token, and simultaneous issues never exceed
API_TOKEN_MAX_PER_USER."""

import threading
from functools import partial

import pytest
from django.utils import timezone

from tests.threads import start_in_thread
from tracker.errors import InvalidInput
from tracker.models import ApiToken
from tracker.services import auth as auth_services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run_all(calls):
    barrier = threading.Barrier(len(calls))
    results = {}
    threads = [start_in_thread(call, results, i, barrier) for i, call in enumerate(calls)]
    for thread in threads:
        thread.join(30)
    return results


def test_simultaneous_issues_for_one_client_leave_one_live_token(alice):
    results = _run_all([partial(auth_services.api_token_issue, user=alice, name="同步脚本")
                        for _ in range(6)])
    assert all(isinstance(result, tuple) for result in results.values()), results
    live = ApiToken.objects.filter(user=alice, revoked_at__isnull=True,
                                   expires_at__gt=timezone.now())
    assert live.count() == 1
    assert ApiToken.objects.filter(user=alice).count() == 6


def test_simultaneous_issues_respect_the_limit(alice, settings):
    settings.API_TOKEN_MAX_PER_USER = 3
    results = _run_all([partial(auth_services.api_token_issue, user=alice, name=f"脚本{i}")
                        for i in range(6)])
    refused = [r for r in results.values() if isinstance(r, InvalidInput)]
    assert len(refused) == 3, results
    assert ApiToken.objects.filter(user=alice, revoked_at__isnull=True).count() == 3
