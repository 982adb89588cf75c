from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "整改台账"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from config.session_limits import start_session_clocks
        from tracker.services.auth import reauth_on_login

        user_logged_in.connect(start_session_clocks, dispatch_uid="tracker.session_clocks")
        user_logged_in.connect(reauth_on_login, dispatch_uid="tracker.reauth_on_login")

        from tracker.admin import unregister_secret_admins

        unregister_secret_admins()
