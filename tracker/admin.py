"""The admin, in Chinese: a face like the pages and the API, held to the same rule book.

Every ModelAdmin is scoped by tracker.access (what the user sees, what they may change) through
`ScopedAdminMixin`, and writes only through the services, with the signed-in user as actor.
Secrets (the units' robot addresses and signing secret, password hashes) are never rendered;
an outbound webhook's signing secret is shown once, in the message right after it is made.
"""

import json
from collections.abc import Callable
from urllib.parse import urlencode

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import TokenProxy

from tracker import access
from tracker.errors import DomainError
from tracker.filters import ACK_CHOICES, TaskFilter
from tracker.models import (
    AuditEntry,
    DeadlineExtension,
    Delivery,
    DispatchRequest,
    Evidence,
    HolidayKind,
    HolidayOverride,
    Inspection,
    LoginFailure,
    Notification,
    Problem,
    ProgressReport,
    Reminder,
    ScoringScheme,
    Task,
    TaskEvent,
    TaskRecheck,
    TaskStatus,
    Unit,
    User,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
)
from tracker.reminders.notifications import delivery_retry
from tracker.services import auth as auth_services
from tracker.services import calendar as calendar_services
from tracker.services import inspections as inspection_services
from tracker.services import priority as priority_services
from tracker.services import review as review_services
from tracker.services import scoring as scoring_services
from tracker.services import tasks as task_services
from tracker.services import units as unit_services
from tracker.services import users as user_services
from tracker.services.audit import AuditAction, audit_origin, audit_record
from tracker.web.forms import AdminLoginForm
from tracker.web.security_views import otp_step_redirect
from tracker.webhooks import services as webhook_services

admin.site.site_header = "巡视整改任务跟踪"
admin.site.site_title = "巡视整改任务跟踪"
admin.site.index_title = "整改台账管理"
admin.site.login_form = AdminLoginForm
admin.site.login_template = "admin/tracker/login.html"
_django_admin_login = admin.site.login


def _admin_login(request, extra_context=None):
    """The admin's login; right password with an authenticator bound: the code is asked for on
    the pages' second step (tracker.web.security_views.login_otp), which returns here."""
    response = _django_admin_login(request, extra_context)
    form = (getattr(response, "context_data", None) or {}).get("form")
    if request.method == "POST" and getattr(form, "otp_pending_user", None) is not None:
        return otp_step_redirect(request, form.otp_pending_user,
                                 next_url=request.POST.get("next") or reverse("admin:index"))
    return response


admin.site.login = _admin_login


def _may_use_admin(request) -> bool:
    """The admin is a supervision face: staff accounts of supervisors and administrators (with
    an authenticator bound, where their role must have one: TOTP_REQUIRED_FOR_ROLES)."""
    if not (request.user.is_staff and access.is_supervisor_or_admin(request.user)):
        return False
    # Asked by every admin of the index page: the device is looked up once per request.
    if not hasattr(request, "_tracker_otp_missing"):
        request._tracker_otp_missing = auth_services.otp_enrolment_missing(request.user)
    return not request._tracker_otp_missing


admin.site.has_permission = _may_use_admin



def unregister_secret_admins() -> None:
    """Called from TrackerConfig.ready(), after every app's admin module has registered.

    DRF's token admin (the old static tokens) and django-otp's device admin (it shows the TOTP
    keys) are credentials: never listed, not even to administrators. API tokens are listed and
    revoked on the page API 令牌; devices are bound on the page 动态验证码 and unbound there or
    with the users' action 解除身份验证器绑定."""
    for model in (TokenProxy, TOTPDevice):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


