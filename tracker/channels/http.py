"""POST a JSON body to a robot webhook and check the robots' {"errcode": 0} answer."""

import json
import urllib.error
import urllib.request

from django.conf import settings

from tracker.channels import SendFailed, TryLater


def post_robot_json(url: str, payload: dict, *, transient_errcodes: frozenset[int]) -> dict:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.TRACKER_WEBHOOK_TIMEOUT) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        if error.code >= 500 or error.code == 429:
            raise TryLater(f"HTTP {error.code}") from error
        raise SendFailed(f"HTTP {error.code}") from error
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise TryLater(f"网络错误：{error}") from error
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TryLater(f"机器人返回了无法解析的内容：{raw[:200]!r}") from error
    errcode = answer.get("errcode")
    if errcode == 0:
        return answer
    message = f"errcode={errcode} errmsg={answer.get('errmsg', '')}"
    if errcode in transient_errcodes:
        raise TryLater(message)
    raise SendFailed(message)
