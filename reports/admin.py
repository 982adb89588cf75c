"""Admin for report documents: scoped like the API (tracker.access.visible_reports_q), every
write through reports.services."""

from django.contrib import admin
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from reports import services
from reports.models import ExtractedFigure, ExtractedItem, ItemKind, ReviewState, SourceReport
from reports.selectors import reconciliation
from tracker import access
from tracker.admin import ScopedAdminMixin, related_only
from tracker.errors import DomainError
from tracker.models import Inspection


class ExtractedFigureInline(admin.TabularInline):
    model = ExtractedFigure
    extra = 0
    can_delete = False
    fields = ["kind", "body", "total", "completed", "basically_completed", "long_term",
              "not_completed", "quote", "review_state", "inspection"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class ExtractedItemInline(admin.TabularInline):
    model = ExtractedItem
    extra = 0
    can_delete = False
    fields = ["kind", "position", "text", "review_state", "problem", "task"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


def _findings(report: SourceReport, user) -> list[str]:
    """The disagreement sentences of the report's confirmed figures, each inspection
    reconciled once, as the user sees the ledger."""
    inspection_ids = (
        report.figures.filter(review_state=ReviewState.CONFIRMED)
        .values_list("inspection_id", flat=True).distinct()
    )
    sentences = []
    for inspection in Inspection.objects.filter(pk__in=inspection_ids).order_by("pk"):
        for result in reconciliation(user=user, inspection=inspection):
            if result.figure.report_id != report.pk:
                continue
            sentences.extend(
                f"{inspection.title}：{d.message}" for d in result.disagreements
            )
    return sentences


def _sentence_list(sentences: list[str], empty: str):
    if not sentences:
        return empty
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>",
                                                       ((s,) for s in sentences)))


@admin.register(SourceReport)
class SourceReportAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "original_name", "issuing_body", "year", "report_date",
                    "inspection", "imported_at"]
    list_filter = ["format", "year", *related_only("inspection")]
    search_fields = ["title", "original_name", "issuing_body", "text"]
    list_select_related = ["inspection"]
    fields = ["title", "original_name", "format", "encoding", "size", "sha256", "issuing_body",
              "year", "period", "report_date", "inspection", "reconciliation_findings",
              "imported_by", "imported_at", "text"]
    readonly_fields = ["title", "original_name", "format", "encoding", "size", "sha256",
                       "issuing_body", "year", "period", "reconciliation_findings",
                       "imported_by", "imported_at", "text"]
    inlines = [ExtractedFigureInline, ExtractedItemInline]
    choice_scopes = {"inspection": access.visible_inspections_q}
    # Reports come in through the import (page, API or command): never added here.
    scope_rule = staticmethod(access.visible_reports_q)
    change_rule = staticmethod(access.may_manage_report)

    def get_object(self, request, object_id, from_field=None):
        report = super().get_object(request, object_id, from_field)
        if report is not None:
            report._viewer = request.user  # the findings read the ledger as this user sees it
        return report

    @admin.display(description="对账发现（报告数据与台账不一致之处）")
    def reconciliation_findings(self, report: SourceReport):
        viewer = getattr(report, "_viewer", None)
        if viewer is None:
            return "—"
        return _sentence_list(
            _findings(report, viewer),
            "无不一致之处（仅核对已确认并关联巡视巡察的整改进度数据）",
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        services.report_update(
            report=SourceReport.objects.get(pk=obj.pk), actor=request.user,
            report_date=data.get("report_date"), inspection=data.get("inspection"),
        )


def _report_inspection(extracted) -> Inspection:
    """The inspection a figure or item is confirmed into: the one its report is linked to."""
    if extracted.report.inspection is None:
        raise DomainError("报告尚未关联巡视巡察，请先在报告文件中选择")
    return extracted.report.inspection


class ExtractedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """What a report proposes: seen and reviewed (by actions) with the report, never edited."""

    def scope_q(self, request):
        return Q(report__in=SourceReport.objects.filter(access.visible_reports_q(request.user)))

    def may_act(self, request, extracted):
        return extracted is None or access.may_manage_report(request.user, extracted.report)


@admin.register(ExtractedFigure)
class ExtractedFigureAdmin(ExtractedAdmin):
    list_display = ["quote", "kind", "body", "total", "completed", "review_state", "inspection",
                    "report"]
    list_filter = ["kind", "review_state", *related_only("inspection")]
    search_fields = ["quote", "body"]
    list_select_related = ["inspection", "report"]
    readonly_fields = [f.name for f in ExtractedFigure._meta.fields]
    actions = ["confirm_selected", "reject_selected"]

    @admin.action(description="确认所选报告数据（关联到报告对应的巡视巡察）", permissions=["act"])
    def confirm_selected(self, request, queryset):
        def confirm(figure):
            services.figure_confirm(figure=figure, actor=request.user,
                                    inspection=_report_inspection(figure))

        self.run_action(request, queryset.select_related("report__inspection"), "确认", confirm)

    @admin.action(description="驳回所选报告数据", permissions=["act"])
    def reject_selected(self, request, queryset):
        self.run_action(request, queryset, "驳回",
                        lambda figure: services.figure_reject(figure=figure, actor=request.user))


@admin.register(ExtractedItem)
class ExtractedItemAdmin(ExtractedAdmin):
    list_display = ["text", "kind", "position", "review_state", "report"]
    list_filter = ["kind", "review_state"]
    search_fields = ["text"]
    list_select_related = ["report"]
    readonly_fields = [*(f.name for f in ExtractedItem._meta.fields), "how_to_confirm"]
    actions = ["confirm_problems_selected", "reject_selected"]

    @admin.display(description="如何确认")
    def how_to_confirm(self, item: ExtractedItem):
        if item.review_state != ReviewState.PROPOSED:
            return "已处理"
        page = reverse("reports_web:report_detail", args=[item.report_id])
        if item.kind == ItemKind.PROBLEM:
            return format_html(
                "在列表中选中后执行“确认为反馈问题”，或在<a href=\"{}\">报告页面</a>逐条确认"
                "（可指定方面）",
                page,
            )
        return format_html(
            "确认为整改任务须指定所属问题、牵头单位和完成时限：请在<a href=\"{}\">报告页面</a>"
            "逐条确认，或通过接口 POST {}",
            page, f"/api/v1/reports/items/{item.pk}/confirm-as-task/",
        )

    @admin.action(description="确认为反馈问题（报告对应的巡视巡察，排在最后）",
                  permissions=["act"])
    def confirm_problems_selected(self, request, queryset):
        def confirm(item):
            services.item_confirm_as_problem(item=item, actor=request.user,
                                             inspection=_report_inspection(item))

        self.run_action(request, queryset.select_related("report__inspection"), "确认", confirm)

    @admin.action(description="驳回所选条目", permissions=["act"])
    def reject_selected(self, request, queryset):
        self.run_action(request, queryset, "驳回",
                        lambda item: services.item_reject(item=item, actor=request.user))
