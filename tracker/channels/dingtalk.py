"""DingTalk (钉钉) custom robot: markdown message, optional signed URL (加签).

Signing: timestamp in milliseconds, sign = urlencode(base64(HMAC-SHA256(secret,
f"{timestamp}\\n{secret}"))), appended as &timestamp=...&sign=... to the webhook URL.
"""

import base64
import hashlib
import hmac
import time
import urllib.parse

from tracker.channels.http import post_robot_json

# -1 系统繁忙, 130101 发送速度太快而限流 (20 messages a minute per robot).
TRANSIENT_ERRCODES = frozenset({-1, 130101})
MAX_TEXT_CHARS = 5000


def sign(secret: str, timestamp_ms: int) -> str:
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), to_sign, digestmod=hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def signed_url(webhook_url: str, secret: str, timestamp_ms: int | None = None) -> str:
    if not secret:
        return webhook_url
    timestamp_ms = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    joiner = "&" if "?" in webhook_url else "?"
    return f"{webhook_url}{joiner}timestamp={timestamp_ms}&sign={sign(secret, timestamp_ms)}"


def build_payload(*, title: str, text: str, at_mobiles: list[str] = ()) -> dict:
    at_mobiles = [m for m in at_mobiles if m]
    if at_mobiles:
        # DingTalk only highlights an @ that also appears in the text.
        text = text + "\n\n" + " ".join(f"@{m}" for m in at_mobiles)
    if len(text) > MAX_TEXT_CHARS:
        text = text[: MAX_TEXT_CHARS - 10] + "\n……（略）"
    return {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": text},
        "at": {"atMobiles": at_mobiles, "isAtAll": False},
    }


def send(
    *, webhook_url: str, secret: str, title: str, text: str, at_mobiles: list[str] = ()
) -> dict:
    return post_robot_json(
        signed_url(webhook_url, secret),
        build_payload(title=title, text=text, at_mobiles=list(at_mobiles)),
        transient_errcodes=TRANSIENT_ERRCODES,
    )
