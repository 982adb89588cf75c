"""督办单 pages: the register, a notice with its reply forms, the issue form, the .docx.

Thin: the reads are tracker.notice_selectors (scoped to the reader: an officer sees only their
unit's part of a notice), the writes tracker.services.notices; a refusal is shown in Chinese.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tracker import access, notice_selectors
from tracker.deadlines import (
    LIGHT_LABELS,
    deadline_state,
    default_reply_by,
    suggest_notice_colour,
    task_light,
)
from tracker.errors import DomainError
from tracker.filters import ID_MAX
from tracker.models import Unit
from tracker.notice_docx import notice_docx_response
from tracker.selectors import inspection_choices_for_filter
from tracker.services import notices as notice_services
from tracker.web.forms import TaskFilterForm
from tracker.web.notice_forms import NoticeFilterForm, NoticeIssueForm, NoticeReplyForm

PAGE_SIZE = 30


def _notice(request: HttpRequest, pk: int):
    notice = notice_selectors.notice_list(user=request.user, today=timezone.localdate()).filter(
        pk=pk
    ).first()
    if notice is None:
        raise Http404("督办单不存在或您无权查看")
    return notice


@login_required
@require_GET
def notice_register(request: HttpRequest) -> HttpResponse:
    """督办单登记簿."""
    user = request.user
    form = NoticeFilterForm(request.GET or None,
                            units=Unit.objects.filter(access.reachable_units_q(user)))
    filters = form.notice_filters() if form.is_valid() else {}
    notices = notice_selectors.notice_list(user=user, today=timezone.localdate(),
                                           filters=filters)
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/notices/register.html", {
        "title": "督办单登记簿", "form": form, "page": page, "query": query.urlencode(),
        "may_issue": access.may_issue_notices(user),
    })


def _notice_page(request, notice, *, forms=None, status=200, error=""):
    user = request.user
    today = timezone.localdate()
    rows = []
    for item in notice.seen_items:
        may_reply = item.replied_at is None and access.can_reply_notice(user, item.task)
        form = (forms or {}).get(item.task_id) or (NoticeReplyForm(prefix=f"t{item.task_id}")
                                                   if may_reply else None)
        rows.append({"item": item, "form": form,
                     "state": deadline_state(status=item.task.status,
                                             deadline=item.task.deadline, today=today)})
    return render(request, "web/notices/detail.html", {
        "title": notice.number, "notice": notice, "rows": rows, "error": error,
    }, status=status)


@login_required
@require_GET
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _notice_page(request, _notice(request, pk))


@login_required
@require_POST
def notice_reply(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    item = next((i for i in notice.seen_items if i.task_id == task_pk), None)
    if item is None:
        raise Http404("该督办单中没有这项任务")
    if not access.can_reply_notice(request.user, item.task):
        raise PermissionDenied("只有牵头单位可以回复该督办事项")
    form = NoticeReplyForm(request.POST, prefix=f"t{task_pk}")
    if not form.is_valid():
        return _notice_page(request, notice, forms={task_pk: form}, status=400,
                            error="填写的内容有误，请按提示修改后重新提交")
    try:
        notice_services.notice_reply(actor=request.user, item=item,
                                     reply=form.cleaned_data["reply"])
    except DomainError as refusal:
        form.add_domain_error(refusal)
        return _notice_page(request, notice, forms={task_pk: form},
                            status=refusal.status_code, error=refusal.message)
    messages.success(request, f"已回复{notice.number}")
    return redirect("web:notice_detail", pk=notice.pk)


@login_required
@require_http_methods(["GET", "POST"])
def notice_issue(request: HttpRequest) -> HttpResponse:
    """下发督办单: the candidate tasks are the task list's filters over the tasks the reader
    supervises; `?task=` ids come ticked (from the task page or the list)."""
    user = request.user
    if not access.may_issue_notices(user):
        raise PermissionDenied("只有督导人员可以下发督办单")
    today = timezone.localdate()
    task_filter = TaskFilterForm(request.GET or None,
                                 inspection_choices=inspection_choices_for_filter(user=user))
    filters = task_filter.task_filters() if task_filter.is_valid() else {}
    candidates = list(
        notice_selectors.notice_candidates(user=user, filters=filters)[
            : notice_selectors.CANDIDATES_SHOWN]
    )
    ticked = {int(v) for v in request.GET.getlist("task") if v.isdigit() and int(v) <= ID_MAX}
    shown = {task.pk for task in candidates}
    # A task asked for by id but outside the filters is still offered.
    missing = ticked - shown
    if missing:
        candidates += list(notice_selectors.notice_candidates(user=user).filter(pk__in=missing))
    lights = {task.pk: task_light(task.status, task.deadline, today) for task in candidates}
    initial = {
        "tasks": sorted(ticked & set(lights)),
        "colour": suggest_notice_colour(lights[pk] for pk in ticked if pk in lights),
        "reply_by": default_reply_by(today),
    }
    form = NoticeIssueForm(request.POST or None, tasks=candidates, initial=initial)
    status, error = 200, ""
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                notice = notice_services.notice_issue(
                    actor=user, task_ids=data["tasks"], colour=data["colour"],
                    reason=data["reason"], requirements=data["requirements"],
                    reply_by=data["reply_by"],
                )
            except DomainError as refusal:
                form.add_domain_error(refusal)
                status, error = refusal.status_code, refusal.message
            else:
                messages.success(request, f"已下发{notice.number}")
                return redirect("web:notice_detail", pk=notice.pk)
        else:
            status, error = 400, "填写的内容有误，请按提示修改后重新提交"
    rows = [{"task": task, "light": lights[task.pk], "light_label": LIGHT_LABELS[lights[task.pk]]}
            for task in candidates]
    return render(request, "web/notices/issue.html", {
        "title": "下发督办单", "form": form, "rows": rows, "error": error,
        "ticked": {str(pk) for pk in (form["tasks"].value() or [])},
    }, status=status)


@login_required
@require_GET
def notice_docx(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    return notice_docx_response(notice=notice, items=notice.seen_items)
