"""Log-in with a real lockout: failures are counted per account at an address and per address.

Throttling only slows clients down and its cache counters are not atomic; this is the control.
Each failure is one conditional UPDATE (or an INSERT racing on a unique key), so concurrent
wrong passwords cannot exceed the limit. While a key is locked the password is not even checked,
so a correct guess during the lock gains nothing.
"""

import datetime as dt
import math

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.throttling import AnonRateThrottle

from tracker.errors import InvalidCredentials, LoginLocked
from tracker.models import LoginFailure, User


def _keys(username: str, address: str) -> list[tuple[str, int]]:
    return [
        (f"account:{username.strip().casefold()}|{address}", settings.LOGIN_LOCKOUT_FAILURES),
        (f"address:{address}", settings.LOGIN_LOCKOUT_ADDRESS_FAILURES),
    ]


def login_locked_until(*, username: str, address: str, now: dt.datetime) -> dt.datetime | None:
    keys = [key for key, _ in _keys(username, address)]
    until = (
        LoginFailure.objects.filter(key__in=keys, locked_until__gt=now)
        .order_by("-locked_until")
        .values_list("locked_until", flat=True)
        .first()
    )
    return until


def _count_failure(key: str, limit: int, now: dt.datetime) -> None:
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
            _count_failure(key, limit, now)
            return
    LoginFailure.objects.filter(key=key, failures__gte=limit).filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    ).update(locked_until=now + dt.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS))


@transaction.atomic
def login_record_failure(*, username: str, address: str, now: dt.datetime) -> None:
    for key, limit in _keys(username, address):
        _count_failure(key, limit, now)


def _locked_error(until: dt.datetime, now: dt.datetime) -> LoginLocked:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    minutes = max(1, math.ceil(seconds / 60))
    return LoginLocked(
        f"登录失败次数过多，已暂时锁定，请{minutes}分钟后再试", retry_after=seconds
    )


def client_address(request) -> str:
    """The client's address as the API's throttles see it (honours NUM_PROXIES), for the
    lockout of both the API login and the pages' login."""
    return AnonRateThrottle().get_ident(request) or "unknown"


def login_authenticate(
    *, request: HttpRequest | None, username: str, password: str, address: str,
    now: dt.datetime | None = None,
) -> User:
    """Check the lockout, then the password. Raises LoginLocked or InvalidCredentials."""
    now = now or timezone.now()
    until = login_locked_until(username=username, address=address, now=now)
    if until is not None:
        raise _locked_error(until, now)
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        login_record_failure(username=username, address=address, now=now)
        until = login_locked_until(username=username, address=address, now=now)
        if until is not None:
            raise _locked_error(until, now)
        raise InvalidCredentials()
    # A success clears this account's count at this address (not the address's own count,
    # or one valid account would let an address keep guessing at others).
    LoginFailure.objects.filter(key=_keys(username, address)[0][0]).delete()
    return user
