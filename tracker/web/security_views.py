"""账号安全 pages beside 通知设置: the user's API tokens (API 令牌), the TOTP authenticator
(动态验证码) of supervisors and administrators, and the password re-entry that sensitive admin
actions ask for (确认身份). Thin: parse a form, call tracker.services.auth, show the outcome."""

import base64
import io
import time
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from tracker.errors import DomainError, InvalidCredentials, LoginLocked
from tracker.models import ApiToken, User
from tracker.services import auth as auth_services
from tracker.web.forms import BootstrapMixin


class ApiTokenForm(BootstrapMixin, forms.Form):
    name = forms.CharField(
        label="客户端名称", max_length=100, help_text="如“台账同步脚本”；同名的旧令牌将同时作废",
        error_messages={"required": "请填写客户端名称",
                        "max_length": "客户端名称不能超过100个字符"},
    )


class OtpCodeForm(BootstrapMixin, forms.Form):
    code = forms.RegexField(
        label="验证码", regex=r"^\s*[0-9]{6}\s*$", help_text="身份验证器上显示的6位数字",
        error_messages={"required": "请输入验证码", "invalid": "验证码应为6位数字"},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ReauthForm(BootstrapMixin, forms.Form):
    password = forms.CharField(
        label="当前密码", strip=False, widget=forms.PasswordInput(attrs={"autofocus": True}),
        error_messages={"required": "请输入当前密码"},
    )
    otp = forms.CharField(
        label="动态验证码", required=False, max_length=6,
        help_text="已绑定身份验证器时填写",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


# --- API 令牌 --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    new_key = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                token, new_key = auth_services.api_token_issue(
                    user=request.user, name=form.cleaned_data["name"]
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"已创建令牌“{token.name}”，请立即复制保存")
                form = ApiTokenForm()
        if new_key is None:
            status = 400
    now = timezone.now()
    tokens = [
        (token, "已作废" if token.revoked_at else "已过期" if token.expires_at <= now else "有效")
        for token in ApiToken.objects.filter(user=request.user)
    ]
    response = render(request, "web/api_tokens.html", {
        "title": "API 令牌", "form": form, "tokens": tokens, "new_key": new_key,
        "ttl_days": settings.API_TOKEN_TTL_DAYS,
    }, status=status)
    if new_key is not None:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if auth_services.api_token_revoke(token=token, actor=request.user):
        messages.success(request, f"已作废令牌“{token.name}”")
    else:
        messages.info(request, f"令牌“{token.name}”此前已作废")
    return redirect("web:api_tokens")


# --- 确认身份 (re-authentication) ------------------------------------------------------------


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return default


@login_required
@require_http_methods(["GET", "POST"])
def reauth(request: HttpRequest) -> HttpResponse:
    """Enter the password (and the code, if an authenticator is bound) again; sensitive admin
    actions are then allowed for ADMIN_REAUTH_SECONDS."""
    form = ReauthForm(request.POST or None)
    next_url = _safe_next(request, "/admin/")
    if request.method == "POST" and form.is_valid():
        try:
            auth_services.login_authenticate(
                request=request, username=request.user.get_username(),
                password=form.cleaned_data["password"],
                address=auth_services.client_address(request),
            )
            auth_services.otp_check(user=request.user, code=form.cleaned_data["otp"])
        except (InvalidCredentials, LoginLocked) as error:
            message = "密码错误，请重新输入" if isinstance(error, InvalidCredentials) and (
                error.message == InvalidCredentials.default_message) else error.message
            form.add_error("password", message)
        except DomainError as error:
            form.add_error("otp", error.message)
        else:
            auth_services.reauth_record(session=request.session, now=timezone.now())
            return redirect(next_url)
    return render(request, "web/reauth.html", {
        "title": "确认身份", "form": form, "next": next_url,
        "minutes": max(1, settings.ADMIN_REAUTH_SECONDS // 60),
    }, status=400 if request.method == "POST" else 200)


# --- 动态验证码 (TOTP enrolment) -------------------------------------------------------------


def _qr_data_uri(text: str) -> str:
    """The otpauth:// address as an inline SVG QR code (no outside service)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Bind an authenticator: 生成二维码 (start), then the first code confirms it (confirm);
    解除绑定 (remove) needs the password re-entered recently."""
    user = request.user
    if not auth_services.otp_may_enrol(user):
        raise PermissionDenied("只有督导人员和系统管理员可以绑定身份验证器")
    form = OtpCodeForm(request.POST if request.POST.get("step") == "confirm" else None)
    status = 200
    if request.method == "POST":
        step = request.POST.get("step")
        try:
            if step == "start":
                auth_services.otp_enrol_start(user=user)
            elif step == "confirm":
                if form.is_valid():
                    auth_services.otp_enrol_confirm(user=user, code=form.cleaned_data["code"])
                    messages.success(request, "身份验证器已绑定，今后登录时需输入动态验证码")
                    return redirect("web:otp_setup")
                status = 400
            elif step == "remove":
                if not auth_services.reauth_is_fresh(session=request.session,
                                                     now=timezone.now()):
                    messages.info(request, "解除绑定前请先确认身份")
                    return redirect(f"{reverse('web:reauth')}?{urlencode({'next': request.path})}")
                auth_services.otp_remove(user=user, actor=user)
                messages.success(request, "已解除身份验证器绑定")
                return redirect("web:otp_setup")
            else:
                status = 400
        except DomainError as error:
            form.add_error(None, error.message)
            status = 400
    confirmed = auth_services.otp_device_of(user)
    pending = auth_services.otp_device_of(user, confirmed=False)
    context = {"title": "动态验证码", "form": form, "confirmed": confirmed,
               "pending": pending, "required": auth_services.otp_required_for(user)}
    if pending is not None:
        context["qr"] = _qr_data_uri(pending.config_url)
        context["secret"] = base64.b32encode(pending.bin_key).decode()
    response = render(request, "web/otp_setup.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


# --- Second step of a login: the code (登录：动态验证码) ---------------------------------------

OTP_PENDING = "_tracker_otp_pending"
OTP_PENDING_SECONDS = 300  # between the right password and the code
OTP_PENDING_TRIES = 5  # wrong codes before the password must be given again


def otp_step_redirect(request: HttpRequest, user, *, next_url: str) -> HttpResponse:
    """After the right password of an account with an authenticator: remember who (in the
    still anonymous session) and ask for the code."""
    request.session[OTP_PENDING] = {
        "user": user.pk, "backend": getattr(user, "backend", None), "at": time.time(),
        "next": next_url or "", "tries": 0,
    }
    return redirect("web:login_otp")


def _pending(request: HttpRequest) -> dict | None:
    pending = request.session.get(OTP_PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > OTP_PENDING_SECONDS:
        return None
    return pending


@require_http_methods(["GET", "POST"])
def login_otp(request: HttpRequest) -> HttpResponse:
    pending = _pending(request)
    if pending is None:
        request.session.pop(OTP_PENDING, None)
        messages.info(request, "请重新输入用户名和密码")
        return redirect("web:login")
    user = get_object_or_404(User, pk=pending["user"], is_active=True)
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            auth_services.otp_check(user=user, code=form.cleaned_data["code"])
        except DomainError as error:
            pending["tries"] += 1
            if pending["tries"] >= OTP_PENDING_TRIES:
                request.session.pop(OTP_PENDING, None)
                messages.error(request, "动态验证码错误次数过多，请重新登录")
                return redirect("web:login")
            request.session[OTP_PENDING] = pending
            form.add_error("code", error.message)
        else:
            request.session.pop(OTP_PENDING, None)
            login(request, user, backend=pending["backend"])
            next_url = pending["next"]
            if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
                next_url = resolve_url(settings.LOGIN_REDIRECT_URL)
            return redirect(next_url)
    return render(request, "web/login_otp.html", {"title": "动态验证码", "form": form},
                  status=400 if request.method == "POST" else 200)
