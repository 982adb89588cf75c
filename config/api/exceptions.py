"""The one exception handler: every refusal has the same shape.

    {"code": "stale_version", "detail": "任务已被他人修改……", "fields": {"note": ["请填写说明"]}}

`code` is stable and meant for programs, `detail` is Chinese and meant for people, `fields`
holds per-field messages (empty when the error is not about a field). Domain errors carry their
own code and HTTP status; Django's and DRF's errors are mapped here. Anything else is left to
Django (a logged 500 without a stack trace in the response): unexpected errors are not swallowed.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from tracker.errors import DomainError, LoginLocked

INVALID_DETAIL = "输入有误，请检查各字段"

# Chinese wording for DRF's own errors whose default text is English or too terse.
MESSAGES = {
    "not_authenticated": "请先登录（未提供身份认证信息）",
    "authentication_failed": "身份认证失败，请重新登录",
    "permission_denied": "您没有执行该操作的权限",
    "not_found": "未找到该记录",
    "parse_error": "请求内容格式有误，无法解析",
    "unsupported_media_type": "不支持的请求内容类型",
    "not_acceptable": "无法按请求的格式返回内容",
}


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = "任务已被他人修改（If-Match 与当前版本不符），请刷新后再操作"


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_code = "precondition_required"
    default_detail = "请提供读取时的版本号（请求体中的 version 字段或 If-Match 请求头）"


def error_body(code: str, detail: str, fields: dict | None = None) -> dict:
    """The one error shape, for the API's responses and the site's error handlers alike."""
    return {"code": code, "detail": detail, "fields": fields or {}}


def error_response(
    status_code: int, code: str, detail: str, fields: dict | None = None, headers=None
) -> Response:
    return Response(error_body(code, detail, fields), status=status_code, headers=headers)


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flatten(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _flatten(value)]
    return [str(detail)]


def _validation_response(detail) -> Response:
    if not isinstance(detail, dict):
        messages = _flatten(detail)
        return error_response(400, "invalid", "；".join(messages) or INVALID_DETAIL)
    fields = {str(field): _flatten(value) for field, value in detail.items()}
    general = fields.pop("non_field_errors", []) + fields.pop("__all__", [])
    return error_response(400, "invalid", "；".join(general) or INVALID_DETAIL, fields)


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        set_rollback()
        headers = {}
        if isinstance(exc, LoginLocked) and exc.retry_after:
            headers["Retry-After"] = str(exc.retry_after)
        fields = {field: [message] for field, message in exc.fields.items()}
        return error_response(exc.status_code, exc.code, exc.message, fields, headers)
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return _validation_response(detail)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    set_rollback()
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        return _validation_response(exc.detail)

    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    if isinstance(exc, exceptions.Throttled):
        wait = f"{int(exc.wait)}秒后" if exc.wait else "稍后"
        detail = f"请求过于频繁，请{wait}再试"
    elif isinstance(exc, exceptions.MethodNotAllowed):
        detail = f"不支持 {context['request'].method} 请求方法"
    elif code in MESSAGES and code != "permission_denied":
        detail = MESSAGES[code]
    elif isinstance(exc.detail, str) and exc.detail:
        detail = str(exc.detail)
    else:
        detail = MESSAGES.get(code, "请求未能完成")
    return error_response(exc.status_code, code, detail, headers=headers)
