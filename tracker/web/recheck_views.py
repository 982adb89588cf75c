"""回头看 pages: the list (supervisors: their scope's re-checks due, awaiting confirmation,
failed; officers: their unit's), and the forms of a re-check (the unit's report, the
supervisor's confirmation or failure), which come from the task page or the list.

Thin: reads tracker.recheck_selectors (scoped to the reader), writes
tracker.services.rechecks; a refusal is shown in Chinese and nothing typed is lost.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from tracker import access, recheck_selectors
from tracker.errors import DomainError
from tracker.models import RecheckState
from tracker.services import rechecks as recheck_services
from tracker.web import views
from tracker.web.forms import BootstrapMixin, MultipleFileField
from tracker.web.pagination import CappedPaginator

PAGE_SIZE = 30
R = RecheckState
# The list's tabs: (key, label, states).
TABS = [
    ("due", "待单位报告", [R.DUE]),
    ("reported", "待督导确认", [R.REPORTED]),
    ("failed", "未通过", [R.FAILED]),
    ("scheduled", "待回头看", [R.SCHEDULED]),
    ("confirmed", "已确认", [R.CONFIRMED]),
]


class RecheckReportForm(BootstrapMixin, forms.Form):
    recurred = forms.TypedChoiceField(
        label="问题是否反弹", choices=[("", "请选择"), ("no", "未反弹"), ("yes", "已反弹")],
        coerce=lambda value: value == "yes", empty_value=None,
        error_messages={"required": "请选择问题是否反弹"},
    )
    note = forms.CharField(label="回头看情况说明", max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    # Checked (size, type, content) by the service, which names a refused file.
    files = MultipleFileField(label="佐证材料", required=False)


class RecheckDecisionForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label="督导意见", required=False, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 2}))


def _recheck(request: HttpRequest, pk: int):
    recheck = recheck_selectors.recheck_list(user=request.user).filter(pk=pk).first()
    if recheck is None:
        raise Http404("回头看不存在或您无权查看")
    return recheck


def _back(request: HttpRequest, recheck) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("web:task_detail", pk=recheck.task_id)


def _run(request: HttpRequest, recheck, form, call, done: str) -> HttpResponse:
    """Validate, call the service; a refusal shows the task page with the reason in Chinese
    (400, 403, 409), the re-check as it stands."""
    if not form.is_valid():
        message = "；".join(e for errors in form.errors.values() for e in errors)
        return _refused(request, recheck, 400, message)
    try:
        call(form.cleaned_data)
    except DomainError as error:
        return _refused(request, recheck, error.status_code, error.message)
    messages.success(request, done)
    return _back(request, recheck)


def _refused(request: HttpRequest, recheck, status: int, message: str) -> HttpResponse:
    task = views._visible_task(request, recheck.task_id)
    return views._task_page(request, task, status=status, error=message)


@login_required
@require_GET
def recheck_list(request: HttpRequest) -> HttpResponse:
    """回头看: the reader's re-checks by tab."""
    tab = request.GET.get("tab") or "due"
    states = next((states for key, _, states in TABS if key == tab), None)
    if states is None:
        tab, states = "due", [R.DUE]
    rechecks = recheck_selectors.recheck_list(
        user=request.user, filters={"state": [s.value for s in states]}
    )
    page = CappedPaginator(rechecks, PAGE_SIZE, number=request.GET.get("page")).get_page(
        request.GET.get("page")
    )
    user = request.user
    rows = [
        (recheck, access.can_report_recheck(user, recheck.task),
         access.can_decide_recheck(user, recheck.task))
        for recheck in page.object_list
    ] if tab in ("due", "reported", "scheduled") else [
        (recheck, False, False) for recheck in page.object_list
    ]
    return render(request, "web/rechecks/list.html", {
        "title": "回头看", "tabs": TABS, "tab": tab, "page": page, "rows": rows,
        "report_form": RecheckReportForm(), "decision_form": RecheckDecisionForm(),
    })


@login_required
@require_POST
def recheck_report(request: HttpRequest, pk: int) -> HttpResponse:
    recheck = _recheck(request, pk)
    form = RecheckReportForm(request.POST, request.FILES)
    return _run(request, recheck, form, lambda data: recheck_services.recheck_report(
        actor=request.user, recheck=recheck, recurred=data["recurred"], note=data["note"],
        files=data["files"],
    ), "已报告回头看情况，等待督导人员确认")


@login_required
@require_POST
def recheck_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    recheck = _recheck(request, pk)
    form = RecheckDecisionForm(request.POST)
    return _run(request, recheck, form, lambda data: recheck_services.recheck_confirm(
        actor=request.user, recheck=recheck, note=data["note"],
    ), "已确认回头看")


@login_required
@require_POST
def recheck_fail(request: HttpRequest, pk: int) -> HttpResponse:
    recheck = _recheck(request, pk)
    form = RecheckDecisionForm(request.POST)
    return _run(request, recheck, form, lambda data: recheck_services.recheck_fail(
        actor=request.user, recheck=recheck, note=data["note"],
    ), "回头看未通过，任务已重新打开")
