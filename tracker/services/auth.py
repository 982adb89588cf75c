"""Log-in that slows guessing down without letting anyone lock real users out.

- **Per account at an address**: the first ``LOGIN_LOCKOUT_FAILURES - 1`` wrong passwords cost
  nothing; from then on each further failure makes that account wait at that address, doubling
  from ``LOGIN_DELAY_BASE_SECONDS`` up to ``LOGIN_LOCKOUT_SECONDS``. The attempt before the first
  wait is warned. Someone guessing elsewhere cannot make the real user wait at their own desk.
- **Per address, across accounts** (password spraying): past ``LOGIN_LOCKOUT_ADDRESS_FAILURES``
  the address waits likewise, but only for browsers that have never signed in successfully as
  that account: a successful login leaves a signed *device cookie* naming the account, and an
  attempt that presents it is not held by the address's count. Colleagues behind the same NAT
  address keep signing in while a sprayer behind it waits (OWASP's device-cookie design; no
  CAPTCHA on an intranet).
- Failures for names that do not exist count only against the address, so random names cannot
  grow the table; ``login_failures_purge`` removes rows whose window and wait have passed.

Each failure is one conditional UPDATE (or an INSERT racing on a unique key), so concurrent wrong
passwords cannot exceed the limits. While a key waits the password is not even checked, so a
correct guess during the wait gains nothing.
"""

import datetime as dt
import hashlib
import math
import secrets

from django.conf import settings
from django.contrib.auth import authenticate
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tracker import access
from tracker.errors import ActionForbidden, InvalidCredentials, InvalidInput, LoginLocked
from tracker.models import ApiToken, LoginFailure, User
from tracker.services.audit import AuditAction, audit_record

DEVICE_COOKIE = "tracker_device"
_DEVICE_SALT = "tracker.auth.device"


def _account_key(username: str, address: str) -> str:
    return f"account:{username.strip().casefold()}|{address}"


def _address_key(address: str) -> str:
    return f"address:{address}"


# --- Device cookies ----------------------------------------------------------------------------


def device_cookie_value(username: str) -> str:
    return signing.dumps({"u": username.strip().casefold()}, salt=_DEVICE_SALT, compress=True)


