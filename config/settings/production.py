"""Production: PostgreSQL and Redis by URL, HTTPS, secrets required from the environment."""

from config.error_reporting import init_error_reporting

from .base import *  # noqa: F403
from .base import build_logging, env, postgres_session_options

SECRET_KEY = env.str("SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES = {"default": postgres_session_options(env.db("DATABASE_URL"))}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
# No uploaded ledger is parsed in the web process, however small: the worker, with its time
# limits, does it (docs/operations.md §15).
TRACKER_LEDGER_IMPORTS_IN_WORKER = env.bool("TRACKER_LEDGER_IMPORTS_IN_WORKER", default=True)

# One cache for every process on every machine: the API's throttles (and anything else counted
# in the cache) must add up across gunicorn workers and web servers, not per process. Redis db 1
# by default, beside the broker's db 0. Sessions stay in the database, which every web server
# shares; the login waits are counted in the database too (tracker.services.auth).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("CACHE_URL", default="redis://127.0.0.1:6379/1"),
        "KEY_PREFIX": "tracker",
        "TIMEOUT": 300,
    }
}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

# HTTPS is terminated by the reverse proxy in front of the app (deploy/nginx/tracker.conf, or
# the intranet's own proxy): it sets X-Forwarded-Proto, which Django trusts here. The app server
# must be reachable only through that proxy (gunicorn on loopback, docs/operations.md §13), or a
# client could send the header itself.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Health probes talk to the app server directly over plain HTTP (compose's healthcheck,
# systemd, a load balancer's check): they get an answer, not a redirect to an address that
# has no TLS.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Celery queues by kind of work (config/celery_queues.py); deploy/ runs a worker per queue.
# CELERY_QUEUES_BY_KIND=False puts everything back on one queue for a single-worker site.
if env.bool("CELERY_QUEUES_BY_KIND", default=True):
    from config import celery_queues

    CELERY_TASK_QUEUES = celery_queues.task_queues()
    CELERY_TASK_DEFAULT_QUEUE = celery_queues.SWEEPS
    CELERY_TASK_ROUTES = celery_queues.ROUTES

# JSON lines with request id and user id for the log collector (LOG_FORMAT=plain to read by eye).
LOGGING = build_logging(
    level=env.str("LOG_LEVEL", default="INFO"), fmt=env.str("LOG_FORMAT", default="json")
)

# Crash reports (config/error_reporting.py): off unless SENTRY_DSN names the intranet's server.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
init_error_reporting(
    dsn=SENTRY_DSN,
    environment=env.str("SENTRY_ENVIRONMENT", default="production"),
    release=env.str("SENTRY_RELEASE", default=None),
)
