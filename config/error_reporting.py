"""Crash reports to a Sentry-compatible server inside the intranet (Sentry, GlitchTip), off
unless SENTRY_DSN is set. Nothing is sent anywhere else: the DSN names the only host.

Django's request errors and Celery task failures are reported with the request id that
config/logging.py gives every log line, so a report leads to its log lines. No personal data
(send_default_pii=False): no cookies, no form bodies, no user names.
"""


def init_error_reporting(*, dsn: str, environment: str, release: str | None) -> bool:
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        traces_sample_rate=0.0,
        before_send=_with_request_id,
    )
    return True


def _with_request_id(event: dict, hint: dict) -> dict:
    from config.logging import current_request_id

    request_id = current_request_id()
    if request_id is not None:
        event.setdefault("tags", {})["request_id"] = request_id
    return event
