"""Issue #14, the page "API 令牌": the user's tokens (name, created, last used, expires), create
(the key shown once), revoke (POST with the CSRF token)."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.tracker.security.conftest import logged_in
from tracker.models import ApiToken
from tracker.services import auth as auth_services

pytestmark = pytest.mark.django_db

URL = "/settings/api-tokens/"


def test_page_lists_only_my_tokens_with_their_dates(alice, bob):
    mine, _ = auth_services.api_token_issue(user=alice, name="台账同步脚本")
    auth_services.api_token_issue(user=bob, name="别人的脚本")
    page = logged_in(alice).get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "台账同步脚本" in html
    assert "别人的脚本" not in html
    assert mine.prefix in html
    assert "从未使用" in html
    assert mine.expires_at.astimezone().strftime("%Y-%m-%d") in html


def test_creating_a_token_shows_the_key_once(alice):
    client = logged_in(alice)
    response = client.post(URL, {"name": "报表机器人"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    key = re.search(r'id="new-token-key">([^<]+)<', response.content.decode()).group(1)
    token = ApiToken.objects.get(user=alice, name="报表机器人")
    assert token.key_hash == auth_services.api_token_hash(key)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/users/me/").status_code == 200
    assert key not in client.get(URL).content.decode()  # never again


def test_an_empty_name_is_refused_in_chinese(alice):
    response = logged_in(alice).post(URL, {"name": ""})
    assert response.status_code == 400
    assert "请填写客户端名称" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoking_needs_a_post_with_the_csrf_token(alice):
    token, _key = auth_services.api_token_issue(user=alice, name="旧脚本")
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    revoke = f"{URL}{token.pk}/revoke/"
    assert client.get(revoke).status_code == 405
    assert client.post(revoke).status_code == 403  # no CSRF token
    token.refresh_from_db()
    assert token.revoked_at is None
    page = client.get(URL)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert client.post(revoke, {"csrfmiddlewaretoken": csrf}).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "已作废" in client.get(URL).content.decode()


def test_someone_elses_token_cannot_be_revoked(alice, bob):
    token, _ = auth_services.api_token_issue(user=bob)
    assert logged_in(alice).post(f"{URL}{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_page_needs_a_sign_in():
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
