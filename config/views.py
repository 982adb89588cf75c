"""The site shell's views: the home page and the error pages of every face (health checks:
config/health.py).

Under /api/ an error answers in the API's one error shape (config/api/exceptions.py); elsewhere
it is a Chinese page in the site's layout (config/templates/4xx.html, 500.html).
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template import loader
from django.views.decorators.http import require_GET

from config.api.exceptions import MESSAGES, error_body
from tracker import access


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The site root: officers land on 我的任务, supervisors and administrators on the
    dashboard."""
    if access.is_supervisor_or_admin(request.user):
        return redirect("reports_web:dashboard")
    return redirect("web:task_list")


def _api_error(request: HttpRequest, status: int, code: str, detail: str) -> JsonResponse | None:
    if not request.path.startswith("/api/"):
        return None
    return JsonResponse(
        error_body(code, detail), status=status, json_dumps_params={"ensure_ascii": False}
    )


# The exceptions our views raise with a message meant for the reader.
PEOPLE_FACING = (BadRequest, Http404, PermissionDenied)


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


def error_reason(exception: BaseException | None) -> str:
    """What went wrong, for the error page: the message our code gave the exception
    (`PermissionDenied("只有督导人员可以审核")`, `Http404("任务不存在或您无权查看")`).

    Only the exceptions code raises to refuse a person are read (anything else may carry
    internals), and only a Chinese message is shown: Django's own messages ("No Task matches
    the given query.", a resolver's dictionary, "Invalid HTTP_HOST header …") are English and
    may name internals, so the page then keeps to its general wording."""
    if not isinstance(exception, PEOPLE_FACING) or not exception.args:
        return ""
    if not isinstance(exception.args[0], str):
        return ""
    message = exception.args[0].strip()
    return message if _has_chinese(message) else ""


def _error_page(request: HttpRequest | None, status: int, reason: str = "") -> HttpResponse:
    """The Chinese error page in the site's layout (navigation included when the reader is
    signed in). Without a request (the 500 page) the layout renders without the navigation,
    so a broken database cannot break the error page too."""
    body = loader.get_template(f"{status}.html").render({"reason": reason}, request)
    return HttpResponse(body, status=status)


def bad_request(request, exception=None):
    """handler400."""
    return _api_error(request, 400, "bad_request", "请求有误，无法处理") or _error_page(
        request, 400, error_reason(exception)
    )


def permission_denied(request, exception=None):
    """handler403: the refusal's own reason when the code gave one."""
    return _api_error(
        request, 403, "permission_denied", MESSAGES["permission_denied"]
    ) or _error_page(request, 403, error_reason(exception))


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form sent from a stale page (or from elsewhere) is refused with
    the site's Chinese 403 page instead of Django's English one."""
    return _error_page(
        request, 403, "页面已过期或来源校验未通过，请返回上一页，刷新后重新提交。"
    )


def page_not_found(request, exception=None):
    """handler404: under /api/ a URL that matches no route answers in the one error shape."""
    return _api_error(request, 404, "not_found", MESSAGES["not_found"]) or _error_page(
        request, 404, error_reason(exception)
    )


def server_error(request):
    """handler500: no stack trace, and under /api/ the one error shape."""
    return _api_error(
        request, 500, "server_error", "服务器内部错误，请稍后再试或联系管理员"
    ) or _error_page(None, 500)
