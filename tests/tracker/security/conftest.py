"""Helpers for the security tests: real TOTP codes computed from a device's key."""

import time

from django.test import Client
from django_otp.oath import TOTP

PASSWORD = "demo-pass-123"  # the factories' password


def totp_code(device, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows for ``device`` now (or ``steps_ahead`` periods
    later: each code is accepted once, so a test needing a second one takes the next)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