def device_knows(request: HttpRequest | None, username: str) -> bool:
    """Has this browser signed in successfully as ``username`` before (and recently)?"""
    raw = request.COOKIES.get(DEVICE_COOKIE) if request is not None else None
    if not raw:
        return False
    try:
        data = signing.loads(raw, salt=_DEVICE_SALT,
                             max_age=settings.LOGIN_DEVICE_COOKIE_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return False
    return data.get("u") == username.strip().casefold()


# --- Counting ----------------------------------------------------------------------------------


def _wait_seconds(failures: int, limit: int) -> int:
    """The wait after the ``failures``-th failure within the window (0 before the limit)."""
    if failures < limit:
        return 0
    doublings = min(failures - limit, 30)
    return min(settings.LOGIN_DELAY_BASE_SECONDS * 2**doublings, settings.LOGIN_LOCKOUT_SECONDS)


def _count_failure(key: str, limit: int, now: dt.datetime) -> int:
    """Count one failure on ``key``, set its wait, return the failures in the window."""
    window = dt.timedelta(seconds=settings.LOGIN_LOCKOUT_WINDOW_SECONDS)
    expired = Q(window_started_at__lt=now - window)
    rows = LoginFailure.objects.filter(key=key).update(
        failures=Case(When(expired, then=Value(1)), default=F("failures") + 1),
        window_started_at=Case(When(expired, then=Value(now)), default=F("window_started_at")),
    )
    if rows == 0:
        try:
            with transaction.atomic():
                LoginFailure.objects.create(key=key, failures=1, window_started_at=now)
        except IntegrityError:
            # Another request created the row first: count on it instead.
            return _count_failure(key, limit, now)
    failures = LoginFailure.objects.filter(key=key).values_list("failures", flat=True).get()
    wait = _wait_seconds(failures, limit)
    if wait:
        LoginFailure.objects.filter(key=key).update(locked_until=now + dt.timedelta(seconds=wait))
    return failures


def _keys_holding(username: str, address: str, *, device_known: bool) -> list[str]:
    keys = [_account_key(username, address)]
    if not device_known:
        keys.append(_address_key(address))
    return keys


def login_locked_until(
    *, username: str, address: str, now: dt.datetime, device_known: bool = False
) -> dt.datetime | None:
    return (
        LoginFailure.objects.filter(
            key__in=_keys_holding(username, address, device_known=device_known),
            locked_until__gt=now,
        )
        .order_by("-locked_until")
        .values_list("locked_until", flat=True)
        .first()
    )


@transaction.atomic
def login_record_failure(
    *, username: str, address: str, now: dt.datetime, device_known: bool = False
) -> int | None:
    """Count a failed attempt. Returns the account's failures at this address in the window
    (None for a name that does not exist, which counts only against the address)."""
    account_failures = None
    if User.objects.filter(username__iexact=username.strip()).exists():
        account_failures = _count_failure(
            _account_key(username, address), settings.LOGIN_LOCKOUT_FAILURES, now
        )
    if not device_known:
        _count_failure(_address_key(address), settings.LOGIN_LOCKOUT_ADDRESS_FAILURES, now)
    return account_failures


def _locked_error(until: dt.datetime, now: dt.datetime) -> LoginLocked:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    wait = f"{seconds}秒" if seconds < 120 else f"{math.ceil(seconds / 60)}分钟"
    return LoginLocked(f"登录失败次数过多，请{wait}后再试", retry_after=seconds)


def _invalid_error(account_failures: int | None) -> InvalidCredentials:
    if account_failures == settings.LOGIN_LOCKOUT_FAILURES - 1:
        return InvalidCredentials(
            f"用户名或密码错误。再错1次，需等待{settings.LOGIN_DELAY_BASE_SECONDS}秒后才能再试"
        )
    return InvalidCredentials()


def client_address(request) -> str:
    """The client's address: the one rule for the login waits (pages, admin, API), the API's
    throttles (config.api.throttling) and /metrics/.

    ``NUM_PROXIES`` (REST_FRAMEWORK) is the number of reverse proxies in front of the app, each
    appending the address it received the request from to X-Forwarded-For. The client is then
    the N-th entry from the right: everything left of it was sent by the client and may be
    forged. Unset or 0, X-Forwarded-For is ignored and the peer address (REMOTE_ADDR) is the
    client. A header with fewer entries than proxies did not come through all of them, so the
    peer address is used rather than anything the client wrote. (DRF's own rule trusts the
    whole header when NUM_PROXIES is unset and its leftmost entry when it is short.)"""
    remote = (request.META.get("REMOTE_ADDR") or "").strip() or "unknown"
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    if len(hops) < proxies:
        return remote
    return hops[-proxies] or remote


def login_authenticate(
    *, request: HttpRequest | None, username: str, password: str, address: str,
    now: dt.datetime | None = None,
) -> User:
    """Check the waits, then the password. Raises LoginLocked or InvalidCredentials.

    On success the request is marked so that the response carries the device cookie
    (config.login_device.LoginDeviceCookieMiddleware)."""
    now = now or timezone.now()
    known = device_knows(request, username)
    until = login_locked_until(username=username, address=address, now=now, device_known=known)
    if until is not None:
        _audit_login_failed(request, username, address, now, "等待期间的登录尝试，未校验密码")
        raise _locked_error(until, now)
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        failures = login_record_failure(username=username, address=address, now=now,
                                        device_known=known)
        _audit_login_failed(request, username, address, now, "用户名或密码错误，或账号已停用")
        until = login_locked_until(username=username, address=address, now=now,
                                   device_known=known)
        if until is not None:
            raise _locked_error(until, now)
        raise _invalid_error(failures)
    # A success clears this account's count at this address (not the address's own count,
    # or one valid account would let an address keep guessing at others).
    LoginFailure.objects.filter(key=_account_key(username, address)).delete()
    if request is not None:
        request.tracker_device_cookie = device_cookie_value(user.get_username())
    audit_record(actor=user, action=AuditAction.LOGIN, target=user, address=address,
                 request_id=getattr(request, "request_id", None), at=now)
    return user


def _audit_login_failed(request, username: str, address: str, now: dt.datetime,
                        note: str) -> None:
    # Nobody is signed in: the account tried is the target, as typed (never the password).
    audit_record(actor=None, action=AuditAction.LOGIN_FAILED, target_type="tracker.user",
                 target_label=username.strip(), note=note, address=address,
                 request_id=getattr(request, "request_id", None), at=now)


@transaction.atomic
def login_unlock(*, keys: list[str]) -> int:
    """An administrator lifts waits (admin action 解除锁定): the rows are removed."""
    deleted, _ = LoginFailure.objects.filter(key__in=keys).delete()
    return deleted


def login_failures_purge(*, now: dt.datetime) -> int:
    """Remove rows whose counting window and wait have both passed (idempotent)."""
    window_start = now - dt.timedelta(seconds=settings.LOGIN_LOCKOUT_WINDOW_SECONDS)
    deleted, _ = LoginFailure.objects.filter(window_started_at__lt=window_start).filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    ).delete()
    return deleted


