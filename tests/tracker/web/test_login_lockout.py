"""The pages' login and the admin's login are held to the same lockout as the API's."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url_name", ["web:login", "admin:login"])
def test_repeated_wrong_passwords_lock_the_account_even_for_the_right_one(
    client, settings, alice, url_name
):
    settings.LOGIN_LOCKOUT_FAILURES = 3
    alice.is_staff = True
    alice.save()
    url = reverse(url_name)
    for _ in range(3):
        wrong = client.post(url, {"username": "alice", "password": "wrong-password"})
        assert wrong.status_code == 200
    refused = client.post(url, {"username": "alice", "password": "demo-pass-123"})
    assert "登录失败次数过多，请15秒后再试" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_right_password_before_the_limit_logs_in(client, alice):
    client.post(reverse("web:login"), {"username": "alice", "password": "wrong-password"})
    response = client.post(reverse("web:login"), {"username": "alice",
                                                  "password": "demo-pass-123"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)
