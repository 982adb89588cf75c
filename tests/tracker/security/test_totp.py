"""Issue #14, optional TOTP for supervisors and administrators (django-otp): enrolment with an
inline QR code, then the code at every password sign-in (pages, admin, token endpoint). Codes
are computed from the device's key, as an authenticator app does."""

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tests.tracker.security.conftest import PASSWORD, logged_in, totp_code
from tracker.services import auth as auth_services

pytestmark = pytest.mark.django_db

SETUP = "/settings/otp/"


@pytest.fixture
def chief_device(chief):
    """The supervisor chief with a confirmed authenticator."""
    device = auth_services.otp_enrol_start(user=chief)
    auth_services.otp_enrol_confirm(user=chief, code=totp_code(device))
    device.refresh_from_db()
    return device


def test_supervisor_enrols_with_an_inline_qr_code_and_a_real_code(chief):
    client = logged_in(chief)
    assert "尚未绑定身份验证器" in client.get(SETUP).content.decode()
    page = client.post(SETUP, {"step": "start"})
    html = page.content.decode()
    assert re.search(r'src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+"', html)
    device = TOTPDevice.objects.get(user=chief, confirmed=False)
    done = client.post(SETUP, {"step": "confirm", "code": totp_code(device)})
    assert done.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert "已绑定身份验证器" in client.get(SETUP).content.decode()


def test_a_wrong_code_does_not_confirm_the_device(chief):
    client = logged_in(chief)
    client.post(SETUP, {"step": "start"})
    device = TOTPDevice.objects.get(user=chief, confirmed=False)
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    response = client.post(SETUP, {"step": "confirm", "code": wrong})
    assert response.status_code == 400
    assert "动态验证码错误" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed


def test_officers_have_no_second_factor(alice):
    assert logged_in(alice).get(SETUP).status_code == 403
    assert not TOTPDevice.objects.exists()


def test_page_login_asks_for_the_code_on_a_second_step(chief_device):
    client = Client()
    first = client.post("/login/?next=/review/", {"username": "chief", "password": PASSWORD})
    assert first.status_code == 302
    assert first["Location"] == "/login/otp/"
    assert "_auth_user_id" not in client.session  # not signed in before the code
    assert "6位验证码" in client.get("/login/otp/").content.decode()
    wrong = "000000" if totp_code(chief_device, 1) != "000000" else "111111"
    refused = client.post("/login/otp/", {"code": wrong})
    assert refused.status_code == 400
    assert "动态验证码错误" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    chief_device.throttling_failure_timestamp = None  # the device's back-off has passed
    chief_device.save()
    ok = client.post("/login/otp/", {"code": totp_code(chief_device, steps_ahead=1)})
    assert ok.status_code == 302
    assert ok["Location"] == "/review/"
    assert client.session["_auth_user_id"] == str(chief_device.user_id)


def test_the_second_step_without_a_right_password_goes_back_to_the_login(chief_device):
    client = Client()
    response = client.post("/login/otp/", {"code": totp_code(chief_device)})
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session


def test_the_second_step_expires(chief_device, monkeypatch):
    from tracker.web import security_views

    client = Client()
    client.post("/login/", {"username": "chief", "password": PASSWORD})
    monkeypatch.setattr(security_views, "OTP_PENDING_SECONDS", -1)
    response = client.post("/login/otp/", {"code": totp_code(chief_device, steps_ahead=1)})
    assert response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session


def test_the_code_may_also_come_with_the_password(chief_device):
    client = Client()
    ok = client.post("/login/", {"username": "chief", "password": PASSWORD,
                                 "otp": totp_code(chief_device, steps_ahead=1)})
    assert ok.status_code == 302
    assert client.session["_auth_user_id"] == str(chief_device.user_id)


def test_a_code_is_accepted_once_only(chief_device):
    code = totp_code(chief_device, steps_ahead=1)
    first = Client().post("/login/", {"username": "chief", "password": PASSWORD, "otp": code})
    assert first.status_code == 302
    replay = Client().post("/login/", {"username": "chief", "password": PASSWORD, "otp": code})
    assert replay.status_code == 200
    assert "动态验证码错误或已使用过" in replay.content.decode()


def test_admin_login_asks_for_the_code_too(chief_device):
    client = Client()
    first = client.post("/admin/login/", {"username": "chief", "password": PASSWORD,
                                          "next": "/admin/tracker/task/"})
    assert first.status_code == 302
    assert first["Location"] == "/login/otp/"
    assert "_auth_user_id" not in client.session
    ok = client.post("/login/otp/", {"code": totp_code(chief_device, steps_ahead=1)})
    assert ok["Location"] == "/admin/tracker/task/"
    assert client.get("/admin/").status_code == 200