# --- API tokens (one per client, hashed, expiring, revocable) ---------------------------------

# How often a token's "last used" time is written: reading the API does not write a row per
# request, only when the stored time is older than this.
API_TOKEN_TOUCH_SECONDS = 60
API_TOKEN_DEFAULT_NAME = "API"
# Revoked and expired tokens kept per user (shown on the page); older ones are deleted when a
# new token is issued, so a script that signs in every few minutes does not grow the table.
API_TOKEN_KEEP_DEAD = 50


class ApiTokenInvalid(Exception):
    """A presented key is unknown, expired, revoked, or its user is disabled. `code` and
    `message` (Chinese) are what the API answers with its 401."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def api_token_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _active_tokens_q(now: dt.datetime) -> Q:
    return Q(revoked_at__isnull=True, expires_at__gt=now)


@transaction.atomic
def api_token_issue(
    *, user: User, name: str = API_TOKEN_DEFAULT_NAME, now: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for one client of ``user``. Returns the row and the raw key, which is not
    stored (only its SHA-256) and so can be shown this once only.

    A user's earlier live token of the same client name is revoked (one token per client, so a
    script that signs in every run does not pile tokens up); at most API_TOKEN_MAX_PER_USER live
    tokens per user."""
    now = now or timezone.now()
    name = " ".join((name or "").split()) or API_TOKEN_DEFAULT_NAME
    if len(name) > ApiToken._meta.get_field("name").max_length:
        raise InvalidInput("客户端名称不能超过100个字符", fields={"name": "客户端名称过长"})
    # Lock the user's row: concurrent issues for one user are counted one after the other.
    User.objects.select_for_update().filter(pk=user.pk).exists()
    live = ApiToken.objects.filter(_active_tokens_q(now), user=user)
    live.filter(name=name).update(revoked_at=now)
    limit = settings.API_TOKEN_MAX_PER_USER
    if live.exclude(name=name).count() >= limit:
        raise InvalidInput(
            f"有效令牌已达上限（{limit}个），请先在“API 令牌”页面作废不再使用的令牌"
        )
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, key_hash=api_token_hash(key), prefix=key[:8], created_at=now,
        expires_at=now + dt.timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    dead = (ApiToken.objects.filter(user=user).exclude(_active_tokens_q(now))
            .order_by("-created_at", "-pk").values_list("pk", flat=True)[API_TOKEN_KEEP_DEAD:])
    ApiToken.objects.filter(pk__in=list(dead)).delete()
    return token, key


def api_token_authenticate(*, key: str, now: dt.datetime | None = None) -> ApiToken:
    """The live token for ``key`` (with its user loaded), or ApiTokenInvalid. Marks it used
    at most once per API_TOKEN_TOUCH_SECONDS."""
    now = now or timezone.now()
    token = (
        # The user's units with the user, as config/auth.py reads them for a session.
        ApiToken.objects.select_related("user__unit", "user__supervision_root")
        .filter(key_hash=api_token_hash(key)).first()
    )
    if token is None:
        raise ApiTokenInvalid("token_invalid", "令牌无效，请重新获取令牌")
    if token.revoked_at is not None:
        raise ApiTokenInvalid("token_revoked", "令牌已作废，请重新获取令牌")
    if token.expires_at <= now:
        raise ApiTokenInvalid("token_expired", "令牌已过期，请重新获取令牌")
    if not token.user.is_active:
        raise ApiTokenInvalid("user_inactive", "该账号已停用，请联系系统管理员")
    stale = now - dt.timedelta(seconds=API_TOKEN_TOUCH_SECONDS)
    if token.last_used_at is None or token.last_used_at < stale:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User, now: dt.datetime | None = None) -> bool:
    """The owner revokes one of their tokens. Returns False if it was already revoked."""
    if token.user_id != actor.pk:
        raise ActionForbidden("只能作废自己的令牌")
    now = now or timezone.now()
    return bool(
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    )


@transaction.atomic
def api_tokens_revoke_all(*, user: User, now: dt.datetime | None = None) -> int:
    """Every token of ``user`` that is not revoked yet is revoked (on a password change)."""
    now = now or timezone.now()
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)


# --- TOTP second factor (动态验证码, django-otp) ------------------------------------------------
#
# Supervisors and administrators may bind one authenticator app (TOTPDevice, confirmed once a
# first code from it has been entered). A user with a confirmed device gives its current code
# at every password sign-in: the pages' and the admin's login forms and the token endpoint.
# Wrong codes are throttled by django-otp per device (1, 2, 4 … seconds); a code is accepted
# once only.

OTP_DEVICE_NAME = "身份验证器"


