"""The admin of outbound webhooks (外部推送): administrators only (tracker.access.
may_manage_webhooks); supervisors and officers never see it. Endpoints are added and changed
through tracker.webhooks.services; deliveries are records, read-only, sent again (重新发送)
through the service. A signing secret is shown once, when it is made (on adding an endpoint
or with 重新生成签名密钥), never on any page afterwards.

Registered from tracker.admin (imported at its end)."""

import json

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html

from tracker import access
from tracker.admin import ReauthMixin, _may_use_admin
from tracker.errors import DomainError
from tracker.models import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
)
from tracker.webhooks import services


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
        services.webhook_endpoint_save(endpoint=obj, actor=request.user, now=timezone.now())
        if not change:
            _show_secret_once(self, request, obj, obj.secret)

    @admin.action(description="重新生成签名密钥（旧密钥立即失效）", permissions=["change"])
    def rotate_secret_selected(self, request, queryset):
        for endpoint in queryset:
            secret = services.webhook_endpoint_rotate_secret(
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
                done += services.webhook_delivery_resend(
                    delivery=delivery, actor=request.user, now=timezone.now())
            except DomainError as error:
                self.message_user(request, f"{delivery}：{error.message}", level=messages.WARNING)
        self.message_user(request, f"已重新排队{done}条")
