"""The admin, in Chinese. Writes go through the services, exactly as the API's do."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.utils import timezone

from tracker import access
from tracker.errors import DomainError
from tracker.models import (
    DeadlineExtension,
    Delivery,
    DispatchRequest,
    Evidence,
    Inspection,
    Notification,
    Problem,
    ProgressReport,
    Reminder,
    Task,
    TaskEvent,
    TaskStatus,
    Unit,
    User,
)
from tracker.reminders.notifications import delivery_retry
from tracker.services import tasks as task_services
from tracker.services import units as unit_services
from tracker.web.forms import AdminLoginForm

admin.site.site_header = "巡视整改任务跟踪"
admin.site.site_title = "巡视整改任务跟踪"
admin.site.index_title = "整改台账管理"
admin.site.login_form = AdminLoginForm


class RecordAdmin(admin.ModelAdmin):
    """Records written by the services (history, uploads, sends): never added or deleted by
    hand in the admin."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ImmutableRecordAdmin(RecordAdmin):
    """Records that are never changed either: shown read-only."""

    def has_change_permission(self, request, obj=None):
        return False


class UnitScopedAdmin(admin.ModelAdmin):
    """Lists only what the user may see by unit and role, as the API does."""

    task_path = "task"  # how this model reaches its task; "" for Task itself

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if access.sees_everything(request.user):
            return queryset
        visible = Task.objects.filter(access.visible_tasks_q(request.user))
        if not self.task_path:
            return queryset.filter(pk__in=visible.values("pk"))
        return queryset.filter(**{f"{self.task_path}__in": visible.values("pk")})