class OtpRequired(InvalidInput):
    code = "otp_required"
    default_message = "该账号已启用动态验证码，请填写身份验证器上的6位验证码"


class OtpEnrolmentRequired(OtpRequired):
    default_message = "您的角色须先在“动态验证码”页面绑定身份验证器，才能获取令牌或进入管理后台"


class OtpInvalid(InvalidInput):
    code = "otp_invalid"
    default_message = "动态验证码错误或已使用过，请输入身份验证器上当前的6位验证码"


def otp_may_enrol(user: User) -> bool:
    """Only supervisors and administrators have a second factor (issue #14)."""
    return access.is_supervisor_or_admin(user)


def otp_required_for(user: User) -> bool:
    """Whether this user's role must have a confirmed device (TOTP_REQUIRED_FOR_ROLES)."""
    return otp_may_enrol(user) and user.role in settings.TOTP_REQUIRED_FOR_ROLES


def otp_enrolment_missing(user: User) -> bool:
    """A role that must have an authenticator, without one: the admin and new API tokens are
    refused until it is bound on the page 动态验证码 (the pages send the user there)."""
    return otp_required_for(user) and otp_device_of(user) is None


def otp_device_of(user: User, *, confirmed: bool = True):
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("-pk").first()


def otp_check(*, user: User, code: str, require_enrolment: bool = False) -> None:
    """After the password: nothing to do for a user without a confirmed device; otherwise the
    code must be its current one. Raises OtpRequired, OtpInvalid or LoginLocked (throttled).

    With ``require_enrolment`` (the token endpoint, the admin's login) a user whose role must
    have a device (TOTP_REQUIRED_FOR_ROLES) and has none is refused too; the pages' login lets
    them in to bind one.

    Not atomic on purpose: a wrong code's throttle count is kept although the caller fails."""
    device = otp_device_of(user)
    if device is None:
        if require_enrolment and otp_required_for(user):
            raise OtpEnrolmentRequired()
        return
    if not code:
        raise OtpRequired()
    _otp_verify(device, code)


def _otp_verify(device: TOTPDevice, code: str) -> None:
    """The device's throttle first (django-otp doubles its wait after each wrong code), then
    the code; a wrong code counts on the device."""
    allowed, data = device.verify_is_allowed()
    if not allowed:
        until = (data or {}).get("locked_until")
        if until is not None:
            raise _locked_error(until, timezone.now())
        raise LoginLocked("动态验证码错误次数过多，请稍后再试")
    if not device.verify_token(code.strip()):
        raise OtpInvalid()


@transaction.atomic
def otp_enrol_start(*, user: User):
    """A new unconfirmed device with a fresh key (any earlier unconfirmed one is dropped)."""
    if not otp_may_enrol(user):
        raise ActionForbidden("只有督导人员和系统管理员可以绑定身份验证器")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=OTP_DEVICE_NAME, confirmed=False)


def otp_enrol_confirm(*, user: User, code: str):
    """The first code from the app confirms the pending device; it replaces any older one."""
    device = otp_device_of(user, confirmed=False)
    if device is None:
        raise InvalidInput("请先生成二维码，再输入验证码")
    if not code:
        raise OtpRequired("请输入身份验证器上的6位验证码")
    _otp_verify(device, code)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    device.confirmed = True
    return device


@transaction.atomic
def otp_remove(*, user: User, actor: User) -> int:
    """Unbind the user's devices: the user themself (after re-entering their password) or an
    administrator (for a lost phone)."""
    if actor.pk != user.pk and not access.may_manage_users(actor):
        raise ActionForbidden("只有系统管理员可以解除他人的身份验证器")
    deleted, _ = TOTPDevice.objects.filter(user=user).delete()
    return deleted


# --- Re-authentication for sensitive admin actions ---------------------------------------------

REAUTH_SESSION_KEY = "_tracker_reauth_at"


def reauth_record(*, session, now: dt.datetime) -> None:
    """The signed-in person has just entered their password (and code) again."""
    session[REAUTH_SESSION_KEY] = now.timestamp()


def reauth_is_fresh(*, session, now: dt.datetime) -> bool:
    """Entered within ADMIN_REAUTH_SECONDS? The one rule every sensitive admin view asks."""
    at = session.get(REAUTH_SESSION_KEY)
    if not isinstance(at, int | float):
        return False
    return 0 <= now.timestamp() - at <= settings.ADMIN_REAUTH_SECONDS


def reauth_on_login(sender, request, user, **kwargs) -> None:
    """Signing in is entering the password: it counts as a re-authentication
    (connected to user_logged_in in tracker.apps)."""
    if request is not None and hasattr(request, "session"):
        reauth_record(session=request.session, now=timezone.now())