def test_token_endpoint_takes_an_otp_field(chief_device):
    client = APIClient()
    missing = client.post("/api/v1/auth/token/", {"username": "chief", "password": PASSWORD})
    assert missing.status_code == 400
    assert missing.json()["code"] == "otp_required"
    ok = client.post("/api/v1/auth/token/", {
        "username": "chief", "password": PASSWORD,
        "otp": totp_code(chief_device, steps_ahead=1)})
    assert ok.status_code == 200
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {ok.json()['token']}")
    assert api.get("/api/v1/users/me/").json()["username"] == "chief"


def test_wrong_codes_are_throttled_by_the_device(chief_device):
    client = APIClient()
    body = {"username": "chief", "password": PASSWORD, "otp": "000000"}
    if totp_code(chief_device) == "000000":
        body["otp"] = "111111"
    assert client.post("/api/v1/auth/token/", body).json()["code"] == "otp_invalid"
    # The next attempt within the device's back-off is held, even with the right code.
    body["otp"] = totp_code(chief_device, steps_ahead=1)
    held = client.post("/api/v1/auth/token/", body)
    assert held.status_code == 429
    chief_device.refresh_from_db()
    assert chief_device.throttling_failure_count == 1


def test_users_without_a_device_sign_in_as_before(alice):
    client = Client()
    assert client.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 302


def test_unbinding_needs_a_fresh_password_and_an_administrator_can_unbind(chief_device,
                                                                          root_admin):
    client = logged_in(chief_device.user)
    assert client.post(SETUP, {"step": "remove"}).status_code == 302
    assert not TOTPDevice.objects.exists()

    device = auth_services.otp_enrol_start(user=chief_device.user)
    auth_services.otp_enrol_confirm(user=chief_device.user, code=totp_code(device, 1))
    response = logged_in(root_admin).post("/admin/tracker/user/", {
        "action": "otp_remove_selected", "_selected_action": [chief_device.user_id]})
    assert response.status_code == 302
    assert not TOTPDevice.objects.exists()


def test_devices_keys_are_not_in_the_admin(root_admin, chief_device):
    client = logged_in(root_admin)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert chief_device.key not in client.get("/admin/").content.decode()


def test_a_required_role_binds_a_device_before_the_admin_or_a_token(chief, settings):
    settings.TOTP_REQUIRED_FOR_ROLES = ["supervisor"]
    client = Client()
    response = client.post("/login/", {"username": "chief", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == SETUP
    assert client.get("/admin/").status_code == 302  # sent to the admin's login
    token = APIClient().post("/api/v1/auth/token/", {"username": "chief", "password": PASSWORD})
    assert token.status_code == 400
    assert "须先在“动态验证码”页面绑定身份验证器" in token.json()["detail"]

    client.post(SETUP, {"step": "start"})
    device = TOTPDevice.objects.get(user=chief)
    assert client.post(SETUP, {"step": "confirm", "code": totp_code(device)}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_optional_by_default_for_supervisors(chief):
    client = Client()
    response = client.post("/login/", {"username": "chief", "password": PASSWORD})
    assert response["Location"] != SETUP
    assert client.get("/admin/").status_code == 200


def test_the_apis_session_login_needs_the_code_too(chief_device):
    client = APIClient()
    missing = client.post("/api/v1/auth/login/", {"username": "chief", "password": PASSWORD})
    assert missing.status_code == 400
    assert missing.json()["code"] == "otp_required"
    assert client.get("/api/v1/users/me/").status_code == 401
    ok = client.post("/api/v1/auth/login/", {"username": "chief", "password": PASSWORD,
                                              "otp": totp_code(chief_device, steps_ahead=1)})
    assert ok.status_code == 200
    assert client.get("/api/v1/users/me/").json()["username"] == "chief"


def test_too_many_wrong_codes_on_the_second_step_need_the_password_again(chief_device,
                                                                        monkeypatch):
    from tracker.web import security_views

    monkeypatch.setattr(security_views, "OTP_PENDING_TRIES", 2)
    client = Client()
    client.post("/login/", {"username": "chief", "password": PASSWORD})
    wrong = "000000" if totp_code(chief_device, 1) != "000000" else "111111"
    assert client.post("/login/otp/", {"code": wrong}).status_code == 400
    second = client.post("/login/otp/", {"code": wrong})
    assert second["Location"] == "/login/"
    chief_device.throttling_failure_timestamp = None
    chief_device.save()
    late = client.post("/login/otp/", {"code": totp_code(chief_device, steps_ahead=1)})
    assert late["Location"] == "/login/"
    assert "_auth_user_id" not in client.session
