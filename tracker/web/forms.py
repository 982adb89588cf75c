"""Forms of the pages. They only parse input; the services decide and write."""

import threading

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from config.routes import routing
from config.widgets import ListedModelChoiceField, PlainSelect
from tracker.errors import DomainError, InvalidCredentials, LoginLocked
from tracker.filters import ACK_CHOICES
from tracker.models import (
    Effectiveness,
    Inspection,
    Problem,
    Task,
    TaskPriority,
    TaskStatus,
    TaskType,
    Unit,
)
from tracker.services import auth as auth_services
from tracker.services import users as user_services
from tracker.services.review import BULK_ACTIONS, NO_EVIDENCE_CONFIRMATION
from tracker.services.tasks import ACK_BATCH_MAX, DEFAULT_RECHECK, default_recheck_on

OVERDUE = "overdue"  # the status filter's extra choice: derived, never stored


class BootstrapMixin:
    """Bootstrap's classes on every widget, so templates can render fields as they are."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs.setdefault("class", css)

    def add_domain_error(self, error: DomainError) -> None:
        """A service's field hints on the fields (its message is shown on top of the page)."""
        for name, hint in error.fields.items():
            if name in self.fields and hint != error.message:
                self.add_error(name, hint)


class LockoutLoginMixin(forms.Form):
    """Authenticate through the lockout service, as the API's login does: repeated failures
    lock the account at that address (and the address itself) for a while.

    An account with a bound authenticator then gives its current code: on a second page
    (tracker.web.security_views.login_otp) — the form leaves `otp_pending_user` set and the
    login views send the browser there — or, for clients that know it already, in the hidden
    `otp` field of the same POST (tracker.services.auth.otp_check)."""

    otp = forms.CharField(required=False, max_length=6, widget=forms.HiddenInput)

    require_otp_enrolment = False
    otp_pending_user = None

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                user = auth_services.login_authenticate(
                    request=self.request, username=username, password=password,
                    address=auth_services.client_address(self.request),
                )
                auth_services.otp_check(user=user, code=self.cleaned_data.get("otp", ""),
                                        require_enrolment=self.require_otp_enrolment)
            except LoginLocked as locked:
                raise ValidationError(locked.message, code="locked") from locked
            except InvalidCredentials as invalid:
                if invalid.message != InvalidCredentials.default_message:  # the last warning
                    raise ValidationError(invalid.message, code="invalid_login") from invalid
                raise self.get_invalid_login_error() from invalid
            except auth_services.OtpRequired as pending:
                if isinstance(pending, auth_services.OtpEnrolmentRequired):
                    raise ValidationError(pending.message, code="otp") from pending
                self.otp_pending_user = user  # the password was right: the code comes next
                raise ValidationError(pending.message, code="otp_pending") from pending
            except DomainError as otp_refused:
                raise ValidationError(otp_refused.message, code="otp") from otp_refused
            self.user_cache = user
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class LoginForm(BootstrapMixin, LockoutLoginMixin, AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码错误，请重新输入。",
        "inactive": "该账号已停用，请联系系统管理员。",
    }


class AdminLoginForm(LockoutLoginMixin, AdminAuthenticationForm):
    """The admin's login, under the same lockout; a role that must have an authenticator
    (TOTP_REQUIRED_FOR_ROLES) binds it on the pages first."""

    require_otp_enrolment = True


class PasswordForm(BootstrapMixin, PasswordChangeForm):
    def save(self, commit=True):
        # The one place a password changes: it also revokes the user's API tokens.
        return user_services.user_set_password(
            user=self.user, password=self.cleaned_data["new_password1"], actor=self.user
        )


