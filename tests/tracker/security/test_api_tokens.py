"""Issue #14, API tokens: one token per client, stored hashed and shown once, expiring,
revocable, all revoked on every password change; expired or revoked tokens are a 401 with a
Chinese detail."""

import datetime as dt
import io
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.tracker.security.conftest import PASSWORD, logged_in
from tracker.models import ApiToken
from tracker.services import auth as auth_services
from tracker.services import users as user_services

pytestmark = pytest.mark.django_db


def _issue(client, username="alice", password=PASSWORD, **extra):
    return client.post("/api/v1/auth/token/",
                       {"username": username, "password": password, **extra})


def _api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_token_endpoint_issues_a_named_token_stored_only_as_its_hash(alice, settings):
    response = _issue(APIClient(), name="台账同步脚本")
    assert response.status_code == 200
    body = response.json()
    key = body["token"]
    token = ApiToken.objects.get(user=alice)
    assert token.name == body["name"] == "台账同步脚本"
    assert token.key_hash == auth_services.api_token_hash(key) != key
    assert not ApiToken.objects.filter(key_hash=key).exists()
    assert token.expires_at - token.created_at == dt.timedelta(days=settings.API_TOKEN_TTL_DAYS)
    assert _api(key).get("/api/v1/users/me/").json()["username"] == "alice"


def test_each_client_has_its_own_token_and_a_same_name_token_replaces_the_old(alice):
    client = APIClient()
    laptop = _issue(client, name="笔记本").json()["token"]
    server = _issue(client, name="服务器").json()["token"]
    default = _issue(client).json()
    assert default["name"] == "API"
    assert _api(laptop).get("/api/v1/users/me/").status_code == 200
    assert _api(server).get("/api/v1/users/me/").status_code == 200
    again = _issue(client, name="服务器").json()["token"]
    assert _api(again).get("/api/v1/users/me/").status_code == 200
    refused = _api(server).get("/api/v1/users/me/")
    assert refused.status_code == 401
    assert refused.json()["code"] == "token_revoked"
    assert _api(laptop).get("/api/v1/users/me/").status_code == 200


