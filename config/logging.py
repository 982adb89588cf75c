"""Logs an operator can search: one line per event, each carrying the request it belongs to.

- ``RequestContextMiddleware`` gives every request an id (the proxy's ``X-Request-ID`` when it
  is a sane token, otherwise a new one), returns it in the response header, and makes the
  request visible to log records emitted while it is handled.
- ``RequestContextFilter`` adds ``request_id`` and ``user_id`` to every record ("-" outside a
  request, e.g. in a Celery worker).
- ``ClientErrorsOnOneLine`` drops the traceback Django attaches to 4xx records (a refused
  permission is an expected event, not a crash); 5xx keep theirs.
- ``JsonFormatter`` writes one JSON object per line (production's default, ``LOG_FORMAT``).
"""

import contextvars
import datetime as dt
import json
import logging
import re
import uuid

_current_request = contextvars.ContextVar("tracker_current_request", default=None)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
REQUEST_ID_HEADER = "X-Request-ID"


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = _current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current_request.reset(token)
        response[REQUEST_ID_HEADER] = request.request_id
        return response


def current_request_id() -> str | None:
    request = _current_request.get()
    return getattr(request, "request_id", None) if request is not None else None


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request = _current_request.get() or getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", "-") if request is not None else "-"
        user = getattr(request, "user", None) if request is not None else None
        # request.user is lazy: read it only if authentication already ran for this request.
        authenticated = user is not None and getattr(user, "is_authenticated", False)
        record.user_id = user.pk if authenticated else "-"
        return True


class ClientErrorsOnOneLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True


# What every LogRecord carries; anything else on a record came from the caller's ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {
    "message", "asctime", "request", "request_id", "user_id", "status_code",
}


class JsonFormatter(logging.Formatter):
    """One object per line: time, level, logger, message, request and user, and the caller's
    plain ``extra=`` fields (``delivery_id``, ``channel``...) so they can be searched as fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created).astimezone().isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "user_id": getattr(record, "user_id", "-"),
        }
        status = getattr(record, "status_code", None)
        if status is not None:
            entry["status"] = status
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry and (
                value is None or isinstance(value, str | int | float | bool)
            ):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def build_logging(*, level: str, fmt: str) -> dict:
    """The LOGGING setting: ``fmt`` is "json" (one object per line) or "plain"."""
    if fmt not in ("json", "plain"):
        raise ValueError(f"LOG_FORMAT must be json or plain, not {fmt!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_context": {"()": "config.logging.RequestContextFilter"},
            "client_errors_on_one_line": {"()": "config.logging.ClientErrorsOnOneLine"},
        },
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s "
                                "user=%(user_id)s]: %(message)s"},
            "json": {"()": "config.logging.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": fmt,
                "filters": ["request_context", "client_errors_on_one_line"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "INFO"}},
    }
