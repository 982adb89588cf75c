from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "报告与统计"
    default_auto_field = "django.db.models.BigAutoField"
