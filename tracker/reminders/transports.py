"""Outbound channels, one class per channel (the shape of healthchecks' `Transport`).

A transport is made for one recipient: a user for e-mail, a unit for its group robots.

- `is_noop()`: the recipient has not set this channel up (no e-mail address, no robot URL), so
  no delivery is created for it.
- `notify(notification, attempt)`: send the notification's rendered text (each channel's
  `send_notification` does the channel's part). It calls `attempt.accepted()` the moment the
  server has accepted the message (the SMTP server's 250 to DATA, before QUIT; the robot's
  errcode 0), so that the caller records "sent" before anything else can fail, and marks the
  message with the delivery and its try (`Attempt`): a resend after a lost record is
  recognisable. It returns when sent, raises
  TryLater for a transient failure worth retrying (network errors, timeouts, HTTP 5xx or 429,
  SMTP 4xx, the robots' rate-limit codes) or SendFailed for a permanent one (bad address, wrong
  key, rejected message). Nothing else is caught by callers.

Each channel's I/O is one static `send(...)`, called through its class, so that it can be
replaced as a whole (the interrupted-batch test does). `TRANSPORTS` maps a `Channel` code to its
class; `transports_for(recipient_field)` lists the classes that serve one kind of recipient, in
the order their deliveries are created.
"""

import base64
import hashlib
import hmac
import json
import logging
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from tracker.models import Channel, Notification, Unit, User

logger = logging.getLogger(__name__)

# The header that names the delivery and its try on every e-mail and robot request.
DELIVERY_HEADER = "X-Tracker-Delivery"


@dataclass(frozen=True)
class Attempt:
    """One try at one delivery: the e-mail's Message-ID is the delivery's (the same on every
    try, so a resend is the same message to the mail system), and the X-Tracker-Delivery
    header says "<delivery id>/<try>" on e-mails and robot requests alike."""

    delivery_id: int
    number: int
    accepted: Callable[[], None] = field(default=lambda: None, compare=False)

    @property
    def header(self) -> str:
        return f"{self.delivery_id}/{self.number}"

    def message_id(self) -> str:
        domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
        return f"<tracker-delivery-{self.delivery_id}@{domain}>"