class ReauthMixin:
    """Sensitive admin views ask for the password again first (确认身份): the views named in
    `reauth_views` ("change": add and change forms, "delete", "actions": a changelist action,
    "password") redirect to the page web:reauth unless tracker.services.auth.reauth_is_fresh.
    Deleting anything is sensitive everywhere."""

    reauth_views: frozenset[str] = frozenset({"delete"})

    def reauth_redirect(self, request, kind: str):
        if kind not in self.reauth_views or auth_services.reauth_is_fresh(
            session=request.session, now=timezone.now()
        ):
            return None
        if request.method == "POST":
            self.message_user(request, "该操作需要先确认身份，尚未保存，请确认后重新操作",
                              level=messages.WARNING)
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse('web:reauth')}?{query}")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self.reauth_redirect(request, "change") or super().changeform_view(
            request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self.reauth_redirect(request, "delete") or super().delete_view(
            request, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and "action" in request.POST:
            redirect = self.reauth_redirect(request, "actions")
            if redirect is not None:
                return redirect
        return super().changelist_view(request, extra_context)


class ScopedAdminMixin(ReauthMixin):
    """The user's scope on every admin page of one model, read from the rule book.

    A subclass names its tracker.access predicates:
    - `scope_rule(user) -> Q` over the model (or overrides `scope_q(request)`): what the user
      sees. Changelists, change pages, autocompletes (which read the target's admin queryset),
      related filters and actions all start from it; an object outside it is 404, never shown.
    - `change_rule(user, obj) -> bool`: whether the user may change `obj` (None: read-only
      model). `deletable` lets the same rule delete (through a service), `addable` opens the
      add page to supervisors and administrators (the service checks the unit given).
    - `may_act(request, obj)`: an action on one selected object (default: `may_change`).
    `choice_scopes` maps a relation field to the predicate giving the choices it offers.

    Writes go through services in `save_model` / `delete_model` / actions; a service's refusal
    (DomainError) rolls back the whole request and is shown on the form again, beside the
    values typed (the fields it names carry its message), never as a 500.
    """

    scope_rule: Callable[[User], Q] | None = None
    change_rule: Callable[[User, object], bool] | None = None
    addable = False
    deletable = False
    choice_scopes: dict[str, Callable[[User], Q]] = {}

    def scope_q(self, request) -> Q:
        return self.scope_rule(request.user)

    def may_add(self, request) -> bool:
        return self.addable and access.is_supervisor_or_admin(request.user)

    def may_change(self, request, obj) -> bool:
        if self.change_rule is None:
            return False
        return obj is None or self.change_rule(request.user, obj)

    def may_delete(self, request, obj) -> bool:
        return self.deletable and self.may_change(request, obj)

    def may_act(self, request, obj) -> bool:
        return self.may_change(request, obj)

    # --- reads ---------------------------------------------------------------------------

    def get_queryset(self, request):
        return super().get_queryset(request).filter(self.scope_q(request))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("对象不存在或不在您的范围内")
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._scope_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._scope_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _scope_choices(self, db_field, request, kwargs) -> None:
        if db_field.name in self.choice_scopes:
            rule = self.choice_scopes[db_field.name]
            kwargs["queryset"] = db_field.related_model.objects.filter(rule(request.user))

    # --- permissions ---------------------------------------------------------------------

    def has_module_permission(self, request):
        return _may_use_admin(request)

    def has_view_permission(self, request, obj=None):
        return _may_use_admin(request)  # an object given here came from the scoped queryset

    def has_add_permission(self, request):
        return _may_use_admin(request) and self.may_add(request)

    def has_change_permission(self, request, obj=None):
        return _may_use_admin(request) and self.may_change(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _may_use_admin(request) and self.may_delete(request, obj)

    def has_act_permission(self, request):
        return _may_use_admin(request) and self.may_act(request, None)

    # --- writes --------------------------------------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        view = super().changeform_view
        args = (request, object_id, form_url, extra_context)
        try:
            return view(*args)
        except DomainError as error:  # the view's transaction is rolled back
            if request.method != "POST":
                return self._refusal_message(request, error)
            # The form again, bound to what was typed, with the refusal as its errors: the
            # person corrects it instead of typing everything again (get_form adds them).
            request.service_refusal = error
            return view(*args)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "service_refusal", None)
        return form if refusal is None else _with_refusal(form, refusal)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as error:  # the view's transaction is rolled back
            return self._refusal_message(request, error)

    def _refusal_message(self, request, error: DomainError):
        self.message_user(request, _explained(error), level=messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def save_related(self, request, form, formsets, change):
        # Relations were set by the service; inline formsets save through save_formset.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def get_actions(self, request):
        # Django's bulk delete logs and reports every selected object as deleted even where
        # the service refuses: objects are deleted one by one, from their own page.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def run_action(self, request, queryset, verb: str, call) -> None:
        """Call `call(obj)` (a service) for each selected object the user may act on."""
        done = 0
        for obj in queryset:
            if not self.may_act(request, obj):
                self.message_user(request, f"{obj}：您无权处理", level=messages.WARNING)
                continue
            try:
                with transaction.atomic():
                    call(obj)
            except DomainError as error:
                self.message_user(request, f"{obj}：{_explained(error)}", level=messages.WARNING)
                continue
            done += 1
        self.message_user(request, f"已{verb}{done}条")


def _with_refusal(form_class, refusal: DomainError):
    """`form_class` whose validation ends with a service's refusal: the fields it names carry
    their message, the form the whole one, so the page shows them beside the typed values."""

    class Refused(form_class):
        def clean(self):
            cleaned = super().clean()
            for field, message in refusal.fields.items():
                if field in self.fields:
                    self.add_error(field, message)
            self.add_error(None, refusal.message)
            return cleaned

    Refused.__name__ = form_class.__name__
    return Refused


def _explained(error: DomainError) -> str:
    return "；".join([error.message, *error.fields.values()])


def _cleaned(form, fields) -> dict:
    """The form's values of the fields a service accepts (read-only fields are absent)."""
    return {f: form.cleaned_data[f] for f in fields if f in form.cleaned_data}


class AdministratorsReadOnlyMixin:
    """Records only administrators read (administrator_rule, from tracker.access) and nobody
    adds, changes or deletes by hand; actions declare their own permissions."""

    administrator_rule = staticmethod(access.sees_everything)

    def _administrator(self, request) -> bool:
        return _may_use_admin(request) and self.administrator_rule(request.user)

    def has_module_permission(self, request):
        return self._administrator(request)

    def has_view_permission(self, request, obj=None):
        return self._administrator(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Records written by the services (history, uploads, reminders, sends): shown, never
    added, changed or deleted by hand."""


class TaskRecordAdmin(ReadOnlyScopedAdmin):
    """A record of a task: seen with the task."""

    def scope_q(self, request):
        return Q(task__in=Task.objects.filter(access.visible_tasks_q(request.user)))


class ReadOnlyInline(admin.TabularInline):
    """History and submitted material are never edited, only shown."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Units ---------------------------------------------------------------------------------

SECRET_HELP_SET = "已设置，留空则不修改"
SECRET_HELP_UNSET = "未设置"


def _secret_field(label: str, url: bool = False) -> forms.Field:
    widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})
    if url:
        return forms.URLField(label=label, required=False, widget=widget, assume_scheme="https")
    return forms.CharField(label=label, required=False, widget=widget, max_length=100)


class UnitAdminForm(forms.ModelForm):
    """The robots' addresses and secret are write-only: the form never renders them."""

    new_wecom_webhook_url = _secret_field("企业微信群机器人地址", url=True)
    new_dingtalk_webhook_url = _secret_field("钉钉群机器人地址", url=True)
    new_dingtalk_secret = _secret_field("钉钉加签密钥")
    clear_robots = forms.BooleanField(label="清除群机器人设置", required=False)

    class Meta:
        model = Unit
        fields = list(unit_services.UNIT_EDITABLE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in unit_services.ROBOT_FIELDS:
            if f"new_{field}" in self.fields:
                is_set = bool(self.instance.pk and getattr(self.instance, field))
                self.fields[f"new_{field}"].help_text = (
                    SECRET_HELP_SET if is_set else SECRET_HELP_UNSET
                )

    def robot_values(self) -> dict:
        return {field: self.cleaned_data.get(f"new_{field}", "")
                for field in unit_services.ROBOT_FIELDS}


@admin.register(Unit)
class UnitAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = UnitAdminForm
    list_display = ["indented_name", "kind", "parent", "sort_order"]
    list_filter = ["kind", "depth"]
    search_fields = ["name", "short_name"]
    readonly_fields = ["path", "depth"]
    autocomplete_fields = ["parent"]
    fieldsets = (
        (None, {"fields": ("name", "short_name", "kind", "parent", "sort_order", "path",
                           "depth")}),
        ("群机器人（只写，保存后不再显示）", {"fields": (
            "new_wecom_webhook_url", "new_dingtalk_webhook_url", "new_dingtalk_secret",
            "clear_robots",
        )}),
    )
    scope_rule = staticmethod(access.reachable_units_q)
    # The unit tree is master data: administrators edit it, supervisors read their subtree.
    change_rule = staticmethod(lambda user, unit: access.may_edit_units(user))
    addable = deletable = True

    def may_add(self, request) -> bool:
        return access.may_edit_units(request.user)

    @admin.display(description="单位名称", ordering="path")
    def indented_name(self, unit: Unit) -> str:
        return f"{'　' * unit.depth}{unit.name}"

    def save_model(self, request, obj, form, change):
        fields = _cleaned(form, unit_services.UNIT_EDITABLE_FIELDS)
        if change:
            unit = unit_services.unit_update(
                unit=Unit.objects.get(pk=obj.pk), actor=request.user, **fields
            )
        else:
            unit = unit_services.unit_create(actor=request.user, **fields)
        unit = unit_services.unit_set_robots(
            unit=unit, actor=request.user, clear=form.cleaned_data.get("clear_robots", False),
            **form.robot_values(),
        )
        obj.pk, obj.path, obj.depth = unit.pk, unit.path, unit.depth

    def delete_model(self, request, obj):
        unit_services.unit_delete(unit=obj, actor=request.user)


# --- Users: administrators only ------------------------------------------------------------


class UserChangeForm(forms.ModelForm):
    """No password field at all: neither the hash nor its summary is rendered."""

    class Meta:
        model = User
        fields = list(user_services.USER_EDITABLE_FIELDS)


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    # Roles, units and passwords of users are sensitive: every form here asks 确认身份.
    reauth_views = frozenset({"change", "delete", "actions", "password"})
    actions = ["api_tokens_revoke_selected", "otp_remove_selected"]
    list_display = ["username", "full_name", "unit", "role", "is_active"]
    list_filter = ["role", "is_active", "unit__kind"]
    search_fields = ["username", "full_name", "unit__name", "email"]
    autocomplete_fields = ["unit", "supervision_root"]
    readonly_fields = ["password_change", "last_login", "date_joined"]
    fieldsets = (
        (None, {"fields": ("username", "password_change")}),
        ("个人信息", {"fields": ("full_name", "email", "phone")}),
        ("单位与角色", {"fields": ("unit", "role", "covers_subunits", "supervision_root",
                                  "is_active")}),
        ("重要日期", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "password1", "password2")}),
        ("单位与角色", {"fields": ("full_name", "email", "unit", "role", "covers_subunits",
                                  "supervision_root")}),
    )
    filter_horizontal = ()

    def scope_q(self, request):
        return Q() if access.may_manage_users(request.user) else Q(pk__in=[])

    def has_module_permission(self, request):
        return _may_use_admin(request) and access.may_manage_users(request.user)

    def get_object(self, request, object_id, from_field=None):
        if not self.has_module_permission(request):
            raise PermissionDenied  # 403 on every URL of the user admin, not a 404
        return super().get_object(request, object_id, from_field)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def may_add(self, request):
        return access.may_manage_users(request.user)

    def may_change(self, request, obj):
        return access.may_manage_users(request.user)

    def user_change_password(self, request, id, form_url=""):
        redirect = self.reauth_redirect(request, "password")
        if redirect is not None:
            return redirect
        if request.method != "POST":
            return super().user_change_password(request, id, form_url)
        # A valid form is saved through the one password service (which revokes the user's
        # API tokens), with the signed-in administrator as actor; anything else is answered by
        # Django's view (errors shown on the form).
        user = self.get_object(request, unquote(id))
        if user is None or not self.has_change_permission(request, user):
            return super().user_change_password(request, id, form_url)
        form = self.change_password_form(user, request.POST)
        if not form.is_valid() or not (form.cleaned_data["set_usable_password"]
                                       or "unset-password" in request.POST):
            return super().user_change_password(request, id, form_url)
        password = form.cleaned_data["password1"] if form.cleaned_data[
            "set_usable_password"] else None
        user_services.user_set_password(user=user, password=password, actor=request.user)
        self.log_change(request, user, self.construct_change_message(request, form, None))
        self.message_user(request, "密码已修改，该用户的 API 令牌已全部作废")
        update_session_auth_hash(request, user)
        return HttpResponseRedirect(reverse("admin:tracker_user_change", args=[user.pk]))

    @admin.action(description="作废全部 API 令牌", permissions=["change"])
    def api_tokens_revoke_selected(self, request, queryset):
        self.run_action(request, queryset, "作废令牌",
                        lambda user: auth_services.api_tokens_revoke_all(user=user))

    @admin.action(description="解除身份验证器绑定（手机丢失时）", permissions=["change"])
    def otp_remove_selected(self, request, queryset):
        self.run_action(request, queryset, "解除绑定",
                        lambda user: auth_services.otp_remove(user=user, actor=request.user))

    @admin.display(description="密码")
    def password_change(self, user: User):
        url = reverse("admin:auth_user_password_change", args=[user.pk])
        return format_html('不显示密码。<a href="{}">修改密码</a>', url)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            user = user_services.user_update(
                user=User.objects.get(pk=obj.pk), actor=request.user,
                **_cleaned(form, user_services.USER_EDITABLE_FIELDS),
            )
        else:
            user = user_services.user_create(
                username=data["username"], password=data["password1"], role=data["role"],
                unit=data.get("unit"), full_name=data.get("full_name", ""),
                email=data.get("email", ""), covers_subunits=data.get("covers_subunits", False),
                supervision_root=data.get("supervision_root"), actor=request.user,
            )
        obj.pk = user.pk


