"""Webhook signatures (no database): HMAC-SHA256 over "<timestamp>.<body>" with the endpoint's
secret, sent as `X-Tracker-Signature: sha256=<hex>`. docs/webhooks.md shows a receiver's
check; `verify` is the same check in Python, used by the tests' receiving server."""

import hashlib
import hmac

from tracker.reminders.transports import DELIVERY_HEADER

EVENT_HEADER = "X-Tracker-Event"
TIMESTAMP_HEADER = "X-Tracker-Timestamp"
SIGNATURE_HEADER = "X-Tracker-Signature"
ATTEMPT_HEADER = "X-Tracker-Attempt"
__all__ = ["ATTEMPT_HEADER", "DELIVERY_HEADER", "EVENT_HEADER", "SIGNATURE_HEADER",
           "TIMESTAMP_HEADER", "signature", "signed_headers", "verify"]


def signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """ "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                   hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(*, secret: str, timestamp: str, body: bytes, received: str) -> bool:
    """Whether `received` is the signature of (timestamp, body) under `secret`."""
    return hmac.compare_digest(signature(secret=secret, timestamp=timestamp, body=body),
                               received)


def signed_headers(
    *, secret: str, event: str, delivery_id: int, attempt: int, timestamp: int, body: bytes
) -> dict[str, str]:
    stamp = str(timestamp)
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "tracker-webhooks/1",
        EVENT_HEADER: event,
        DELIVERY_HEADER: str(delivery_id),
        ATTEMPT_HEADER: str(attempt),
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: signature(secret=secret, timestamp=stamp, body=body),
    }
