"""Login waits that slow guessing without locking real users out: progressive per account at
an address, a warning before the first wait, a device cookie that keeps colleagues behind one
NAT address signing in while a sprayer there waits, an administrator's unlock, and a purge."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from tests.tracker.factories import LoginFailureFactory, UserFactory
from tracker.errors import InvalidCredentials, LoginLocked
from tracker.models import LoginFailure
from tracker.services import auth

pytestmark = pytest.mark.django_db
PASSWORD = "demo-pass-123"
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _attempt(username, password, *, at, address="10.0.0.5"):
    return auth.login_authenticate(request=None, username=username, password=password,
                                   address=address, now=at)


def test_waits_double_from_the_base_up_to_the_cap(alice, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 3
    settings.LOGIN_DELAY_BASE_SECONDS = 15
    settings.LOGIN_LOCKOUT_SECONDS = 60
    waits, at = [], NOW
    for _ in range(6):
        try:
            _attempt("alice", "wrong", at=at)
            waits.append(0)
        except InvalidCredentials:
            waits.append(0)
        except LoginLocked as locked:
            waits.append(locked.retry_after)
        until = auth.login_locked_until(username="alice", address="10.0.0.5", now=at)
        at = until + dt.timedelta(seconds=1) if until else at + dt.timedelta(seconds=1)
    assert waits == [0, 0, 15, 30, 60, 60]


def test_the_attempt_before_the_first_wait_is_warned(alice, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 3
    with pytest.raises(InvalidCredentials) as first:
        _attempt("alice", "wrong", at=NOW)
    assert first.value.message == "用户名或密码错误"
    with pytest.raises(InvalidCredentials) as second:
        _attempt("alice", "wrong", at=NOW)
    assert "再错1次，需等待15秒" in second.value.message


def test_the_warning_reaches_the_login_page(client, alice, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 2
    response = client.post(reverse("web:login"), {"username": "alice", "password": "wrong"})
    assert "再错1次，需等待15秒后才能再试" in response.content.decode()


def test_a_sprayer_behind_a_nat_address_waits_but_colleagues_with_a_device_cookie_sign_in(
    settings,
):
    settings.LOGIN_LOCKOUT_ADDRESS_FAILURES = 5
    colleague = UserFactory(username="colleague")
    colleague.set_password(PASSWORD)
    colleague.save()
    office = Client(REMOTE_ADDR="10.9.9.9")
    signed_in = office.post(reverse("web:login"), {"username": "colleague",
                                                   "password": PASSWORD})
    assert signed_in.status_code == 302
    assert auth.DEVICE_COOKIE in signed_in.cookies
    office.post(reverse("web:logout"))

    sprayer = Client(REMOTE_ADDR="10.9.9.9")
    for name in ("a1", "a2", "a3", "a4", "a5", "colleague"):
        sprayer.post(reverse("web:login"), {"username": name, "password": "123456"})
    held = sprayer.post(reverse("web:login"), {"username": "colleague", "password": PASSWORD})
    assert "登录失败次数过多" in held.content.decode()  # no device cookie: the address waits

    again = office.post(reverse("web:login"), {"username": "colleague", "password": PASSWORD})
    assert again.status_code == 302  # the colleague's browser is known: not held


def test_a_device_cookie_for_another_account_does_not_exempt(settings, alice, bob):
    settings.LOGIN_LOCKOUT_ADDRESS_FAILURES = 2
    browser = Client(REMOTE_ADDR="10.8.8.8")
    browser.post(reverse("web:login"), {"username": "alice", "password": PASSWORD})
    browser.post(reverse("web:logout"))
    for name in ("x1", "x2"):
        browser.post(reverse("web:login"), {"username": name, "password": "guess"})
    held = browser.post(reverse("web:login"), {"username": "bob", "password": PASSWORD})
    assert "登录失败次数过多" in held.content.decode()


def test_a_forged_device_cookie_is_ignored(settings, alice):
    settings.LOGIN_LOCKOUT_ADDRESS_FAILURES = 1
    browser = Client(REMOTE_ADDR="10.7.7.7")
    browser.post(reverse("web:login"), {"username": "zz", "password": "guess"})
    browser.cookies[auth.DEVICE_COOKIE] = "alice:forged"
    held = browser.post(reverse("web:login"), {"username": "alice", "password": PASSWORD})
    assert "登录失败次数过多" in held.content.decode()


def test_an_administrator_unlocks_from_the_admin(client, root_admin, alice, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 1
    with pytest.raises(LoginLocked):
        _attempt("alice", "wrong", at=NOW, address="10.1.1.1")
    row = LoginFailure.objects.get(key="account:alice|10.1.1.1")
    client.force_login(root_admin)
    listing = client.get(reverse("admin:tracker_loginfailure_changelist"))
    assert "account:alice|10.1.1.1" in listing.content.decode()
    response = client.post(reverse("admin:tracker_loginfailure_changelist"), {
        "action": "unlock_selected", "_selected_action": [row.pk], "post": "yes", "index": 0,
    }, follow=True)
    assert "已解除1条登录限制" in response.content.decode()
    assert _attempt("alice", PASSWORD, at=NOW, address="10.1.1.1") == alice


def test_supervisors_do_not_see_login_failures_in_the_admin(client, chief):
    LoginFailureFactory(key="account:alice|10.1.1.1")
    client.force_login(chief)
    assert client.get(reverse("admin:tracker_loginfailure_changelist")).status_code == 403


def test_purge_removes_rows_whose_window_and_wait_have_passed(settings):
    settings.LOGIN_LOCKOUT_WINDOW_SECONDS = 900
    old = LoginFailureFactory(window_started_at=NOW - dt.timedelta(hours=2))
    still_waiting = LoginFailureFactory(window_started_at=NOW - dt.timedelta(hours=2),
                                        locked_until=NOW + dt.timedelta(minutes=5))
    recent = LoginFailureFactory(window_started_at=NOW - dt.timedelta(minutes=5))
    assert auth.login_failures_purge(now=NOW) == 1
    remaining = set(LoginFailure.objects.values_list("pk", flat=True))
    assert remaining == {still_waiting.pk, recent.pk}
    assert old.pk not in remaining
    assert auth.login_failures_purge(now=NOW) == 0  # idempotent