class VersionedForm(BootstrapMixin, forms.Form):
    """Carries the task version the person was looking at: a stale form is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        # An empty file is refused by the evidence service, which names it ("文件为空：…").
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class ProgressForm(VersionedForm):
    note = forms.CharField(
        label="整改进展", widget=forms.Textarea(attrs={"rows": 4}),
        help_text="写明本阶段采取的措施、取得的成效和下一步安排。",
    )
    percent = forms.IntegerField(
        label="完成进度（%）", required=False, min_value=0, max_value=100
    )
    files = MultipleFileField(
        label="佐证材料", required=False,
        help_text="可一次选择多个文件：PDF、Word、Excel、图片、OFD 等，单个文件不超过 20MB。",
    )


class NoteForm(VersionedForm):
    """Submit for closure, close (销号): an optional note."""

    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(NoteForm):
    """销号. A task without evidence is closed only with the box ticked
    (tracker.services.review.task_close_reviewed decides; the box is offered only where it
    matters)."""

    # Required, but asked by the service after who may close (task_close_reviewed's
    # `verdict_required`), so someone who may not close hears that first.
    effectiveness = forms.ChoiceField(
        label="整改成效", choices=[("", "请选择"), *Effectiveness.choices], required=False,
        widget=forms.Select(attrs={"required": True}),
    )
    root_cause = forms.CharField(label="原因分析", required=False,
                                 widget=forms.Textarea(attrs={"rows": 2}))
    recheck_on = forms.DateField(
        label="回头看日期", required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="默认销号后6个月；不安排回头看请勾选下一项",
    )
    no_recheck = forms.BooleanField(label="不安排回头看", required=False)
    confirm_no_evidence = forms.BooleanField(label=NO_EVIDENCE_CONFIRMATION, required=False)

    def __init__(self, *args, needs_confirmation: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirm_no_evidence"].widget.attrs["class"] = "form-check-input"
        self.fields["no_recheck"].widget.attrs["class"] = "form-check-input"
        if not self.is_bound:
            self.initial.setdefault("recheck_on", default_recheck_on(timezone.localdate()))
        if not needs_confirmation:
            del self.fields["confirm_no_evidence"]

    def recheck_choice(self):
        """What the close service takes as `recheck_on`: none, the date given, or the
        default when the date was left empty."""
        if self.cleaned_data.get("no_recheck"):
            return None
        return self.cleaned_data.get("recheck_on") or DEFAULT_RECHECK


class SendBackForm(VersionedForm):
    note = forms.CharField(label="退回理由", widget=forms.Textarea(attrs={"rows": 2}))


class EvidenceForm(VersionedForm):
    files = MultipleFileField(
        label="佐证材料",
        help_text="可一次选择多个文件：PDF、Word、Excel、图片、OFD 等，单个文件不超过 20MB。",
    )


class TaskPlanForm(BootstrapMixin, forms.Form):
    """A task's plan: name, measures, type, lead and supporting units, leaders, deadline. The
    units offered are those the person manages (tracker.selectors.unit_list_to_manage)."""

    title = forms.CharField(label="任务名称", max_length=300)
    measures = forms.CharField(label="整改措施", required=False,
                               widget=forms.Textarea(attrs={"rows": 3}))
    task_type = forms.ChoiceField(label="整改类型", choices=TaskType.choices)
    lead_unit = forms.ModelChoiceField(
        label="牵头单位", queryset=Unit.objects.none(),
        error_messages={"invalid_choice": "该单位不在您的管理范围内"},
    )
    supporting_units = forms.ModelMultipleChoiceField(
        label="配合单位", queryset=Unit.objects.none(), required=False,
        error_messages={"invalid_choice": "单位“%(value)s”不在您的管理范围内"},
    )
    responsible_leader = forms.CharField(label="责任领导", max_length=50, required=False)
    responsible_person = forms.CharField(label="责任人", max_length=50, required=False)
    deadline = forms.DateField(
        label="完成时限", required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def offer_units(self, units, supporting=None) -> None:
        self.fields["lead_unit"].queryset = units
        self.fields["supporting_units"].queryset = supporting if supporting is not None else units


class TaskCreateForm(TaskPlanForm):
    """新建任务: under a problem the person sees, for units they manage."""

    problem = forms.ModelChoiceField(
        label="所属反馈问题", queryset=Problem.objects.none(),
        error_messages={"invalid_choice": "该反馈问题不存在或不在您的查看范围内"},
    )
    is_key = forms.BooleanField(label="重点任务", required=False)
    # Not given (a form of an older page, a script): 一般.
    priority = forms.TypedChoiceField(label="优先级", choices=TaskPriority.choices, coerce=int,
                                      required=False, empty_value=TaskPriority.NORMAL)
    field_order = ["problem"]

    def __init__(self, *args, problems, units, **kwargs):
        kwargs.setdefault("initial", {"task_type": TaskType.BY_DEADLINE,
                                      "priority": TaskPriority.NORMAL})
        super().__init__(*args, **kwargs)
        self.fields["problem"].queryset = problems
        self.fields["problem"].label_from_instance = (
            lambda p: f"{p.inspection.team or p.inspection.title} · {p.number}. "
                      f"{p.text[:40]}{'…' if len(p.text) > 40 else ''}"
        )
        self.offer_units(units)


class TaskEditForm(VersionedForm, TaskPlanForm):
    """修改任务: the plan's fields; lead and supporting units offered are those the editor
    manages (plus the supporting units the task already has, which stay)."""

    def __init__(self, *args, task: Task, units, **kwargs):
        kwargs.setdefault("prefix", "edit")
        kwargs.setdefault("initial", {
            "version": task.version, "title": task.title, "measures": task.measures,
            "task_type": task.task_type, "lead_unit": task.lead_unit_id,
            "supporting_units": [u.pk for u in task.supporting_units.all()],
            "responsible_leader": task.responsible_leader,
            "responsible_person": task.responsible_person, "deadline": task.deadline,
        })
        super().__init__(*args, **kwargs)
        current = Unit.objects.filter(supported_tasks=task)
        self.offer_units(units, (units | current).distinct().order_by("path"))


class PriorityForm(VersionedForm):
    """调整优先级: 重点任务 and the priority (tracker.services.priority.task_set_priority)."""

    is_key = forms.BooleanField(label="重点任务", required=False)
    priority = forms.TypedChoiceField(label="优先级", choices=TaskPriority.choices, coerce=int)
    note = forms.CharField(label="说明", required=False, max_length=500,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, task: Task, **kwargs):
        kwargs.setdefault("prefix", "priority")
        kwargs.setdefault("initial", {"version": task.version, "is_key": task.is_key,
                                      "priority": task.priority})
        super().__init__(*args, **kwargs)


class ExtensionRequestForm(BootstrapMixin, forms.Form):
    requested_deadline = forms.DateField(
        label="申请延至", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reason = forms.CharField(label="延期理由", widget=forms.Textarea(attrs={"rows": 3}))


class ExtensionDecisionForm(BootstrapMixin, forms.Form):
    note = forms.CharField(
        label="审批意见", required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="驳回时须填写理由。",
    )


FILTER_BAR_TEMPLATE = "web/_task_filter_form.html"
FILTER_BARS_KEPT = 256  # (options, values) pairs: a few per scope and common filter
_filter_bars: dict[tuple, SafeString] = {}  # oldest first
_filter_bars_lock = threading.Lock()


class TaskFilterForm(BootstrapMixin, forms.Form):
    inspection = ListedModelChoiceField(
        label="巡视巡察", queryset=Inspection.objects.none(), required=False,
        empty_label="全部巡视巡察", widget=PlainSelect, label_field="title",
    )
    status = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[("", "全部状态"), (OVERDUE, "已逾期"), *TaskStatus.choices],
        widget=PlainSelect,
    )
    is_key = forms.ChoiceField(
        label="重点任务", required=False,
        choices=[("", "全部任务"), ("true", "仅重点任务"), ("false", "非重点任务")],
        widget=PlainSelect,
    )
    priority = forms.TypedChoiceField(
        label="优先级", required=False, coerce=int, empty_value=None,
        choices=[("", "全部优先级"), *TaskPriority.choices], widget=PlainSelect,
    )
    ack = forms.ChoiceField(
        label="签收状态", required=False, choices=[("", "全部"), *ACK_CHOICES],
        widget=PlainSelect,
    )
    q = forms.CharField(
        label="搜索", required=False, max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "任务名称、单位、问题", "type": "search"}),
    )
    # Drill-down: `unit` is a lead or supporting unit in the subtree, `lead_unit` a lead unit
    # in the subtree (the dashboard counts by lead unit), as in the API.
    unit = forms.IntegerField(required=False, widget=forms.HiddenInput)
    lead_unit = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, inspections=None, inspection_choices=None, **kwargs):
        """The inspections that may be chosen: `inspection_choices`, (pk, title) pairs
        (tracker.selectors.inspection_choices_for_filter), or else the queryset
        `inspections` (its options read when the form is shown)."""
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["inspection"].offer(queryset=inspections, rows=inspection_choices)

    def filter_bar(self) -> SafeString:
        """The form as 我的任务 shows it (web/_task_filter_form.html). Its markup depends only
        on the inspections offered, the values shown and where the site is routed, so a form
        without errors is rendered once per process for the same ones (FILTER_BARS_KEPT):
        the filter is on every view of the list and rendering its fields cost about as much
        as the list's query (docs/performance.md)."""
        rows = self.fields["inspection"].rows
        if rows is None or (self.is_bound and self.errors):
            return render_to_string(FILTER_BAR_TEMPLATE, {"form": self})
        key = (tuple(map(tuple, rows)), tuple(repr(field.value()) for field in self),
               *routing())
        html = _filter_bars.get(key)
        if html is None:
            html = render_to_string(FILTER_BAR_TEMPLATE, {"form": self})
            with _filter_bars_lock:
                _filter_bars[key] = html
                while len(_filter_bars) > FILTER_BARS_KEPT:
                    del _filter_bars[next(iter(_filter_bars))]
        return html

    def task_filters(self) -> dict:
        """The cleaned choices as tracker.filters.TaskFilter's query (the API's names)."""
        data = self.cleaned_data
        filters = {}
        if data.get("inspection"):
            filters["inspection"] = data["inspection"].pk
        if data.get("status") == OVERDUE:
            filters["overdue"] = True
        elif data.get("status"):
            filters["status"] = [data["status"]]
        if data.get("is_key"):
            filters["is_key"] = data["is_key"]
        if data.get("priority") is not None:
            filters["priority"] = [str(data["priority"])]
        if data.get("ack"):
            filters["ack"] = data["ack"]
        if data.get("q", "").strip():
            filters["q"] = data["q"].strip()
        for name in ("unit", "lead_unit"):
            if data.get(name):
                filters[name] = data[name]
        return filters


