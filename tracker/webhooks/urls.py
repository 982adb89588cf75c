"""What a webhook URL may be: http(s), a host, no credentials in it (no database needed)."""

import urllib.parse

from django.core.exceptions import ValidationError


def validate_webhook_url(value: str) -> None:
    """Raise ValidationError (Chinese) unless `value` is an http(s) URL with a host and
    without user name or password. The model field, the admin form and the service all use
    this one check."""
    try:
        parts = urllib.parse.urlsplit(value)
        port = parts.port  # raises ValueError on a malformed port
    except ValueError as error:
        raise ValidationError("接收地址格式不正确", code="invalid") from error
    del port
    if parts.scheme not in ("http", "https"):
        raise ValidationError("接收地址必须以 http:// 或 https:// 开头", code="scheme")
    if not parts.hostname:
        raise ValidationError("接收地址缺少主机名", code="host")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError("接收地址中不得包含用户名或密码", code="credentials")
    if parts.fragment:
        raise ValidationError("接收地址不得包含“#”片段", code="fragment")