# --- Inspections and problems --------------------------------------------------------------


def related_only(*paths: str) -> list:
    """List filters over relations offer only what the (scoped) list itself refers to."""
    return [(path, admin.RelatedOnlyFieldListFilter) for path in paths]


class ProblemInline(admin.TabularInline):
    model = Problem
    extra = 0
    fields = ["number", "aspect", "text"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(access.visible_problems_q(request.user))

    def _may_edit(self, request, inspection) -> bool:
        return inspection is None or access.can_edit_inspection(request.user, inspection)

    def has_add_permission(self, request, obj=None):
        return self._may_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_edit(request, obj)

    def has_view_permission(self, request, obj=None):
        return True  # shown with an inspection the user sees


@admin.register(Inspection)
class InspectionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "kind", "mode", "team", "feedback_date", "rectification_deadline"]
    list_filter = ["kind", "mode"]
    search_fields = ["title", "team", "target"]
    date_hierarchy = "feedback_date"
    autocomplete_fields = ["target_unit"]
    inlines = [ProblemInline]
    choice_scopes = {"target_unit": access.managed_units_q}
    scope_rule = staticmethod(access.visible_inspections_q)
    change_rule = staticmethod(access.can_edit_inspection)
    addable = deletable = True

    def save_model(self, request, obj, form, change):
        fields = _cleaned(form, inspection_services.INSPECTION_EDITABLE_FIELDS)
        if change:
            saved = inspection_services.inspection_update(
                inspection=Inspection.objects.get(pk=obj.pk), actor=request.user, **fields
            )
        else:
            saved = inspection_services.inspection_create(actor=request.user, **fields)
        obj.pk = saved.pk

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)  # lists new, changed and deleted problems; writes nothing
        inspection = Inspection.objects.get(pk=form.instance.pk)
        for problem in formset.new_objects:
            inspection_services.problem_create(
                inspection=inspection, number=problem.number, text=problem.text,
                aspect=problem.aspect, actor=request.user,
            )
        for problem, changed in formset.changed_objects:
            inspection_services.problem_update(
                problem=Problem.objects.get(pk=problem.pk), actor=request.user,
                **{f: getattr(problem, f) for f in changed
                   if f in inspection_services.PROBLEM_EDITABLE_FIELDS},
            )
        for problem in formset.deleted_objects:
            inspection_services.problem_delete(problem=problem, actor=request.user)

    def delete_model(self, request, obj):
        inspection_services.inspection_delete(inspection=obj, actor=request.user)


