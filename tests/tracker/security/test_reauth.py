"""Issue #14, admin re-authentication: sensitive admin actions (users' roles, units and
passwords, deletions, unlocking logins, holiday overrides) need the password entered within
ADMIN_REAUTH_SECONDS; signing in counts."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.tracker.factories import LoginFailureFactory
from tests.tracker.security.conftest import PASSWORD, logged_in
from tracker.models import LoginFailure
from tracker.services.auth import REAUTH_SESSION_KEY

pytestmark = pytest.mark.django_db


def _stale(client, settings):
    session = client.session
    session[REAUTH_SESSION_KEY] = (
        timezone.now() - dt.timedelta(seconds=settings.ADMIN_REAUTH_SECONDS + 1)
    ).timestamp()
    session.save()


def test_user_change_page_asks_for_the_password_when_stale_then_opens(root_admin, alice,
                                                                      settings):
    client = logged_in(root_admin)
    url = f"/admin/tracker/user/{alice.pk}/change/"
    assert client.get(url).status_code == 200  # signing in just now counts
    _stale(client, settings)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/settings/reauth/?next=")

    wrong = client.post("/settings/reauth/", {"password": "wrong", "next": url})
    assert wrong.status_code == 400
    assert "密码错误" in wrong.content.decode()
    assert client.get(url).status_code == 302

    right = client.post("/settings/reauth/", {"password": PASSWORD, "next": url})
    assert right.status_code == 302
    assert right["Location"] == url
    assert client.get(url).status_code == 200


def test_a_stale_role_change_is_not_saved(root_admin, alice, settings):
    client = logged_in(root_admin)
    _stale(client, settings)
    response = client.post(f"/admin/tracker/user/{alice.pk}/change/", {
        "username": "alice", "role": "admin", "is_active": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith("/settings/reauth/")
    alice.refresh_from_db()
    assert alice.role == "officer"


def test_stale_password_change_and_unlock_need_the_password(root_admin, alice, settings):
    client = logged_in(root_admin)
    _stale(client, settings)
    response = client.post(f"/admin/tracker/user/{alice.pk}/password/", {
        "password1": "Another-pass-456", "password2": "Another-pass-456",
        "usable_password": "true"})
    assert response["Location"].startswith("/settings/reauth/")
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)

    row = LoginFailureFactory(locked_until=timezone.now() + dt.timedelta(minutes=5))
    response = client.post("/admin/tracker/loginfailure/", {
        "action": "unlock_selected", "_selected_action": [row.pk]})
    assert response["Location"].startswith("/settings/reauth/")
    assert LoginFailure.objects.filter(pk=row.pk).exists()
    # Viewing the list is not sensitive.
    assert client.get("/admin/tracker/loginfailure/").status_code == 200


def test_holiday_overrides_and_deletions_need_the_password(root_admin, settings, bureau_task):
    client = logged_in(root_admin)
    _stale(client, settings)
    for url in ("/admin/tracker/holidayoverride/add/",
                "/admin/tracker/holidayoverride/add-period/",
                f"/admin/tracker/task/{bureau_task.pk}/delete/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/settings/reauth/"), url


def test_reauth_refuses_an_outside_next_address(root_admin):
    client = logged_in(root_admin)
    response = client.post("/settings/reauth/",
                           {"password": PASSWORD, "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_wrong_reauth_passwords_count_towards_the_login_wait(root_admin, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 2
    client = logged_in(root_admin)
    client.post("/settings/reauth/", {"password": "wrong"})
    locked = client.post("/settings/reauth/", {"password": "wrong"})
    assert "登录失败次数过多" in locked.content.decode()
    again = client.post("/settings/reauth/", {"password": PASSWORD})
    assert again.status_code == 400  # the wait holds even for the right password
