"""WeCom (企业微信) group robot: POST {"msgtype": "markdown", "markdown": {"content": ...}}."""

from tracker.channels.http import post_robot_json

# -1 系统繁忙, 45009 接口调用超过限制 (the robot allows 20 messages a minute).
TRANSIENT_ERRCODES = frozenset({-1, 45009})
MAX_CONTENT_BYTES = 4096


def build_payload(*, content: str) -> dict:
    data = content.encode("utf-8")
    if len(data) > MAX_CONTENT_BYTES:
        content = data[: MAX_CONTENT_BYTES - 12].decode("utf-8", errors="ignore") + "\n……（略）"
    return {"msgtype": "markdown", "markdown": {"content": content}}


def send(*, webhook_url: str, content: str) -> dict:
    return post_robot_json(
        webhook_url, build_payload(content=content), transient_errcodes=TRANSIENT_ERRCODES
    )