@admin.register(Problem)
class ProblemAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["number", "short_text", "aspect", "inspection"]
    list_filter = related_only("inspection")
    search_fields = ["text", "aspect"]
    list_select_related = ["inspection"]
    autocomplete_fields = ["inspection"]
    choice_scopes = {"inspection": access.visible_inspections_q}
    scope_rule = staticmethod(access.visible_problems_q)
    change_rule = staticmethod(lambda user, problem: access.can_edit_inspection(
        user, problem.inspection))
    addable = deletable = True

    def get_readonly_fields(self, request, obj=None):
        return ["inspection"] if obj is not None else []

    @admin.display(description="问题描述")
    def short_text(self, problem: Problem) -> str:
        return problem.text[:60]

    def save_model(self, request, obj, form, change):
        fields = _cleaned(form, inspection_services.PROBLEM_EDITABLE_FIELDS)
        if change:
            saved = inspection_services.problem_update(
                problem=Problem.objects.get(pk=obj.pk), actor=request.user, **fields
            )
        else:
            saved = inspection_services.problem_create(
                inspection=form.cleaned_data["inspection"], actor=request.user, **fields
            )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        inspection_services.problem_delete(problem=obj, actor=request.user)


# --- Tasks and their records ---------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = "是否逾期"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "已逾期"), ("no", "未逾期")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "yes":
            return queryset.overdue(today)
        if self.value() == "no":
            return queryset.not_overdue(today)
        return queryset


class AckFilter(admin.SimpleListFilter):
    """签收状态, with the meaning of tracker.filters.TaskFilter's `ack` (the one rule)."""

    title = "签收状态"
    parameter_name = "ack"

    def lookups(self, request, model_admin):
        return ACK_CHOICES

    def queryset(self, request, queryset):
        if self.value() in dict(ACK_CHOICES):
            return TaskFilter({"ack": self.value()}, queryset=queryset).qs
        return queryset


class TaskEventInline(ReadOnlyInline):
    model = TaskEvent
    fields = ["at", "actor", "action", "from_status", "to_status", "note"]
    readonly_fields = fields
    verbose_name_plural = "任务历史（只读）"


class ProgressReportInline(ReadOnlyInline):
    model = ProgressReport
    fields = ["created_at", "author", "percent", "note"]
    readonly_fields = fields


class EvidenceInline(ReadOnlyInline):
    model = Evidence
    fields = ["uploaded_at", "uploaded_by", "original_name", "size"]
    readonly_fields = fields


class ExtensionInline(ReadOnlyInline):
    model = DeadlineExtension
    fk_name = "task"
    fields = ["requested_at", "requested_by", "previous_deadline", "requested_deadline",
              "reason", "status", "decided_by", "decided_at", "decision_note"]
    readonly_fields = fields


