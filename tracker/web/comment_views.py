"""The thread on the task page (issue 15): post a comment or 领导批示, follow a task.

Thin: the forms parse, tracker.services.comments decides and writes, tracker.comment_selectors
reads. The task page (tracker.web.views._task_page) takes its thread section from
`thread_context`, rendered by web/_task_thread.html.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from tracker import access
from tracker.comment_selectors import is_watching, task_comments, visible_task
from tracker.errors import DomainError
from tracker.models import CommentKind, Task, User
from tracker.models.comments import BODY_MAX
from tracker.services.comments import comment_post, watcher_add, watcher_remove
from tracker.web.forms import BootstrapMixin


class CommentForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(
        label="类型", choices=CommentKind.choices, initial=CommentKind.COMMENT, required=False,
        error_messages={"invalid_choice": "请选择“评论”或“领导批示”"},
    )
    body = forms.CharField(
        label="内容", max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="可用“@用户名”“@姓名”“@单位名称”提及能查看此任务的人员或单位，对方会收到通知",
        error_messages={"required": "请填写评论内容",
                        "max_length": f"评论内容不能超过{BODY_MAX}字"},
    )

    def clean_kind(self) -> str:
        return self.cleaned_data["kind"] or CommentKind.COMMENT

    def __init__(self, *args, may_instruct: bool = False, **kwargs):
        super().__init__(*args, prefix="comment", **kwargs)
        if not may_instruct:
            # The kind is offered only to those the rule book lets enter a 批示.
            self.fields["kind"].widget = forms.HiddenInput()


def thread_context(*, user: User, task: Task, form: CommentForm | None = None) -> dict:
    """What web/_task_thread.html shows: the thread, the form, and the watch button."""
    may_instruct = access.may_instruct(user, task)
    return {
        "comments": list(task_comments(task=task)),
        "form": form or CommentForm(may_instruct=may_instruct),
        "may_instruct": may_instruct,
        "watching": is_watching(user=user, task=task),
    }


def _task(request: HttpRequest, pk: int) -> Task:
    task = visible_task(user=request.user, pk=pk)
    if task is None:
        raise Http404("任务不存在或您无权查看")
    return task


def _back(task: Task) -> HttpResponse:
    return redirect(reverse("web:task_detail", args=[task.pk]) + "#thread")


@login_required
@require_POST
def task_comment(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    form = CommentForm(request.POST, may_instruct=access.may_instruct(request.user, task))
    if not form.is_valid():
        return _task_page_with(request, pk, form, 400, "填写的内容有误，请按提示修改后重新提交")
    try:
        comment = comment_post(task=task, author=request.user, body=form.cleaned_data["body"],
                               kind=form.cleaned_data["kind"])
    except DomainError as error:
        form.add_domain_error(error)
        return _task_page_with(request, pk, form, error.status_code, error.message)
    messages.success(request, f"{comment.get_kind_display()}已发表")
    return _back(task)


def _task_page_with(request: HttpRequest, pk: int, form: CommentForm | None, status: int,
                    error: str) -> HttpResponse:
    # The task page is tracker.web.views' (imported here, not at the top: it imports us).
    from tracker.web import views

    return views._task_page(request, views._visible_task(request, pk),
                            forms={"comment": form} if form else {}, status=status,
                            error=error)


@login_required
@require_POST
def task_watch(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    try:
        watcher_add(task=task, user=request.user)
    except DomainError as error:
        return _task_page_with(request, pk, None, error.status_code, error.message)
    messages.success(request, "已关注该任务，将收到其新评论、批示和状态变化的通知")
    return _back(task)


@login_required
@require_POST
def task_unwatch(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    watcher_remove(task=task, user=request.user)
    messages.success(request, "已取消关注该任务")
    return _back(task)
