"""Sessions end after SESSION_IDLE_TIMEOUT_SECONDS without a request and, in any case,
SESSION_ABSOLUTE_LIFETIME_SECONDS after signing in; the person is told why on the login page."""

import time

import pytest
from django.test import Client
from rest_framework.test import APIClient

from config.session_limits import SEEN, STARTED
from tracker.services.auth import api_token_issue

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get("/tasks/").status_code == 200  # starts the clocks
    return client


def _age_session(client: Client, *, started_ago: float, seen_ago: float) -> None:
    session = client.session
    now = time.time()
    session[STARTED] = now - started_ago
    session[SEEN] = now - seen_ago
    session.save()


def test_an_active_session_within_both_limits_stays_signed_in(alice, settings):
    client = _signed_in(alice)
    _age_session(client, started_ago=settings.SESSION_ABSOLUTE_LIFETIME_SECONDS - 60,
                 seen_ago=settings.SESSION_IDLE_TIMEOUT_SECONDS - 60)
    assert client.get("/tasks/").status_code == 200


def test_an_idle_session_is_signed_out_with_the_reason(alice, settings):
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 30 * 60
    client = _signed_in(alice)
    _age_session(client, started_ago=31 * 60, seen_ago=31 * 60)
    response = client.get("/tasks/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/login/")
    assert "已超过30分钟未操作，已自动退出" in response.content.decode()
    assert client.get("/tasks/").status_code == 302  # really signed out


def test_a_busy_session_still_ends_at_the_absolute_lifetime(alice, settings):
    settings.SESSION_ABSOLUTE_LIFETIME_SECONDS = 12 * 3600
    client = _signed_in(alice)
    _age_session(client, started_ago=12 * 3600 + 1, seen_ago=5)
    response = client.get("/tasks/", follow=True)
    assert "登录已超过12小时" in response.content.decode()
    assert response.redirect_chain[-1][0].startswith("/login/")


def test_the_api_with_an_expired_session_answers_as_for_anyone_not_signed_in(alice, settings):
    client = _signed_in(alice)
    assert client.get("/api/v1/tasks/").status_code == 200
    _age_session(client, started_ago=60, seen_ago=settings.SESSION_IDLE_TIMEOUT_SECONDS + 1)
    assert client.get("/api/v1/tasks/").status_code in (401, 403)


def test_token_clients_have_no_session_to_expire(alice):
    _, key = api_token_issue(user=alice)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/tasks/").status_code == 200


def test_reading_pages_rewrites_the_last_seen_stamp_at_most_once_a_minute(alice):
    client = _signed_in(alice)
    first = client.session[SEEN]
    client.get("/tasks/")
    assert client.session[SEEN] == first
    _age_session(client, started_ago=120, seen_ago=90)
    client.get("/tasks/")
    assert time.time() - client.session[SEEN] < 5