@admin.register(Task)
class TaskAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "lead_unit", "status", "deadline", "overdue", "is_key", "priority",
                    "acknowledgement", "inspection"]
    list_filter = ["status", "task_type", OverdueFilter, "is_key", "priority", AckFilter,
                   *related_only("inspection", "lead_unit")]
    search_fields = ["title", "measures", "responsible_leader", "responsible_person",
                     "problem__text"]
    list_select_related = ["lead_unit", "inspection", "acknowledged_by"]
    autocomplete_fields = ["lead_unit", "supporting_units", "problem"]
    # 重点任务 and priority change only through the batch actions below (the service writes
    # the history row); shown here, never edited in the form.
    readonly_fields = ["inspection", "status", "is_key", "priority", "original_deadline",
                       "progress_percent", "started_at", "completed_at", "closed_at",
                       "ack_requested_at", "acknowledged_at", "acknowledged_by", "version",
                       "created_at", "updated_at"]
    inlines = [ProgressReportInline, EvidenceInline, ExtensionInline, TaskEventInline]
    actions = ["close_selected", "mark_key_selected", "unmark_key_selected"]
    choice_scopes = {
        "lead_unit": access.managed_units_q,
        "supporting_units": access.reachable_units_q,
        "problem": access.visible_problems_q,
    }

    scope_rule = staticmethod(access.visible_tasks_q)
    change_rule = staticmethod(access.can_supervise)
    addable = True

    def get_readonly_fields(self, request, obj=None):
        # The problem (and so the inspection) of a task is fixed once it exists.
        return [*self.readonly_fields, "problem"] if obj is not None else self.readonly_fields

    @admin.display(description="逾期", boolean=True)
    def overdue(self, task: Task) -> bool:
        return task.is_overdue

    @admin.display(description="签收")
    def acknowledgement(self, task: Task) -> str:
        if task.awaiting_ack:
            return "待签收"
        if task.acknowledged_at is None:
            return "—"
        who = task.acknowledged_by.display_name if task.acknowledged_by_id else ""
        return f"{who} {timezone.localtime(task.acknowledged_at):%Y-%m-%d %H:%M}".strip()

    def save_model(self, request, obj, form, change):
        fields = _cleaned(form, task_services.EDITABLE_FIELDS)
        supporting = list(form.cleaned_data.get("supporting_units") or ())
        if change:
            task = Task.objects.get(pk=obj.pk)
            # Supporting units outside the user's sight were not offered: they stay.
            hidden = task.supporting_units.exclude(access.reachable_units_q(request.user))
            saved = task_services.task_update(
                task=task, actor=request.user, supporting_units=[*supporting, *hidden],
                **fields,
            )
        else:
            saved = task_services.task_create(
                problem=form.cleaned_data["problem"], actor=request.user,
                supporting_units=supporting, **fields,
            )
        obj.pk = saved.pk

    @admin.action(description="审核销号所选的已提交任务（无佐证材料的任务须在审核页面确认）",
                  permissions=["act"])
    def close_selected(self, request, queryset):
        # The admin offers no confirmation box: a task without evidence is refused here, with
        # the reason, and closed from the review page where the confirmation is asked.
        self.run_action(
            request, queryset.filter(status=TaskStatus.SUBMITTED), "销号",
            lambda task: review_services.task_close_reviewed(task=task, actor=request.user,
                                                            note="后台批量销号"),
        )

    @admin.action(description="设为重点任务", permissions=["act"])
    def mark_key_selected(self, request, queryset):
        self.run_action(
            request, queryset.filter(is_key=False), "设为重点任务",
            lambda task: priority_services.task_set_priority(
                task=task, actor=request.user, is_key=True, note="后台批量设为重点任务"),
        )

    @admin.action(description="取消重点任务", permissions=["act"])
    def unmark_key_selected(self, request, queryset):
        self.run_action(
            request, queryset.filter(is_key=True), "取消重点任务",
            lambda task: priority_services.task_set_priority(
                task=task, actor=request.user, is_key=False, note="后台批量取消重点任务"),
        )


@admin.register(TaskEvent)
class TaskEventAdmin(TaskRecordAdmin):
    list_display = ["at", "task", "action", "from_status", "to_status", "actor"]
    list_filter = ["action", "to_status", *related_only("task__inspection")]
    search_fields = ["task__title", "note", "actor__username", "actor__full_name"]
    list_select_related = ["task", "actor"]
    date_hierarchy = "at"
    # The typed data column may hold a deadline change, never a secret; shown read-only.


@admin.register(ProgressReport)
class ProgressReportAdmin(TaskRecordAdmin):
    list_display = ["created_at", "task", "author", "percent"]
    list_filter = related_only("task__inspection", "task__lead_unit")
    search_fields = ["note", "task__title"]
    list_select_related = ["task", "author"]


@admin.register(Evidence)
class EvidenceAdmin(TaskRecordAdmin):
    list_display = ["uploaded_at", "original_name", "task", "uploaded_by", "size"]
    list_filter = related_only("task__inspection", "task__lead_unit")
    search_fields = ["original_name", "task__title"]
    list_select_related = ["task", "uploaded_by"]
    # The file itself has no public URL, so the admin shows where it is stored, not a link.
    fields = ["task", "progress_report", "stored_as", "original_name", "content_type", "size",
              "sha256", "uploaded_by", "uploaded_at"]
    readonly_fields = fields

    @admin.display(description="存储位置")
    def stored_as(self, evidence: Evidence) -> str:
        return evidence.file.name


@admin.register(DeadlineExtension)
class DeadlineExtensionAdmin(TaskRecordAdmin):
    list_display = ["task", "previous_deadline", "requested_deadline", "status", "requested_by",
                    "decided_by"]
    list_filter = ["status", *related_only("task__inspection", "task__lead_unit")]
    search_fields = ["task__title", "reason"]
    list_select_related = ["task", "requested_by", "decided_by"]


@admin.register(TaskRecheck)
class TaskRecheckAdmin(TaskRecordAdmin):
    """回头看: seen with the task, read-only (reported and decided on the pages and the API,
    through tracker.services.rechecks)."""

    list_display = ["task", "due_on", "state", "recurred", "reported_by", "decided_by"]
    list_filter = ["state", *related_only("task__inspection", "task__lead_unit")]
    search_fields = ["task__title", "report_note", "decision_note"]
    list_select_related = ["task", "reported_by", "decided_by"]


