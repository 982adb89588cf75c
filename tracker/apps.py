from django.apps import AppConfig


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "整改台账"
    default_auto_field = "django.db.models.BigAutoField"
