from django.contrib import admin

from reports.models import ExtractedFigure, ExtractedItem, SourceReport


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


@admin.register(SourceReport)
class SourceReportAdmin(admin.ModelAdmin):
    list_display = ["title", "original_name", "issuing_body", "year", "report_date",
                    "inspection", "imported_at"]
    list_filter = ["format", "year", "inspection"]
    search_fields = ["title", "original_name", "issuing_body", "text"]
    fields = ["title", "original_name", "format", "encoding", "size", "sha256", "issuing_body",
              "year", "period", "report_date", "inspection", "imported_by", "imported_at", "text"]
    readonly_fields = ["title", "original_name", "format", "encoding", "size", "sha256",
                       "issuing_body", "year", "period", "imported_by", "imported_at", "text"]
    inlines = [ExtractedFigureInline, ExtractedItemInline]

    def has_add_permission(self, request):
        return False  # reports come in through the import (page, API or command)


@admin.register(ExtractedFigure)
class ExtractedFigureAdmin(admin.ModelAdmin):
    list_display = ["quote", "kind", "body", "total", "completed", "review_state", "inspection"]
    list_filter = ["kind", "review_state", "inspection"]
    search_fields = ["quote", "body"]
    list_select_related = ["inspection"]
    readonly_fields = [f.name for f in ExtractedFigure._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ExtractedItem)
class ExtractedItemAdmin(admin.ModelAdmin):
    list_display = ["text", "kind", "position", "review_state", "report"]
    list_filter = ["kind", "review_state"]
    search_fields = ["text"]
    list_select_related = ["report"]
    readonly_fields = [f.name for f in ExtractedItem._meta.fields]

    def has_add_permission(self, request):
        return False