# --- Reminders, notifications, deliveries --------------------------------------------------


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyScopedAdmin):
    list_display = ["recorded_on", "task", "stage", "level", "deadline", "recipient_user",
                    "recipient_unit", "notification"]
    list_filter = ["stage", "level", "recorded_on"]
    search_fields = ["task__title", "recipient_user__username", "recipient_user__full_name"]
    list_select_related = ["task", "recipient_user", "recipient_unit", "notification"]
    date_hierarchy = "recorded_on"
    scope_rule = staticmethod(access.addressed_in_scope_q)


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    fields = ["channel", "status", "attempts", "sent_at", "last_error"]
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(ReadOnlyScopedAdmin):
    list_display = ["day", "kind", "title", "recipient_user", "recipient_unit", "read_at"]
    list_filter = ["kind", "day"]
    search_fields = ["title", "recipient_user__username", "recipient_user__full_name"]
    list_select_related = ["recipient_user", "recipient_unit"]
    inlines = [DeliveryInline]
    scope_rule = staticmethod(access.addressed_in_scope_q)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyScopedAdmin):
    list_display = ["created_at", "notification", "channel", "status", "attempts", "sent_at",
                    "last_error"]
    list_filter = ["status", "channel"]
    list_select_related = ["notification"]
    actions = ["retry_failed"]

    def scope_q(self, request):
        return access.addressed_in_scope_q(request.user, prefix="notification__")

    def may_act(self, request, delivery):
        return True  # any delivery in the user's scope may be sent again

    @admin.action(description="重新发送选中的失败记录", permissions=["act"])
    def retry_failed(self, request, queryset):
        self.run_action(request, queryset.filter(status="failed"), "重新排队",
                        lambda delivery: delivery_retry(delivery=delivery))


@admin.register(DispatchRequest)
class DispatchRequestAdmin(ReadOnlyScopedAdmin):
    list_display = ["month", "unit", "open_tasks", "report_by", "created_at"]
    list_filter = ["month"]
    list_select_related = ["unit"]

    def scope_q(self, request):
        return Q(unit__in=Unit.objects.filter(access.managed_units_q(request.user)))


# --- Holiday overrides (节假日安排) ---------------------------------------------------------


class HolidayPeriodForm(forms.Form):
    start = forms.DateField(label="开始日期", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="结束日期", widget=forms.DateInput(attrs={"type": "date"}),
                          help_text="只录入一天时与开始日期相同")
    kind = forms.ChoiceField(label="类型", choices=HolidayKind.choices)
    name = forms.CharField(label="节日名称", max_length=50, help_text="如：春节、国庆节")


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(ReauthMixin, admin.ModelAdmin):
    """节假日安排: administrators only; every write goes through tracker.services.calendar,
    which invalidates the working-day calendar."""

    list_display = ["date", "weekday", "kind", "name", "updated_at"]
    list_filter = ["kind"]
    date_hierarchy = "date"
    search_fields = ["name"]
    fields = ["date", "kind", "name"]
    change_list_template = "admin/tracker/holidayoverride/change_list.html"
    reauth_views = frozenset({"change", "delete", "actions", "period"})

    def _administrator(self, request) -> bool:
        return _may_use_admin(request) and access.sees_everything(request.user)

    def has_module_permission(self, request):
        return self._administrator(request)

    def has_view_permission(self, request, obj=None):
        return self._administrator(request)

    def has_add_permission(self, request):
        return self._administrator(request)

    def has_change_permission(self, request, obj=None):
        return self._administrator(request)

    def has_delete_permission(self, request, obj=None):
        return self._administrator(request)

    def get_readonly_fields(self, request, obj=None):
        return ["date"] if obj is not None else []

    @admin.display(description="星期")
    def weekday(self, obj):
        return "周" + "一二三四五六日"[obj.date.weekday()]

    def get_urls(self):
        from django.urls import path

        view = self.admin_site.admin_view
        return [
            path("calendar/", view(self.calendar_view), name="tracker_holidayoverride_calendar"),
            path("add-period/", view(self.add_period_view),
                 name="tracker_holidayoverride_add_period"),
            *super().get_urls(),
        ]

    def add_period_view(self, request):
        from django.template.response import TemplateResponse

        if not self.has_add_permission(request):
            raise PermissionDenied
        redirect = self.reauth_redirect(request, "period")
        if redirect is not None:
            return redirect
        form = HolidayPeriodForm(request.POST or None, initial=request.GET.dict())
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                rows = calendar_services.holiday_set_period(
                    start=data["start"], end=data["end"], kind=data["kind"], name=data["name"],
                    actor=request.user,
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, f"已录入{data['name']}共{len(rows)}天")
                url = reverse("admin:tracker_holidayoverride_calendar")
                return HttpResponseRedirect(f"{url}?year={data['start'].year}")
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "title": "录入节假日（一段日期）", "form": form}
        return TemplateResponse(request, "admin/tracker/holidayoverride/add_period.html",
                                context)

    def calendar_view(self, request):
        import calendar as month_calendar

        from django.template.response import TemplateResponse

        from tracker import workdays
        from tracker.selectors import holiday_overrides

        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            year = int(request.GET.get("year") or timezone.localdate().year)
        except ValueError:
            year = timezone.localdate().year
        year = min(max(year, 1900), 2999)
        names = {row.date: row for row in holiday_overrides(year=year)}
        months = []
        for month in range(1, 13):
            weeks = []
            for week in month_calendar.Calendar().monthdatescalendar(year, month):
                cells = []
                for day in week:
                    if day.month != month:
                        cells.append(None)
                        continue
                    off = not workdays.is_workday(day)
                    row = names.get(day)
                    if row is not None:
                        css = "override-off" if off else "override-on"
                    elif off != (day.weekday() >= 5):
                        css = "package-off" if off else "package-on"
                    else:
                        css = "off" if off else ""
                    cells.append({"day": day, "css": css, "name": row.name if row else ""})
                weeks.append(cells)
            months.append({"number": month, "weeks": weeks})
        if workdays.year_known_to_package(year):
            source = "chinesecalendar 包已包含该年安排"
            if names:
                source += "，管理员录入的日期优先"
        elif names:
            source = f"由管理员录入（{len(names)}天）"
        else:
            source = "尚未录入：暂按周一至周五为工作日计算，请录入国务院公布的安排"
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta,
            "title": f"{year}年节假日安排", "year": year, "months": months, "source": source,
            "previous_year": year - 1, "next_year": year + 1,
            "weekday_names": "一二三四五六日",
        }
        return TemplateResponse(request, "admin/tracker/holidayoverride/calendar.html", context)

    def save_model(self, request, obj, form, change):
        row = calendar_services.holiday_set(
            date=obj.date, kind=obj.kind, name=obj.name, actor=request.user
        )
        obj.pk = row.pk

    def delete_model(self, request, obj):
        calendar_services.holiday_remove(start=obj.date, actor=request.user)

    def delete_queryset(self, request, queryset):
        for day in list(queryset.values_list("date", flat=True)):
            calendar_services.holiday_remove(start=day, actor=request.user)


