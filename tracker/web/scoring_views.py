"""考评排名 (the unit ranking) and its 情况通报 (.docx): supervisors see the units of their
subtree, administrators all; officers are refused (tracker.access.may_view_scores)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tracker import access
from tracker.errors import DomainError
from tracker.figures import scoring
from tracker.models import AuditAction
from tracker.scoring_docx import circular_filename, scoring_docx_response
from tracker.services.audit import audit_origin, audit_record
from tracker.web.scoring_forms import PeriodForm

PAGE_SIZE = 50  # 300 units: six pages


def _board(request: HttpRequest):
    """(form, board or None, error): the period asked for, or the last month by default."""
    if not access.may_view_scores(request.user):
        raise PermissionDenied("只有督导人员和系统管理员可以查看考评排名")
    today = timezone.localdate()
    if "kind" not in request.GET:
        period = scoring.default_period(today=today)
        form = PeriodForm(initial=PeriodForm.initial_for(period))
        return form, scoring.unit_scores(user=request.user, period=period), ""
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return form, None, "期间填写有误：" + "；".join(
            str(e) for errors in form.errors.values() for e in errors)
    try:
        period = form.period(today=today)
    except DomainError as error:
        return form, None, error.message
    top = form.cleaned_data.get("top") or scoring.TOP_N_DEFAULT
    return form, scoring.unit_scores(user=request.user, period=period, top=top), ""


@login_required
@require_GET
def score_ranking(request: HttpRequest) -> HttpResponse:
    """考评排名."""
    form, board, error = _board(request)
    page = Paginator(board.rows if board else [], PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/scoring/ranking.html", {
        "title": "考评排名", "form": form, "board": board, "page": page, "error": error,
        "query": query.urlencode(),
    }, status=400 if error else 200)


@login_required
@require_GET
def score_circular(request: HttpRequest) -> HttpResponse:
    """情况通报 (.docx) of the period on the ranking page."""
    form, board, error = _board(request)
    if board is None:
        return render(request, "web/scoring/ranking.html", {
            "title": "考评排名", "form": form, "board": None, "error": error,
            "page": Paginator([], PAGE_SIZE).get_page(1), "query": "",
        }, status=400)
    office = request.user.unit.name if request.user.unit else "整改工作领导小组办公室"
    audit_record(actor=request.user, action=AuditAction.SCORE_EXPORT,
                 target_label=circular_filename(board), **audit_origin(request))
    return scoring_docx_response(board=board, office=office, today=timezone.localdate())