class TryLater(Exception):
    """The send may succeed later; retry with backoff. `status`: the HTTP status, if any."""

    def __init__(self, message: str = "", *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SendFailed(Exception):
    """The send will not succeed by retrying; record it as failed. `status`: the HTTP status,
    if any."""

    def __init__(self, message: str = "", *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx answer is returned as an HTTPError instead of being followed."""

    def redirect_request(self, *args, **kwargs):
        return None


def http_post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float,
    follow_redirects: bool = True, max_read: int | None = None,
) -> tuple[int, bytes]:
    """POST `body` and return (status, the answer's first `max_read` bytes) for a 2xx answer.

    The one classification of HTTP outcomes for every outbound POST (group robots, outbound
    webhooks): 5xx and 429, network errors and timeouts raise TryLater; any other non-2xx
    raises SendFailed (with a 3xx among them when `follow_redirects` is off)."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    opener = (urllib.request.build_opener() if follow_redirects
              else urllib.request.build_opener(_NoRedirects))
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read(max_read)
    except urllib.error.HTTPError as error:
        if error.code >= 500 or error.code == 429:
            raise TryLater(f"HTTP {error.code}", status=error.code) from error
        raise SendFailed(f"HTTP {error.code}", status=error.code) from error
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise TryLater(f"网络错误：{error}") from error


class Transport:
    code: str = ""
    # The Notification field that holds this transport's recipient.
    recipient_field: str = ""
    # The recipient's field that holds its address on this channel, and the failure recorded
    # when it is empty by the time of sending.
    address_field: str = ""
    no_address = ""

    def __init__(self, recipient: User | Unit) -> None:
        self.recipient = recipient

    @property
    def address(self) -> str:
        return getattr(self.recipient, self.address_field)

    def is_noop(self) -> bool:
        """True when the recipient has not configured this channel."""
        return not self.address

    def label(self) -> str:
        """Who receives it, for the logs (never a robot URL: it carries the robot's key)."""
        return self.address

    def notify(self, notification: Notification, attempt: Attempt | None = None) -> None:
        """Send, or raise TryLater / SendFailed."""
        if self.is_noop():
            raise SendFailed(self.no_address)
        self.send_notification(notification, attempt)

    def send_notification(self, notification: Notification, attempt: Attempt | None) -> None:
        raise NotImplementedError


class Email(Transport):
    """E-mail through Django's configured backend (SMTP in production)."""

    code = Channel.EMAIL
    recipient_field = "recipient_user"
    address_field = "email"
    no_address = "接收人没有填写电子邮箱"

    def send_notification(self, notification: Notification, attempt: Attempt | None) -> None:
        Email.send(
            to=self.address, subject=notification.title, body=notification.body, attempt=attempt
        )

    @staticmethod
    def send(*, to: str, subject: str, body: str, attempt: Attempt | None = None) -> None:
        headers = {}
        if attempt is not None:
            headers = {"Message-ID": attempt.message_id(), DELIVERY_HEADER: attempt.header}
        connection = get_connection(fail_silently=False)
        message = EmailMessage(
            subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to],
            headers=headers, connection=connection,
        )
        try:
            try:
                # Our own session: send_messages leaves it open, so the acceptance is recorded
                # before QUIT, which a slow server may take its time to answer.
                connection.open()
                message.send(fail_silently=False)
            except smtplib.SMTPRecipientsRefused as error:
                raise SendFailed(f"收件人被拒绝：{to}") from error
            except smtplib.SMTPResponseException as error:
                if 400 <= error.smtp_code < 500:
                    raise TryLater(f"SMTP {error.smtp_code} {error.smtp_error!r}") from error
                raise SendFailed(f"SMTP {error.smtp_code} {error.smtp_error!r}") from error
            except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as error:
                raise TryLater(f"SMTP 连接失败：{error}") from error
            except (TimeoutError, OSError) as error:
                raise TryLater(f"SMTP 网络错误：{error}") from error
            if attempt is not None:
                attempt.accepted()
        finally:
            Email._close(connection)

    @staticmethod
    def _close(connection) -> None:
        """End the session; a failing QUIT changes nothing about what was or was not sent."""
        try:
            connection.close()
        except (smtplib.SMTPException, OSError) as error:
            logger.info("SMTP 会话关闭失败（不影响发送结果）：%s", error)


class RobotTransport(Transport):
    """A group robot's webhook: POST a JSON body, then check the answer's {"errcode": 0}."""

    recipient_field = "recipient_unit"
    # Robot error codes that mean "try again later".
    transient_errcodes: frozenset[int] = frozenset()

    def label(self) -> str:
        return f"{self.recipient.name}(unit={self.recipient.pk})"

    @classmethod
    def post(cls, url: str, payload: dict, attempt: Attempt | None = None) -> dict:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if attempt is not None:
            headers[DELIVERY_HEADER] = attempt.header
        _status, raw = http_post(url, body, headers, timeout=settings.TRACKER_WEBHOOK_TIMEOUT)
        try:
            answer = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise TryLater(f"机器人返回了无法解析的内容：{raw[:200]!r}") from error
        errcode = answer.get("errcode")
        if errcode == 0:
            if attempt is not None:
                attempt.accepted()
            return answer
        message = f"errcode={errcode} errmsg={answer.get('errmsg', '')}"
        if errcode in cls.transient_errcodes:
            raise TryLater(message)
        raise SendFailed(message)


class WeCom(RobotTransport):
    """WeCom (企业微信) group robot: {"msgtype": "markdown", "markdown": {"content": ...}}."""

    code = Channel.WECOM
    address_field = "wecom_webhook_url"
    no_address = "单位未配置企业微信群机器人地址"
    # -1 系统繁忙, 45009 接口调用超过限制 (the robot allows 20 messages a minute).
    transient_errcodes = frozenset({-1, 45009})
    MAX_CONTENT_BYTES = 4096

    def send_notification(self, notification: Notification, attempt: Attempt | None) -> None:
        WeCom.send(webhook_url=self.address, content=notification.body, attempt=attempt)

    @staticmethod
    def payload(*, content: str) -> dict:
        data = content.encode("utf-8")
        if len(data) > WeCom.MAX_CONTENT_BYTES:
            content = (
                data[: WeCom.MAX_CONTENT_BYTES - 12].decode("utf-8", errors="ignore") + "\n……（略）"
            )
        return {"msgtype": "markdown", "markdown": {"content": content}}

    @staticmethod
    def send(*, webhook_url: str, content: str, attempt: Attempt | None = None) -> dict:
        return WeCom.post(webhook_url, WeCom.payload(content=content), attempt)


class DingTalk(RobotTransport):
    """DingTalk (钉钉) custom robot: a markdown message, optionally on a signed URL (加签).

    Signing: timestamp in milliseconds, sign = urlencode(base64(HMAC-SHA256(secret,
    f"{timestamp}\\n{secret}"))), appended as &timestamp=...&sign=... to the webhook URL. The
    people named on the notification's tasks are @-mentioned by their mobile numbers.
    """

    code = Channel.DINGTALK
    address_field = "dingtalk_webhook_url"
    no_address = "单位未配置钉钉群机器人地址"
    # -1 系统繁忙, 130101 发送速度太快而限流 (20 messages a minute per robot).
    transient_errcodes = frozenset({-1, 130101})
    MAX_TEXT_CHARS = 5000

    def send_notification(self, notification: Notification, attempt: Attempt | None) -> None:
        unit = self.recipient
        named = sorted({item.get("responsible_person", "") for item in notification.items} - {""})
        mobiles = list(
            User.objects.filter(unit=unit, is_active=True, full_name__in=named)
            .exclude(phone="")
            .values_list("phone", flat=True)
        )
        DingTalk.send(
            webhook_url=self.address, secret=unit.dingtalk_secret,
            title=notification.title, text=notification.body, at_mobiles=mobiles,
            attempt=attempt,
        )

    @staticmethod
    def sign(secret: str, timestamp_ms: int) -> str:
        to_sign = f"{timestamp_ms}\n{secret}".encode()
        digest = hmac.new(secret.encode("utf-8"), to_sign, digestmod=hashlib.sha256).digest()
        return urllib.parse.quote_plus(base64.b64encode(digest))

    @staticmethod
    def signed_url(webhook_url: str, secret: str, timestamp_ms: int | None = None) -> str:
        if not secret:
            return webhook_url
        timestamp_ms = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
        joiner = "&" if "?" in webhook_url else "?"
        return (
            f"{webhook_url}{joiner}timestamp={timestamp_ms}"
            f"&sign={DingTalk.sign(secret, timestamp_ms)}"
        )

    @staticmethod
    def payload(*, title: str, text: str, at_mobiles: list[str] = ()) -> dict:
        at_mobiles = [m for m in at_mobiles if m]
        if at_mobiles:
            # DingTalk only highlights an @ that also appears in the text.
            text = text + "\n\n" + " ".join(f"@{m}" for m in at_mobiles)
        if len(text) > DingTalk.MAX_TEXT_CHARS:
            text = text[: DingTalk.MAX_TEXT_CHARS - 10] + "\n……（略）"
        return {
            "msgtype": "markdown",
            "markdown": {"title": title, "text": text},
            "at": {"atMobiles": at_mobiles, "isAtAll": False},
        }

    @staticmethod
    def send(
        *, webhook_url: str, secret: str, title: str, text: str, at_mobiles: list[str] = (),
        attempt: Attempt | None = None,
    ) -> dict:
        return DingTalk.post(
            DingTalk.signed_url(webhook_url, secret),
            DingTalk.payload(title=title, text=text, at_mobiles=list(at_mobiles)),
            attempt,
        )


# Channel code → transport class; the order is the order deliveries are created in.
TRANSPORTS: dict[str, type[Transport]] = {
    transport.code: transport for transport in (Email, WeCom, DingTalk)
}


def transports_for(recipient_field: str) -> list[type[Transport]]:
    """The transports that serve a recipient kind ("recipient_user" or "recipient_unit")."""
    return [t for t in TRANSPORTS.values() if t.recipient_field == recipient_field]