@admin.register(LoginFailure)
class LoginFailureAdmin(AdministratorsReadOnlyMixin, ReauthMixin, admin.ModelAdmin):
    """登录失败记录: which account at which address (or which address) waits, and until when;
    administrators only. 解除锁定 lifts a wait through tracker.services.auth."""

    list_display = ["key", "failures", "window_started_at", "locked_until", "waiting"]
    search_fields = ["key"]
    ordering = ["-window_started_at"]
    actions = ["unlock_selected"]
    reauth_views = frozenset({"actions"})
    administrator_rule = staticmethod(access.may_manage_users)

    def has_unlock_permission(self, request):
        return self._administrator(request)

    @admin.display(boolean=True, description="等待中")
    def waiting(self, obj):
        return obj.locked_until is not None and obj.locked_until > timezone.now()

    @admin.action(description="解除锁定", permissions=["unlock"])
    def unlock_selected(self, request, queryset):
        count = auth_services.login_unlock(keys=list(queryset.values_list("key", flat=True)))
        self.message_user(request, f"已解除{count}条登录限制")


# --- Audit log (审计日志) ------------------------------------------------------------------


@admin.register(AuditEntry)
class AuditEntryAdmin(AdministratorsReadOnlyMixin, admin.ModelAdmin):
    """审计日志: read by administrators only (tracker.access.sees_everything); nobody adds,
    changes or deletes an entry here (the table is append-only, see tracker.models.audit)."""

    list_display = ["at", "action", "actor_name_shown", "target_kind", "target_label",
                    "address", "note"]
    list_filter = ["action", "at"]
    search_fields = ["actor_name", "target_label", "address"]
    date_hierarchy = "at"
    # The list shows the snapshots (actor_name, target_label), no relation: one query for the
    # rows whatever their number. The actor is linked on the entry's own page.
    list_select_related = False
    show_full_result_count = False  # no second COUNT over the whole log when filtered
    fields = ["at", "action", "actor", "actor_name", "target_kind", "target_id",
              "target_label", "changes_shown", "note", "address", "request_id"]
    readonly_fields = fields
    administrator_rule = staticmethod(access.sees_everything)

    @admin.display(description="操作人", ordering="actor_name")
    def actor_name_shown(self, entry: AuditEntry) -> str:
        return entry.actor_name or "系统"

    @admin.display(description="对象类型")
    def target_kind(self, entry: AuditEntry) -> str:
        return _model_name(entry.target_type)

    @admin.display(description="修改内容")
    def changes_shown(self, entry: AuditEntry):
        if not entry.changes:
            return "-"
        model = _model_of(entry.target_type)
        rows = []
        for field, (old, new) in entry.changes.items():
            label = field
            if model is not None:
                try:
                    label = model._meta.get_field(field).verbose_name
                except FieldDoesNotExist:  # a field since removed keeps its code name
                    label = field
            rows.append((label, "（空）" if old in (None, "") else old,
                         "（空）" if new in (None, "") else new))
        return format_html_join(mark_safe("<br>"), "{}：{} → {}", rows)


def _model_of(label: str):
    try:
        return apps.get_model(label) if label else None
    except (LookupError, ValueError):
        return None


def _model_name(label: str) -> str:
    model = _model_of(label)
    return str(model._meta.verbose_name) if model is not None else (label or "-")


_admin_logout = admin.site.logout


def _audited_admin_logout(request, extra_context=None):
    """The admin's own 退出 is recorded like the pages' and the API's."""
    if request.method == "POST" and request.user.is_authenticated:
        audit_record(actor=request.user, action=AuditAction.LOGOUT, target=request.user,
                     note="管理后台", **audit_origin(request))
    return _admin_logout(request, extra_context)


admin.site.logout = _audited_admin_logout


# --- Outbound webhooks (外部推送) ---------------------------------------------------------
# Administrators only (tracker.access.may_manage_webhooks); supervisors and officers never see
# them. Endpoints are added and changed through tracker.webhooks.services; deliveries are
# records, read-only, sent again (重新发送) through the service. A signing secret is shown
# once, when it is made (on adding an endpoint or with 重新生成签名密钥), never on any page
# afterwards.


class WebhookAdministratorsMixin:
    def _administrator(self, request) -> bool:
        return _may_use_admin(request) and access.may_manage_webhooks(request.user)

    def has_module_permission(self, request):
        return self._administrator(request)

    def has_view_permission(self, request, obj=None):
        return self._administrator(request)

    def has_delete_permission(self, request, obj=None):
        return False  # an endpoint is switched off (启用), so its records stay


