"""The site shell's views: health, the home page, and the error pages of every face.

Under /api/ an error answers in the API's one error shape (config/api/exceptions.py); elsewhere
it is a Chinese page in the site's layout (config/templates/4xx.html, 500.html).
"""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views import defaults
from django.views.decorators.http import require_GET

from config.api.exceptions import MESSAGES, error_body
from tracker import access


@require_GET
def health(request):
    """Liveness for the intranet's load balancer: the app answers and the database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


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


def bad_request(request, exception=None):
    """handler400."""
    return _api_error(request, 400, "bad_request", "请求有误，无法处理") or defaults.bad_request(
        request, exception
    )


def permission_denied(request, exception=None):
    """handler403."""
    return _api_error(
        request, 403, "permission_denied", MESSAGES["permission_denied"]
    ) or defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    """handler404: under /api/ a URL that matches no route answers in the one error shape."""
    return _api_error(request, 404, "not_found", MESSAGES["not_found"]) or (
        defaults.page_not_found(request, exception)
    )


def server_error(request):
    """handler500: no stack trace, and under /api/ the one error shape."""
    return _api_error(
        request, 500, "server_error", "服务器内部错误，请稍后再试或联系管理员"
    ) or defaults.server_error(request)