class ReadOnlyInline(admin.TabularInline):
    """History and submitted material are never edited, only shown."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["indented_name", "kind", "parent", "sort_order"]
    list_filter = ["kind", "depth"]
    search_fields = ["name", "short_name"]
    readonly_fields = ["path", "depth"]
    autocomplete_fields = ["parent"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="单位名称", ordering="path")
    def indented_name(self, unit: Unit) -> str:
        return f"{'　' * unit.depth}{unit.name}"

    def save_model(self, request, obj, form, change):
        if not change:
            created = unit_services.unit_create(
                name=obj.name, kind=obj.kind, parent=obj.parent, short_name=obj.short_name,
                sort_order=obj.sort_order,
            )
            obj.pk, obj.path, obj.depth = created.pk, created.path, created.depth
            return
        old_parent_id = Unit.objects.values_list("parent_id", flat=True).get(pk=obj.pk)
        Unit.objects.filter(pk=obj.pk).update(
            name=obj.name, kind=obj.kind, short_name=obj.short_name, sort_order=obj.sort_order,
            wecom_webhook_url=obj.wecom_webhook_url,
            dingtalk_webhook_url=obj.dingtalk_webhook_url, dingtalk_secret=obj.dingtalk_secret,
        )
        if old_parent_id != obj.parent_id:
            unit_services.unit_move(unit=Unit.objects.get(pk=obj.pk), new_parent=obj.parent)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "full_name", "unit", "role", "is_active"]
    list_filter = ["role", "is_active", "unit__kind"]
    search_fields = ["username", "full_name", "unit__name", "email"]
    autocomplete_fields = ["unit", "supervision_root"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("单位与角色", {"fields": ("full_name", "unit", "role", "covers_subunits",
                                  "supervision_root", "phone")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("单位与角色", {"fields": ("full_name", "unit", "role")}),
    )


class ProblemInline(admin.TabularInline):
    model = Problem
    extra = 0
    fields = ["number", "aspect", "text"]


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "mode", "team", "feedback_date", "rectification_deadline"]
    list_filter = ["kind", "mode"]
    search_fields = ["title", "team", "target"]
    date_hierarchy = "feedback_date"
    inlines = [ProblemInline]


@admin.register(Problem)
class ProblemAdmin(admin.ModelAdmin):
    list_display = ["number", "short_text", "aspect", "inspection"]
    list_filter = ["inspection"]
    search_fields = ["text", "aspect"]
    list_select_related = ["inspection"]

    @admin.display(description="问题描述")
    def short_text(self, problem: Problem) -> str:
        return problem.text[:60]


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
class TaskAdmin(UnitScopedAdmin):
    task_path = ""

    list_display = ["title", "lead_unit", "status", "deadline", "overdue", "inspection"]
    list_filter = ["status", "task_type", OverdueFilter, "inspection", "lead_unit"]
    search_fields = ["title", "measures", "responsible_leader", "responsible_person",
                     "problem__text"]
    list_select_related = ["lead_unit", "inspection"]
    autocomplete_fields = ["lead_unit", "supporting_units", "problem"]
    readonly_fields = ["inspection", "status", "original_deadline", "progress_percent",
                       "started_at", "completed_at", "closed_at", "version", "created_at",
                       "updated_at"]
    inlines = [ProgressReportInline, EvidenceInline, ExtensionInline, TaskEventInline]
    actions = ["close_selected"]

    @admin.display(description="逾期", boolean=True)
    def overdue(self, task: Task) -> bool:
        return task.is_overdue

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                fields = {f: data[f] for f in task_services.EDITABLE_FIELDS if f in data}
                updated = task_services.task_update(
                    task=Task.objects.get(pk=obj.pk), actor=request.user,
                    supporting_units=data.get("supporting_units"), **fields,
                )
            else:
                updated = task_services.task_create(
                    problem=data["problem"], actor=request.user, title=data["title"],
                    measures=data.get("measures", ""), task_type=data["task_type"],
                    lead_unit=data["lead_unit"], deadline=data.get("deadline"),
                    supporting_units=data.get("supporting_units") or (),
                    responsible_leader=data.get("responsible_leader", ""),
                    responsible_person=data.get("responsible_person", ""),
                )
        except DomainError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            return
        obj.pk = updated.pk

    def save_related(self, request, form, formsets, change):
        # Supporting units were set by the service; the inlines are read-only.
        return

    @admin.action(description="审核销号所选的已提交任务")
    def close_selected(self, request, queryset):
        closed = 0
        for task in queryset.filter(status=TaskStatus.SUBMITTED):
            try:
                task_services.task_close(task=task, actor=request.user, note="后台批量销号")
                closed += 1
            except DomainError as error:
                self.message_user(request, f"{task}：{error.message}", level=messages.WARNING)
        self.message_user(request, f"已销号{closed}项任务")


@admin.register(TaskEvent)
class TaskEventAdmin(UnitScopedAdmin, ImmutableRecordAdmin):
    list_display = ["at", "task", "action", "from_status", "to_status", "actor"]
    list_filter = ["action", "to_status", "task__inspection"]
    search_fields = ["task__title", "note", "actor__username", "actor__full_name"]
    list_select_related = ["task", "actor"]
    date_hierarchy = "at"


@admin.register(ProgressReport)
class ProgressReportAdmin(UnitScopedAdmin, ImmutableRecordAdmin):
    list_display = ["created_at", "task", "author", "percent"]
    list_filter = ["task__inspection", "task__lead_unit"]
    search_fields = ["note", "task__title"]
    list_select_related = ["task", "author"]


@admin.register(Evidence)
class EvidenceAdmin(UnitScopedAdmin, RecordAdmin):
    list_display = ["uploaded_at", "original_name", "task", "uploaded_by", "size"]
    list_filter = ["task__inspection", "task__lead_unit"]
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
class DeadlineExtensionAdmin(UnitScopedAdmin, RecordAdmin):
    list_display = ["task", "previous_deadline", "requested_deadline", "status", "requested_by",
                    "decided_by"]
    list_filter = ["status", "task__inspection", "task__lead_unit"]
    search_fields = ["task__title", "reason"]
    list_select_related = ["task", "requested_by", "decided_by"]
    readonly_fields = ["task", "requested_by", "requested_at", "previous_deadline",
                       "requested_deadline", "reason", "status", "decided_by", "decided_at",
                       "decision_note"]


# --- Reminders ---------------------------------------------------------------------------


@admin.register(Reminder)
class ReminderAdmin(ImmutableRecordAdmin):
    list_display = ["recorded_on", "task", "stage", "level", "deadline", "recipient_user",
                    "recipient_unit", "notification"]
    list_filter = ["stage", "level", "recorded_on"]
    search_fields = ["task__title", "recipient_user__username", "recipient_user__full_name"]
    list_select_related = ["task", "recipient_user", "recipient_unit", "notification"]
    raw_id_fields = ["task", "recipient_user", "recipient_unit", "notification"]
    date_hierarchy = "recorded_on"


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    fields = ["channel", "status", "attempts", "sent_at", "last_error"]
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(RecordAdmin):
    list_display = ["day", "kind", "title", "recipient_user", "recipient_unit", "read_at"]
    list_filter = ["kind", "day"]
    search_fields = ["title", "recipient_user__username", "recipient_user__full_name"]
    list_select_related = ["recipient_user", "recipient_unit"]
    readonly_fields = ["kind", "recipient_user", "recipient_unit", "day", "title", "body",
                       "items", "created_at", "read_at"]
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(RecordAdmin):
    list_display = ["created_at", "notification", "channel", "status", "attempts", "sent_at",
                    "last_error"]
    list_filter = ["status", "channel"]
    list_select_related = ["notification"]
    readonly_fields = ["notification", "channel", "status", "attempts", "last_error",
                       "created_at", "claimed_at", "next_attempt_at", "sent_at"]
    actions = ["retry_failed"]

    @admin.action(description="重新发送选中的失败记录")
    def retry_failed(self, request, queryset):
        queued = sum(delivery_retry(delivery=d) for d in queryset.filter(status="failed"))
        self.message_user(request, f"已重新排队{queued}条发送记录")


@admin.register(DispatchRequest)
class DispatchRequestAdmin(RecordAdmin):
    list_display = ["month", "unit", "open_tasks", "report_by", "created_at"]
    list_filter = ["month"]
    list_select_related = ["unit"]
    readonly_fields = ["unit", "month", "report_by", "open_tasks", "created_at"]