class LedgerImportForm(BootstrapMixin, forms.Form):
    """整改台账导入: the inspection the rows belong to (one the reader sees) and the file."""

    inspection = forms.ModelChoiceField(
        label="导入到巡视巡察", queryset=Inspection.objects.none(),
        empty_label="请选择巡视巡察",
        error_messages={"invalid_choice": "该巡视巡察不存在或不在您的查看范围内"},
    )
    file = forms.FileField(
        label="整改台账文件（.xlsx）",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
        help_text="常用列：序号、反馈问题、整改措施、责任单位、责任领导、完成时限、整改进展、"
                  "完成情况。任何一行有误则整份文件不导入。",
    )

    def __init__(self, *args, inspections, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["inspection"].queryset = inspections


class IdListField(forms.Field):
    """Ticked task ids (`<input type=checkbox name=tasks value=id>`), as whole numbers."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        try:
            return list(dict.fromkeys(int(item) for item in value))
        except (TypeError, ValueError) as error:
            raise ValidationError("所选任务有误，请刷新页面后重新勾选") from error


class TickedTasksMixin:
    """A form over the tasks ticked on a list page (`tasks`): at most MAX_TASKS of them, each
    with the version the page showed it at (`v<id>`)."""

    MAX_TASKS: int
    TOO_MANY: str  # the refusal, with {n} for MAX_TASKS

    def clean_tasks(self):
        tasks = self.cleaned_data["tasks"]
        if len(tasks) > self.MAX_TASKS:
            raise ValidationError(self.TOO_MANY.format(n=self.MAX_TASKS))
        return tasks

    def versions(self) -> dict[int, int | None]:
        """The version each ticked task had on the page (None when the page sent none)."""
        found = {}
        for pk in self.cleaned_data["tasks"]:
            raw = self.data.get(f"v{pk}", "")
            found[pk] = int(raw) if str(raw).isdigit() else None
        return found


class ReviewBulkForm(TickedTasksMixin, BootstrapMixin, forms.Form):
    """批量销号 / 批量退回 from the review queue: the ticked tasks, each with the version the
    supervisor was looking at (`v<id>`), one note for all, and the confirmation for tasks
    without evidence."""

    action = forms.ChoiceField(choices=[(name, name) for name in BULK_ACTIONS],
                               error_messages={"invalid_choice": "请选择批量销号或批量退回"})
    tasks = IdListField(error_messages={"required": "请先勾选要处理的任务"}, required=True)
    note = forms.CharField(label="审核意见 / 退回理由", required=False, max_length=2000,
                           widget=forms.TextInput())
    confirm_no_evidence = forms.BooleanField(label=NO_EVIDENCE_CONFIRMATION, required=False)

    MAX_TASKS = 200
    TOO_MANY = "一次最多处理{n}项任务"


class AckBatchForm(TickedTasksMixin, forms.Form):
    """批量签收 from 我的任务 / the task list: the ticked tasks, each with the version shown
    (`v<id>`), and the list's query to return to."""

    tasks = IdListField(error_messages={"required": "请先勾选要签收的任务"}, required=True)
    query = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)

    MAX_TASKS = ACK_BATCH_MAX
    TOO_MANY = "一次最多签收{n}项任务"


class SavedFilterForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label="名称", max_length=50,
                           error_messages={"required": "请给常用筛选起个名称"})
    query = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)
