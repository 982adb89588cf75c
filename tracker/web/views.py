"""Pages for officers and supervisors. Thin: parse a form, call a service, show the outcome.

Reads go through tracker.web.selectors (always scoped to the reader); writes go through
tracker.services; a refusal (DomainError) is shown with its Chinese message.
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_POST

from tracker import access
from tracker.deadlines import deadline_state, light_rule_text
from tracker.errors import DomainError
from tracker.models import DeadlineExtension, Effectiveness, ExtensionStatus, Task, Unit
from tracker.recheck_selectors import rechecks_on_task
from tracker.reminders.notifications import notification_mark_all_read, notification_mark_read
from tracker.selectors import (
    SUPPORTING_FOLD_MAX_OFFSET,
    inspection_choices_for_filter,
    problems_for_tasks,
    task_deadline_history,
    task_rows_page,
    unit_for_filter,
    unit_list_to_manage,
)
from tracker.services import auth as auth_services
from tracker.services import evidence as evidence_services
from tracker.services import extensions as extension_services
from tracker.services import priority as priority_services
from tracker.services import review as review_services
from tracker.services import saved_filters as saved_filter_services
from tracker.services import tasks as task_services
from tracker.services.audit import AuditAction, audit_origin, audit_record
from tracker.services.progress import task_report_progress_with_evidence
from tracker.web import selectors
from tracker.web.comment_views import thread_context
from tracker.web.forms import (
    AckBatchForm,
    CloseForm,
    EvidenceForm,
    ExtensionDecisionForm,
    ExtensionRequestForm,
    LoginForm,
    NoteForm,
    PasswordForm,
    PriorityForm,
    ProgressForm,
    ReviewBulkForm,
    SavedFilterForm,
    SendBackForm,
    TaskCreateForm,
    TaskEditForm,
    TaskFilterForm,
)
from tracker.web.pagination import CappedPaginator, asked_page
from tracker.web.security_views import otp_step_redirect
from tracker.web.task_rows import task_rows_html

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Evidence types a browser shows safely in place; anything else is downloaded.
INLINE_TYPES = {"application/pdf", "image/png", "image/jpeg", "text/plain"}


# --- Log in, log out, password -------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        # Right password, authenticator bound: the code is asked for on the next page.
        if form.otp_pending_user is not None:
            return otp_step_redirect(self.request, form.otp_pending_user,
                                     next_url=self.get_redirect_url())
        return super().form_invalid(form)

    def get_success_url(self):
        # A role that must have an authenticator (TOTP_REQUIRED_FOR_ROLES) binds one first.
        if auth_services.otp_enrolment_missing(self.request.user):
            messages.warning(self.request, "您的角色须绑定身份验证器，请先完成绑定")
            return reverse("web:otp_setup")
        return super().get_success_url()


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            audit_record(actor=request.user, action=AuditAction.LOGOUT, target=request.user,
                         **audit_origin(request))
        return super().post(request, *args, **kwargs)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "web/password_change.html"
    form_class = PasswordForm
    success_url = reverse_lazy("web:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "web/password_change_done.html"


# --- 我的任务 -------------------------------------------------------------------------------


@login_required
def task_create(request: HttpRequest) -> HttpResponse:
    """新建任务: a supervisor files a task under a problem they see, for units they manage
    (tracker.services.tasks.task_create decides; the form offers only what it would accept)."""
    user = request.user
    if not access.is_supervisor_or_admin(user):
        raise PermissionDenied("只有督导人员可以新建整改任务")
    form = TaskCreateForm(request.POST or None, problems=problems_for_tasks(user=user),
                          units=unit_list_to_manage(user=user))
    status, error = 200, ""
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                task = task_services.task_create(
                    actor=user, problem=data["problem"], title=data["title"],
                    measures=data["measures"], task_type=data["task_type"],
                    lead_unit=data["lead_unit"], supporting_units=data["supporting_units"],
                    responsible_leader=data["responsible_leader"],
                    responsible_person=data["responsible_person"], deadline=data["deadline"],
                    is_key=data["is_key"], priority=data["priority"],
                )
            except DomainError as refusal:
                form.add_domain_error(refusal)
                status, error = refusal.status_code, refusal.message
            else:
                messages.success(request, f"已新建整改任务“{task.title}”")
                return redirect("web:task_detail", pk=task.pk)
        else:
            status, error = 400, "填写的内容有误，请按提示修改后重新提交"
    return render(request, "web/task_create.html", {
        "title": "新建整改任务", "form": form, "error": error,
    }, status=status)


@login_required
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    form = TaskFilterForm(request.GET or None,
                          inspection_choices=inspection_choices_for_filter(user=user))
    filters = form.task_filters() if form.is_valid() else {}
    unit = unit_for_filter(
        user=user, pk=filters.get("lead_unit") or filters.get("unit")
    )
    number = request.GET.get("page")
    # The asked page's offset decides the fold; a shown page is never deeper than asked.
    rows, counted = selectors.task_page_lists(
        user=user, filters=filters,
        with_supporting=(asked_page(number) - 1) * PAGE_SIZE <= SUPPORTING_FOLD_MAX_OFFSET,
    )
    page = CappedPaginator(rows, PAGE_SIZE, number=number, counted_in=counted).get_page(number)
    tasks_shown = task_rows_page(page.object_list)
    # 批量签收: the rows of this page the reader may acknowledge (the form shows only if any).
    ackable = {
        row["id"] for row in tasks_shown.rows
        if row["awaiting_ack"] and access.may_acknowledge_for_unit(
            user, Unit(pk=row["lead_unit_id"], path=row["lead_unit__path"]))
    } if access.may_acknowledge_any(user) else set()
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/task_list.html", {
        "title": "任务列表" if access.is_supervisor_or_admin(user) else "我的任务",
        "may_create": access.is_supervisor_or_admin(user),
        "form": form,
        "page": page,
        "tasks": tasks_shown.rows,  # the page's row values (tracker.selectors.task_rows)
        "rows": SafeString("\n".join(task_rows_html(tasks_shown, today=today, ackable=ackable))),
        "unit": unit,
        "query": query.urlencode(),
        "today": today,
        "light_rule": light_rule_text(),
        "saved_filters": selectors.saved_filters_for(user=user),
        "ackable": ackable,
    })


@login_required
@require_POST
def task_acknowledge_batch(request: HttpRequest) -> HttpResponse:
    """批量签收: every ticked task through task_acknowledge (tracker.services.tasks
    .tasks_acknowledge_batch); the refused ones are named with their reason, the others are
    acknowledged. Back to the list as it was filtered."""
    form = AckBatchForm(request.POST)
    back = reverse("web:task_list")
    if form.is_valid():
        # Only a query string back to the list itself (re-encoded: nothing else rides along).
        query = QueryDict(form.cleaned_data["query"].lstrip("?")).urlencode()
        back = f"{back}?{query}" if query else back
        try:
            outcome = task_services.tasks_acknowledge_batch(
                actor=request.user, task_ids=form.cleaned_data["tasks"],
                versions=form.versions(),
            )
        except DomainError as error:
            if error.status_code == 403:
                raise PermissionDenied(error.message) from None
            messages.error(request, error.message)
            return redirect(back)
        if outcome.done:
            messages.success(request, f"已签收（{len(outcome.done)}项）：{_titles(outcome.done)}")
        for refusal in outcome.refused:
            messages.error(request, f"未能签收{refusal.which}：{refusal.reason}")
    else:
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
    return redirect(back)


@login_required
@require_POST
def saved_filter_save(request: HttpRequest) -> HttpResponse:
    """保存当前筛选: the task list's current query under a name, for the reader only."""
    form = SavedFilterForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
        return redirect("web:task_list")
    try:
        saved = saved_filter_services.saved_filter_save(
            user=request.user, name=form.cleaned_data["name"], query=form.cleaned_data["query"],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("web:task_list")
    messages.success(request, f"已保存常用筛选：{saved.name}")
    return redirect(f"{reverse('web:task_list')}?{saved.query}")


@login_required
@require_POST
def saved_filter_delete(request: HttpRequest, pk: int) -> HttpResponse:
    if not saved_filter_services.saved_filter_delete(user=request.user, pk=pk):
        raise Http404("常用筛选不存在")
    messages.success(request, "已删除常用筛选")
    return redirect("web:task_list")


# --- The task page and its forms -------------------------------------------------------------


def _visible_task(request: HttpRequest, pk: int) -> Task:
    task = selectors.task_detail(user=request.user, pk=pk)
    if task is None:
        raise Http404("任务不存在或您无权查看")
    return task


def _task_page(request: HttpRequest, task: Task, *, forms: dict | None = None,
               status: int = 200, error: str = "") -> HttpResponse:
    user = request.user
    version = {"version": task.version}
    # What the reader may do now: exactly the services' table (tracker.services.tasks.ACTIONS),
    # the same list the API's task detail gives as `allowed_actions`.
    allowed = task_services.allowed_actions(user, task)
    context_forms = {
        "acknowledge": NoteForm(initial=version, prefix="acknowledge"),
        "start": NoteForm(initial=version, prefix="start"),
        "progress": ProgressForm(initial=version),
        "evidence": EvidenceForm(initial=version, prefix="evidence"),
        "submit": NoteForm(initial=version, prefix="submit"),
        "extension": ExtensionRequestForm(),
        "close": CloseForm(initial=version, prefix="close",
                           needs_confirmation=review_services.close_needs_confirmation(task)),
        "send_back": SendBackForm(initial=version, prefix="send_back"),
        "mark_basically_completed": NoteForm(initial=version, prefix="mark_basically_completed"),
        "mark_long_term": NoteForm(initial=version, prefix="mark_long_term"),
        "reopen": NoteForm(initial=version, prefix="reopen"),
        "decision": ExtensionDecisionForm(),
        **(forms or {}),
    }
    if "set_priority" in allowed and "set_priority" not in context_forms:
        context_forms["set_priority"] = PriorityForm(task=task)
    if "edit" in allowed and "edit" not in context_forms:
        context_forms["edit"] = TaskEditForm(task=task, units=unit_list_to_manage(user=user))
    extensions = list(task.extensions.all())
    pending = [e for e in extensions if e.status == ExtensionStatus.PENDING]
    return render(request, "web/task_detail.html", {
        "task": task,
        "state": deadline_state(status=task.status, deadline=task.deadline,
                                today=timezone.localdate()),
        "deadlines": task_deadline_history(task=task),
        "extensions": extensions,
        "pending_extension": pending[0] if pending else None,
        "forms": context_forms,
        "error": error,
        "allowed": allowed,
        "can": dict.fromkeys(allowed, True),
        "thread": thread_context(user=user, task=task, form=context_forms.get("comment")),
        "rechecks": rechecks_on_task(task=task),
        "may_report_recheck": access.can_report_recheck(user, task),
        "may_decide_recheck": access.can_decide_recheck(user, task),
    }, status=status)


@login_required
@require_GET
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _task_page(request, _visible_task(request, pk))


def _after(request: HttpRequest, task: Task) -> HttpResponse:
    """Back where the form came from (the review queue) if it is ours, else the task page."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("web:task_detail", pk=task.pk)


def _handle(request: HttpRequest, task: Task, name: str, form, call: Callable,
            done: str) -> HttpResponse:
    """Validate `form`, run the service through `call(cleaned_data)`, report the outcome."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except DomainError as error:
            form.add_domain_error(error)
            return _task_page(request, task, forms={name: form}, status=error.status_code,
                              error=error.message)
        messages.success(request, done)
        return _after(request, task)
    return _task_page(request, task, forms={name: form}, status=400,
                      error="填写的内容有误，请按提示修改后重新提交")


@login_required
@require_POST
def task_progress(request: HttpRequest, pk: int) -> HttpResponse:
    task = _visible_task(request, pk)
    form = ProgressForm(request.POST, request.FILES)
    return _handle(request, task, "progress", form, lambda data: (
        task_report_progress_with_evidence(
            task=task, actor=request.user, note=data["note"], percent=data["percent"],
            files=data["files"], expected_version=data["version"],
        )
    ), "整改进展已填报")


def _note_transition(service, form_class, name: str, done: str):
    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        task = _visible_task(request, pk)
        form = form_class(request.POST, prefix=name)
        return _handle(request, task, name, form, lambda data: service(
            task=task, actor=request.user, note=data["note"],
            expected_version=data["version"],
        ), done)

    view.__name__ = f"task_{name}"
    return view


task_acknowledge = _note_transition(task_services.task_acknowledge, NoteForm, "acknowledge",
                                    "已签收")
task_start = _note_transition(task_services.task_start, NoteForm, "start", "已启动整改")
task_submit = _note_transition(task_services.task_submit, NoteForm, "submit",
                               "已提交销号申请，等待审核")
task_send_back = _note_transition(task_services.task_send_back, SendBackForm, "send_back",
                                  "已退回整改")


@login_required
@require_POST
def task_close(request: HttpRequest, pk: int) -> HttpResponse:
    """销号, from the task page or the review queue; without evidence only when confirmed."""
    task = _visible_task(request, pk)
    form = CloseForm(request.POST, prefix="close")
    return _handle(request, task, "close", form, lambda data: (
        review_services.task_close_reviewed(
            task=task, actor=request.user, note=data["note"],
            confirm_no_evidence=data["confirm_no_evidence"], expected_version=data["version"],
            effectiveness=data["effectiveness"], root_cause=data["root_cause"],
            recheck_on=form.recheck_choice(), verdict_required=True,
        )
    ), f"已销号：{task.title}")


task_mark_basically_completed = _note_transition(
    task_services.task_mark_basically_completed, NoteForm, "mark_basically_completed",
    "已认定为基本完成整改",
)
task_mark_long_term = _note_transition(task_services.task_mark_long_term, NoteForm,
                                       "mark_long_term", "已转为长期坚持")
task_reopen = _note_transition(task_services.task_reopen, NoteForm, "reopen", "已重新打开")


@login_required
@require_POST
def task_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    task = _visible_task(request, pk)
    form = EvidenceForm(request.POST, request.FILES, prefix="evidence")
    return _handle(request, task, "evidence", form, lambda data: (
        evidence_services.evidence_add_many(task=task, actor=request.user, files=data["files"])
    ), "佐证材料已上传")


@login_required
@require_POST
def task_set_priority(request: HttpRequest, pk: int) -> HttpResponse:
    """调整优先级: 重点任务 and the priority (tracker.services.priority decides who may)."""
    task = _visible_task(request, pk)
    form = PriorityForm(request.POST, task=task)
    return _handle(request, task, "set_priority", form, lambda data: (
        priority_services.task_set_priority(
            task=task, actor=request.user, is_key=data["is_key"], priority=data["priority"],
            note=data["note"], expected_version=data["version"],
        )
    ), "重点任务和优先级已保存")


@login_required
@require_POST
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    task = _visible_task(request, pk)
    form = TaskEditForm(request.POST, task=task,
                        units=unit_list_to_manage(user=request.user))

    def call(data):
        changes = {name: data[name] for name in task_services.EDITABLE_FIELDS}
        task_services.task_update(
            task=task, actor=request.user, expected_version=data["version"],
            supporting_units=data["supporting_units"], **changes,
        )

    return _handle(request, task, "edit", form, call, "任务已修改")


@login_required
@require_POST
def task_extension_request(request: HttpRequest, pk: int) -> HttpResponse:
    task = _visible_task(request, pk)
    form = ExtensionRequestForm(request.POST)
    return _handle(request, task, "extension", form, lambda data: (
        extension_services.extension_request(
            task=task, actor=request.user, requested_deadline=data["requested_deadline"],
            reason=data["reason"],
        )
    ), "延期申请已提交，等待审批")


def _extension_decision(service, done: str):
    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        extension = get_object_or_404(DeadlineExtension, pk=pk)
        task = _visible_task(request, extension.task_id)
        form = ExtensionDecisionForm(request.POST)
        return _handle(request, task, "decision", form, lambda data: service(
            extension=extension, actor=request.user, note=data["note"],
        ), done)

    return view


extension_approve = _extension_decision(extension_services.extension_approve,
                                        "已批准延期，完成时限已更新")
extension_reject = _extension_decision(extension_services.extension_reject, "已驳回延期申请")


# --- Evidence ------------------------------------------------------------------------------


@login_required
@require_GET
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """Stream a private evidence file to someone who may see its task; 404 for anyone else."""
    evidence = selectors.evidence_for_download(user=request.user, pk=pk)
    if evidence is None:
        raise Http404("文件不存在或您无权查看")
    audit_record(actor=request.user, action=AuditAction.EVIDENCE_DOWNLOAD, target=evidence,
                 note=str(evidence.task), **audit_origin(request))
    content_type = evidence_services.evidence_content_type(evidence)
    inline = request.GET.get("inline") == "1" and content_type.split(";")[0] in INLINE_TYPES
    response = FileResponse(
        evidence.file.open("rb"), as_attachment=not inline, filename=evidence.original_name,
        content_type=content_type,
    )
    response["Cache-Control"] = "private, no-store"
    if content_type != "application/pdf":
        # An image or text shown in place is only a document: nothing in it may run or load.
        # (Not on PDFs: such a policy keeps the browser's own PDF viewer from starting.)
        response["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
        )
    return response


# --- The review queue ------------------------------------------------------------------------


@login_required
@require_GET
def review(request: HttpRequest) -> HttpResponse:
    """审核: tasks submitted for 销号 and pending extension requests, in the reader's scope."""
    return _review_page(request)


def _review_page(request: HttpRequest, *, bulk_form: ReviewBulkForm | None = None,
                 status: int = 200) -> HttpResponse:
    if not access.is_supervisor_or_admin(request.user):
        raise PermissionDenied("只有督导人员可以审核")
    submitted = list(selectors.review_submitted(user=request.user))
    # A refused bulk form comes back with the same tasks ticked.
    selected = set(bulk_form.cleaned_data.get("tasks", [])) if bulk_form is not None else set()
    rows = [(task, review_services.close_needs_confirmation(task)) for task in submitted]
    return render(request, "web/review.html", {
        "title": "审核",
        "submitted": submitted,
        "rows": rows,
        "selected": selected,
        "extensions": selectors.review_extensions(user=request.user),
        "bulk_form": bulk_form or ReviewBulkForm(),
        "no_evidence_confirmation": review_services.NO_EVIDENCE_CONFIRMATION,
        "effectiveness_choices": Effectiveness.choices,
        "default_recheck_on": task_services.default_recheck_on(timezone.localdate()),
    }, status=status)


def _titles(tasks) -> str:
    return "、".join(f"“{task.title}”" for task in tasks)


@login_required
@require_POST
def review_bulk(request: HttpRequest) -> HttpResponse:
    """批量销号 / 批量退回: every ticked task through the same service as a single one; the
    refused ones are named with their reason, the others are done (tracker.services.review)."""
    if not access.is_supervisor_or_admin(request.user):
        raise PermissionDenied("只有督导人员可以审核")
    form = ReviewBulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
        return _review_page(request, bulk_form=form, status=400)
    data = form.cleaned_data
    action = data["action"]
    try:
        outcome = review_services.review_bulk(
            actor=request.user, action=action, task_ids=data["tasks"],
            versions=form.versions(), note=data["note"],
            confirm_no_evidence=data["confirm_no_evidence"],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _review_page(request, bulk_form=form, status=error.status_code)
    verb = "已销号" if action == "close" else "已退回整改"
    if outcome.done:
        messages.success(request, f"{verb}（{len(outcome.done)}项）：{_titles(outcome.done)}")
    for which, reason in outcome.refused:
        messages.error(request, f"未能处理{which}：{reason}")
    return redirect("web:review")


# --- The notification inbox ------------------------------------------------------------------


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """消息: the reader's own reminders and dispatch notices, newest first."""
    page = Paginator(selectors.notifications_for(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "web/inbox.html", {"title": "消息", "page": page})


@login_required
@require_POST
def inbox_mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    if not notification_mark_read(user=request.user, notification_id=pk):
        raise Http404("消息不存在")
    return redirect("web:inbox")


@login_required
@require_POST
def inbox_mark_all_read(request: HttpRequest) -> HttpResponse:
    count = notification_mark_all_read(user=request.user)
    messages.success(request, f"已将{count}条消息标为已读")
    return redirect("web:inbox")