def test_the_login_waits_still_hold_the_token_endpoint(alice, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 2
    client = APIClient()
    assert [_issue(client, password="wrong").status_code for _ in range(2)] == [400, 429]
    assert _issue(client).status_code == 429
    assert not ApiToken.objects.exists()


def test_expired_revoked_and_unknown_tokens_are_401_in_chinese(alice):
    expired_token, expired = auth_services.api_token_issue(user=alice, name="旧脚本")
    ApiToken.objects.filter(pk=expired_token.pk).update(
        created_at=timezone.now() - dt.timedelta(days=100),
        expires_at=timezone.now() - dt.timedelta(seconds=1))
    revoked_token, revoked = auth_services.api_token_issue(user=alice, name="停用脚本")
    auth_services.api_token_revoke(token=revoked_token, actor=alice)

    cases = {expired: ("token_expired", "令牌已过期，请重新获取令牌"),
             revoked: ("token_revoked", "令牌已作废，请重新获取令牌"),
             "no-such-key": ("token_invalid", "令牌无效，请重新获取令牌")}
    for key, (code, detail) in cases.items():
        response = _api(key).get("/api/v1/tasks/")
        assert response.status_code == 401
        assert response.json() == {"code": code, "detail": detail, "fields": {}}
        assert response["WWW-Authenticate"] == "Token"


def test_a_disabled_account_token_is_refused(alice):
    _, key = auth_services.api_token_issue(user=alice)
    alice.is_active = False
    alice.save()
    response = _api(key).get("/api/v1/tasks/")
    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"


def test_last_used_is_written_at_most_once_a_minute(alice):
    token, key = auth_services.api_token_issue(user=alice)
    start = timezone.now()
    auth_services.api_token_authenticate(key=key, now=start)
    token.refresh_from_db()
    assert token.last_used_at == start
    # Within the minute: one SELECT, no UPDATE.
    with CaptureQueriesContext(connection) as queries:
        auth_services.api_token_authenticate(key=key, now=start + dt.timedelta(seconds=30))
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["SELECT"]
    token.refresh_from_db()
    assert token.last_used_at == start
    later = start + dt.timedelta(seconds=61)
    auth_services.api_token_authenticate(key=key, now=later)
    token.refresh_from_db()
    assert token.last_used_at == later


def test_a_user_has_at_most_the_configured_number_of_live_tokens(alice, settings):
    settings.API_TOKEN_MAX_PER_USER = 2
    client = APIClient()
    assert _issue(client, name="一").status_code == 200
    assert _issue(client, name="二").status_code == 200
    refused = _issue(client, name="三")
    assert refused.status_code == 400
    assert "有效令牌已达上限（2个）" in refused.json()["detail"]
    assert ApiToken.objects.filter(user=alice).count() == 2
    # Re-issuing an existing client's token is still possible (it replaces the old one).
    assert _issue(client, name="二").status_code == 200


def test_delete_revokes_only_the_token_used(alice):
    _, first = auth_services.api_token_issue(user=alice, name="一")
    _, second = auth_services.api_token_issue(user=alice, name="二")
    assert _api(first).delete("/api/v1/auth/token/").status_code == 204
    assert _api(first).get("/api/v1/users/me/").status_code == 401
    assert _api(second).get("/api/v1/users/me/").status_code == 200


# --- every password change revokes every token ---------------------------------------------


def _live_keys(user) -> list[str]:
    return [auth_services.api_token_issue(user=user, name=name)[1] for name in ("一", "二")]


def _assert_all_revoked(keys):
    for key in keys:
        response = _api(key).get("/api/v1/users/me/")
        assert response.status_code == 401
        assert response.json()["code"] == "token_revoked"


def test_password_change_on_the_page_revokes_all_tokens(alice):
    keys = _live_keys(alice)
    response = logged_in(alice).post("/password/", {
        "old_password": PASSWORD, "new_password1": "Another-pass-456",
        "new_password2": "Another-pass-456"})
    assert response.status_code == 302
    _assert_all_revoked(keys)


def test_password_change_in_the_admin_revokes_all_tokens(alice, root_admin):
    keys = _live_keys(alice)
    client = logged_in(root_admin)
    response = client.post(f"/admin/tracker/user/{alice.pk}/password/", {
        "password1": "Another-pass-456", "password2": "Another-pass-456",
        "usable_password": "true"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("Another-pass-456")
    _assert_all_revoked(keys)


def test_changepassword_command_revokes_all_tokens(alice):
    keys = _live_keys(alice)
    with mock.patch("getpass.getpass", return_value="Another-pass-456"):
        call_command("changepassword", "alice", stdout=io.StringIO())
    alice.refresh_from_db()
    assert alice.check_password("Another-pass-456")
    _assert_all_revoked(keys)


def test_only_the_user_or_an_administrator_changes_a_password(alice, bob, root_admin):
    from tracker.errors import ActionForbidden

    with pytest.raises(ActionForbidden):
        user_services.user_set_password(user=alice, password="x-Another-456", actor=bob)
    user_services.user_set_password(user=alice, password="x-Another-456", actor=root_admin)
    alice.refresh_from_db()
    assert alice.check_password("x-Another-456")


def test_no_code_sets_a_password_outside_the_password_service():
    """One place: `.set_password(` appears only in the user services (creation and change)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    setter = re.compile(r"\.set_(unusable_)?password\(")
    offenders = [
        str(path.relative_to(root)) for folder in ("tracker", "reports", "config")
        for path in (root / folder).rglob("*.py")
        if setter.search(path.read_text(encoding="utf-8"))
        and path.relative_to(root).as_posix() != "tracker/services/users.py"
    ]
    assert offenders == []


# --- the old static tokens and the schema ----------------------------------------------------


def test_old_static_tokens_are_carried_over_as_expiring_tokens(alice):
    import importlib

    from django.apps import apps

    old = Token.objects.create(user=alice)
    migration = importlib.import_module("tracker.migrations.0012_api_tokens")
    migration.carry_over_static_tokens(apps, None)
    assert not Token.objects.exists()
    token = ApiToken.objects.get(user=alice)
    assert token.name == "原令牌"
    assert _api(old.key).get("/api/v1/users/me/").json()["username"] == "alice"


def test_schema_documents_the_token_scheme(alice):
    client = APIClient()
    client.force_authenticate(alice)
    schema = client.get("/api/schema/?format=json").json()
    scheme = schema["components"]["securitySchemes"]["tokenAuth"]
    assert scheme["type"] == "apiKey"
    assert scheme["name"] == "Authorization"
    token_op = schema["paths"]["/api/v1/auth/token/"]["post"]
    body = token_op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][body.rsplit("/", 1)[-1]]["properties"]
    assert {"username", "password", "name", "otp"} <= set(fields)


def test_old_dead_tokens_are_pruned_when_a_new_one_is_issued(alice, monkeypatch):
    monkeypatch.setattr(auth_services, "API_TOKEN_KEEP_DEAD", 3)
    for _ in range(6):  # a script signing in again and again: each replaces the last
        auth_services.api_token_issue(user=alice, name="定时脚本")
    assert ApiToken.objects.filter(user=alice, revoked_at__isnull=True).count() == 1
    assert ApiToken.objects.filter(user=alice, revoked_at__isnull=False).count() == 3


def test_an_administrator_revokes_a_users_tokens_in_the_admin(alice, root_admin):
    keys = _live_keys(alice)
    response = logged_in(root_admin).post("/admin/tracker/user/", {
        "action": "api_tokens_revoke_selected", "_selected_action": [alice.pk]})
    assert response.status_code == 302
    _assert_all_revoked(keys)


def test_delete_with_a_session_revokes_all_of_the_users_tokens(alice):
    keys = _live_keys(alice)
    client = APIClient()
    client.force_login(alice)
    assert client.delete("/api/v1/auth/token/").status_code == 204
    _assert_all_revoked(keys)
