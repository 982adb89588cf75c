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
import math

from django.conf import settings
from django.contrib.auth import authenticate
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.http import HttpRequest
from django.utils import timezone

from tracker.errors import InvalidCredentials, LoginLocked
from tracker.models import LoginFailure, User

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
        raise _locked_error(until, now)
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        failures = login_record_failure(username=username, address=address, now=now,
                                        device_known=known)
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
    return user


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
