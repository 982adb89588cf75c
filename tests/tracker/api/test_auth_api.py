"""Session and token sign-in, and the login lockout per account and address."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from tests.tracker.factories import UserFactory
from tracker.models import LoginFailure
from tracker.services import auth as auth_services

pytestmark = pytest.mark.django_db

PASSWORD = "demo-pass-123"  # the factories' password


def _token(client, username, password, address="10.0.0.1"):
    return client.post("/api/v1/auth/token/", {"username": username, "password": password},
                       REMOTE_ADDR=address)


def test_token_sign_in_then_token_authenticates_requests(alice):
    response = _token(APIClient(), "alice", PASSWORD)
    assert response.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/users/me/").json()["username"] == "alice"
    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert client.get("/api/v1/users/me/").status_code == 401


def test_session_login_and_logout(alice):
    client = APIClient()
    response = client.post("/api/v1/auth/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert client.get("/api/v1/users/me/").status_code == 200
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get("/api/v1/users/me/").status_code == 401


def test_session_login_requires_the_csrf_token(alice):
    client = APIClient(enforce_csrf_checks=True)
    response = client.post("/api/v1/auth/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_wrong_password_is_refused_in_chinese(alice):
    response = _token(APIClient(), "alice", "wrong")
    assert response.status_code == 400
    assert response.json() == {"code": "invalid_credentials", "detail": "用户名或密码错误",
                               "fields": {}}


def test_account_locks_after_repeated_failures_even_for_the_right_password(alice, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 3
    client = APIClient()
    codes = [_token(client, "alice", "wrong").status_code for _ in range(3)]
    assert codes == [400, 400, 429]

    locked = _token(client, "alice", PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["code"] == "login_locked"
    assert "秒后再试" in locked.json()["detail"]
    assert int(locked["Retry-After"]) > 0

    # The same account from another address is not locked by these failures.
    assert _token(client, "alice", PASSWORD, address="10.0.0.2").status_code == 200


def test_address_locks_after_failures_across_accounts(alice, bob, settings):
    settings.LOGIN_LOCKOUT_ADDRESS_FAILURES = 4
    client = APIClient()
    for name in ("a", "b", "c", "d"):
        _token(client, name, "guess")
    assert _token(client, "bob", PASSWORD).status_code == 429
    assert _token(client, "bob", PASSWORD, address="10.0.0.9").status_code == 200


def test_lock_expires_and_success_clears_the_account_count(alice, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 2
    now = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
    for _ in range(2):
        auth_services.login_record_failure(username="alice", address="1.2.3.4", now=now)
    assert auth_services.login_locked_until(username="alice", address="1.2.3.4", now=now)
    later = now + dt.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS + 1)
    assert auth_services.login_locked_until(username="alice", address="1.2.3.4", now=later) is None

    user = auth_services.login_authenticate(request=None, username="alice", password=PASSWORD,
                                            address="1.2.3.4", now=later)
    assert user == alice
    assert not LoginFailure.objects.filter(key__startswith="account:alice|").exists()


def test_failure_counting_is_one_row_per_key_updated_in_place(settings):
    UserFactory(username="eve")
    now = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
    for _ in range(3):
        auth_services.login_record_failure(username="Eve", address="5.6.7.8", now=now)
    # A name that does not exist counts only against its address: random names add no rows.
    for name in ("nobody-1", "nobody-2"):
        auth_services.login_record_failure(username=name, address="5.6.7.8", now=now)
    assert dict(LoginFailure.objects.values_list("key", "failures")) == {
        "account:eve|5.6.7.8": 3, "address:5.6.7.8": 5,
    }


def test_anonymous_requests_are_throttled(settings, db):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import AnonRateThrottle

    assert any(issubclass(c, AnonRateThrottle) for c in api_settings.DEFAULT_THROTTLE_CLASSES)
    client = APIClient()
    rate = int(AnonRateThrottle().get_rate().split("/")[0])
    codes = [client.post("/api/v1/auth/token/", {}).status_code for _ in range(rate + 1)]
    assert codes[-1] == 429
    assert set(codes[:-1]) == {400}