def _show_secret_once(admin_view, request, endpoint: WebhookEndpoint, secret: str) -> None:
    admin_view.message_user(
        request,
        format_html("“{}”的签名密钥（只显示这一次，请立即复制给接收方）：<code>{}</code>",
                    endpoint.name, secret),
        level=messages.WARNING,
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(WebhookAdministratorsMixin, ReauthMixin, admin.ModelAdmin):
    list_display = ["name", "url", "events_shown", "scope_unit", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "url"]
    list_select_related = ["scope_unit"]
    fields = ["name", "url", "on_created", "on_changed", "on_closed", "on_reopened",
              "scope_unit", "active", "secret_shown", "created_by", "created_at", "updated_at"]
    readonly_fields = ["secret_shown", "created_by", "created_at", "updated_at"]
    autocomplete_fields = ["scope_unit"]
    actions = ["rotate_secret_selected"]
    reauth_views = frozenset({"change", "delete", "actions"})

    def has_add_permission(self, request):
        return self._administrator(request)

    def has_change_permission(self, request, obj=None):
        return self._administrator(request)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "url":
            kwargs["assume_scheme"] = "https"  # the validator asks for a scheme anyway
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="订阅事件")
    def events_shown(self, endpoint: WebhookEndpoint) -> str:
        names = [label for code, label in WebhookEvent.choices
                 if endpoint.subscribes(code)]
        return "、".join(names) or "（无）"

    @admin.display(description="签名密钥")
    def secret_shown(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.pk is None:
            return "保存后生成，只显示一次"
        return "已设置（不再显示；如遗失请用“重新生成签名密钥”）"

    def save_model(self, request, obj, form, change):
        webhook_services.webhook_endpoint_save(endpoint=obj, actor=request.user, now=timezone.now())
        if not change:
            _show_secret_once(self, request, obj, obj.secret)

    @admin.action(description="重新生成签名密钥（旧密钥立即失效）", permissions=["change"])
    def rotate_secret_selected(self, request, queryset):
        for endpoint in queryset:
            secret = webhook_services.webhook_endpoint_rotate_secret(
                endpoint=endpoint, actor=request.user, now=timezone.now())
            _show_secret_once(self, request, endpoint, secret)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(WebhookAdministratorsMixin, ReauthMixin, admin.ModelAdmin):
    list_display = ["created_at", "endpoint", "event", "task_link", "status", "attempts",
                    "last_status_code", "delivered_at", "next_attempt_at", "last_error"]
    list_filter = ["status", "event", ("endpoint", admin.RelatedOnlyFieldListFilter),
                   "created_at"]
    search_fields = ["endpoint__name", "task_event__task__title"]
    list_select_related = ["endpoint", "task_event"]
    date_hierarchy = "created_at"
    fields = ["endpoint", "task_event", "event", "status", "attempts", "attempt_limit",
              "last_status_code", "last_error", "created_at", "claimed_at", "next_attempt_at",
              "delivered_at", "payload_shown"]
    readonly_fields = fields
    actions = ["resend_failed"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        return self._administrator(request)

    @admin.display(description="整改任务", ordering="task_event__task")
    def task_link(self, delivery: WebhookDelivery) -> str:
        return f"#{delivery.task_event.task_id}"

    @admin.display(description="推送内容")
    def payload_shown(self, delivery: WebhookDelivery):
        text = json.dumps(delivery.payload, ensure_ascii=False, indent=2)
        return format_html("<pre>{}</pre>", text)

    @admin.action(description="重新发送选中的失败记录", permissions=["resend"])
    def resend_failed(self, request, queryset):
        done = 0
        for delivery in queryset.filter(status=WebhookDeliveryStatus.FAILED):
            try:
                done += webhook_services.webhook_delivery_resend(
                    delivery=delivery, actor=request.user, now=timezone.now())
            except DomainError as error:
                self.message_user(request, f"{delivery}：{error.message}", level=messages.WARNING)
        self.message_user(request, f"已重新排队{done}条")


# --- Scoring schemes (考评方案) -----------------------------------------------------------
# Administrators only (tracker.access.may_set_scoring_weights): supervisors read the weights on
# the ranking page, never here. Saved and deleted through tracker.services.scoring (audited).


@admin.register(ScoringScheme)
class ScoringSchemeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "effective_from", "base_score", "on_time_weight",
                    "overdue_day_weight", "send_back_weight", "notice_weight",
                    "notice_late_weight", "updated_at"]
    fields = ["name", "effective_from", "base_score", "on_time_weight", "overdue_day_weight",
              "send_back_weight", "notice_weight", "notice_late_weight", "note",
              "created_by", "updated_at"]
    readonly_fields = ["created_by", "updated_at"]
    # Schemes are not scoped by unit: who may see them at all is decided by the permissions
    # below (403 to everyone but administrators, like the other administrators-only models).
    scope_rule = staticmethod(lambda user: Q())
    change_rule = staticmethod(lambda user, scheme: access.may_set_scoring_weights(user))
    addable = deletable = True

    def _administrator(self, request) -> bool:
        return _may_use_admin(request) and access.may_set_scoring_weights(request.user)

    def has_module_permission(self, request):
        return self._administrator(request)

    def has_view_permission(self, request, obj=None):
        return self._administrator(request)

    def has_change_permission(self, request, obj=None):
        return self._administrator(request)

    def has_add_permission(self, request):
        return self._administrator(request)

    def has_delete_permission(self, request, obj=None):
        return self._administrator(request)

    def save_model(self, request, obj, form, change):
        values = _cleaned(form, scoring_services.SCHEME_FIELDS)
        scheme = scoring_services.scoring_scheme_save(
            actor=request.user, now=timezone.now(),
            scheme=ScoringScheme.objects.get(pk=obj.pk) if change else None, **values,
        )
        obj.pk = scheme.pk

    def delete_model(self, request, obj):
        scoring_services.scoring_scheme_delete(actor=request.user, scheme=obj,
                                               now=timezone.now())
