"""Settings shared by every environment.

Every value that differs between a laptop and production is read from the environment;
the defaults are the embedded ones (SQLite under var/, a broker that needs no server), so
`make run` works on a machine with nothing but Python.
"""

import datetime
from pathlib import Path

import environ
from celery.schedules import crontab

from config.logging import build_logging

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")

# Runtime state of the embedded set-up: the SQLite file, broker messages, uploaded evidence.
VAR_DIR = Path(env.str("TRACKER_VAR_DIR", default=str(BASE_DIR / "var")))

# --- Core --------------------------------------------------------------------------------
SECRET_KEY = env.str("SECRET_KEY", default="insecure-local-only-key-change-me-in-production")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    # TOTP second factor (动态验证码) for supervisors and administrators; before tracker, whose
    # admin unregisters the device admin (it would show the keys).
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Before django.contrib.auth: its `changepassword` command changes passwords through
    # tracker.services.users (which revokes the user's API tokens).
    "tracker",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    # Request counts and latency for /metrics/ (config/metrics.py).
    "django_prometheus",
    # Bootstrap's CSS and JS shipped as static files (pages for people).
    "bootstrap",
    "reports",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.logging.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response, static files included (config/csp.py).
    "config.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication and messages: it signs out and says why.
    "config.session_limits.SessionLimitsMiddleware",
    "config.login_device.LoginDeviceCookieMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.navigation",
                "config.context_processors.holiday_banner",
            ],
            "libraries": {"routes": "config.routes"},
        },
    },
]

# --- Database ----------------------------------------------------------------------------
def postgres_session_options(database: dict) -> dict:
    """PostgreSQL's JIT compilation is off for our connections unless POSTGRES_JIT=on: the
    scoped rollups' row estimates are inflated enough to trigger it, and compiling then costs
    more than the query (issue #13 measured 5-10x the plain plan at 100k tasks)."""
    if database["ENGINE"] == "django.db.backends.postgresql":
        options = database.setdefault("OPTIONS", {})
        jit = "on" if env.bool("POSTGRES_JIT", default=False) else "off"
        options["options"] = f"{options.get('options', '')} -c jit={jit}".strip()
    return database


DATABASES = {
    "default": postgres_session_options(
        env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'tracker.sqlite3'}")
    ),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default lives under var/; SQLite cannot create the folder itself.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The rollups' covering index (INCLUDE) is a PostgreSQL feature; SQLite builds a plain one.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
    # Several processes (web, worker, beat) share the file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tracker.User"
# Django's backend with the user's units fetched alongside (config/auth.py).
AUTHENTICATION_BACKENDS = ["config.auth.UserBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "home"
# Session limits (config/session_limits.py): signed out after this much inactivity, and in any
# case this long after signing in. The cookie itself does not outlive the absolute limit.
SESSION_IDLE_TIMEOUT_SECONDS = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=30 * 60)
SESSION_ABSOLUTE_LIFETIME_SECONDS = env.int(
    "SESSION_ABSOLUTE_LIFETIME_SECONDS", default=12 * 60 * 60
)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_LIFETIME_SECONDS
LOGOUT_REDIRECT_URL = "web:login"

# --- Language and time -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files -----------------------------------------------------------
# Everything a page loads is served by the project itself (government intranets: no CDN).
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Evidence files are private: kept outside any public URL and streamed only after a
# permission check, so there is deliberately no MEDIA_URL route.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
# /health/ready/ (config/health.py): the scheduler's heartbeat is stamped every
# BEAT_HEARTBEAT_SECONDS; older than this means beat or the workers are down.
HEALTH_HEARTBEAT_MAX_AGE_SECONDS = env.int("HEALTH_HEARTBEAT_MAX_AGE_SECONDS", default=300)
HEALTH_MIN_FREE_BYTES = env.int("HEALTH_MIN_FREE_BYTES", default=1024**3)
HEALTH_BROKER_TIMEOUT_SECONDS = env.float("HEALTH_BROKER_TIMEOUT_SECONDS", default=2.0)
# Evidence files no row names (a rolled-back upload) are deleted by the nightly sweep once
# older than this, so an upload still in flight is never touched.
EVIDENCE_ORPHAN_GRACE_HOURS = env.int("EVIDENCE_ORPHAN_GRACE_HOURS", default=24)
# Who may read /metrics/ (config/metrics.py): the monitoring server's addresses, as seen
# through NUM_PROXIES. Everyone else gets 404.
METRICS_ALLOWED_ADDRESSES = env.list("METRICS_ALLOWED_ADDRESSES", default=["127.0.0.1"])
# manage.py backup writes here by default (docs/operations.md: schedule and retention).
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(VAR_DIR / "backups")))
# How often a process compares its working-day calendar with the holiday overrides' generation
# counter in the database (tracker.workdays): a change made elsewhere applies within this time.
WORKDAY_CALENDAR_RECHECK_SECONDS = env.float("WORKDAY_CALENDAR_RECHECK_SECONDS", default=5.0)
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=20 * 1024 * 1024)
EVIDENCE_ALLOWED_EXTENSIONS = env.list(
    "EVIDENCE_ALLOWED_EXTENSIONS",
    default=["pdf", "doc", "docx", "xls", "xlsx", "jpg", "jpeg", "png", "txt", "csv", "zip", "ofd"],
)

# --- E-mail ------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="整改督办系统 <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Cache ------------------------------------------------------------------------------
# Shared by every process of one installation: the web server and the worker (which creates
# tasks from imported ledgers) must agree on what is cached (tracker.selectors'
# inspection filter). Embedded default: files under var/cache, no server; production uses
# Redis (config/settings/production.py).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
        "TIMEOUT": 300,
    }
}

# --- Celery ------------------------------------------------------------------------------
# Embedded default: kombu's filesystem transport, a folder of message files that needs no
# server. Production sets CELERY_BROKER_URL=redis://...
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),  # default: ./control in the cwd
        "store_processed": False,
    }
else:
    # Redis redelivers a message not acknowledged within this time; no task here uses an
    # ETA or countdown anywhere near it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None) or None
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 10 * 60
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# The one place the periodic work is declared. django-celery-beat copies these entries into
# its tables at start-up, where the admin can change their times.
CELERY_BEAT_SCHEDULE = {
    "beat-heartbeat": {
        "task": "tracker.tasks.beat_heartbeat",
        "schedule": env.float("BEAT_HEARTBEAT_SECONDS", default=30.0),
    },
}

# --- REST framework ----------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first, so an anonymous request gets 401 with a WWW-Authenticate header. Tokens are
    # per client, hashed, expiring and revocable (tracker.models.ApiToken).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Deny by default: authenticated and active, then the view's rule for the action.
    "DEFAULT_PERMISSION_CLASSES": ["config.api.permissions.TrackerPermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "tracker.api.filters.AliasOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.PageNumberPagination",
    # JSON bodies nested too deep are a 400, never a RecursionError (config/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "config.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "config.api.throttling.AnonThrottle",
        "config.api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_ANON_THROTTLE_RATE", default="30/minute"),
        "user": env.str("API_USER_THROTTLE_RATE", default="1200/minute"),
    },
    # Behind the intranet's reverse proxy: how many X-Forwarded-For hops to trust when
    # identifying a client's address (throttling and the login lockout).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=None),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "巡视整改任务跟踪 API",
    "DESCRIPTION": "整改台账、进展填报、销号审核、延期审批与督办提醒的接口。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The schema and the docs are for signed-in users like every other URL.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Separate request and response components, so read-only fields are not asked for.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.add_error_responses",
        "config.api.schema.refuse_unknown_request_fields",
    ],
    "ENUM_NAME_OVERRIDES": {
        "TaskStatusEnum": "tracker.models.tasks.TaskStatus",
        "ExtensionStatusEnum": "tracker.models.tasks.ExtensionStatus",
        "InspectionKindEnum": "tracker.models.inspections.InspectionKind",
        "TaskTypeEnum": "tracker.models.tasks.TaskType",
        "CommentKindEnum": "tracker.models.comments.CommentKind",
        "NoticeStateEnum": "tracker.models.notices.NoticeState",
        "NoticeColourEnum": "tracker.models.notices.NoticeColour",
    },
}

# --- Domain ------------------------------------------------------------------------------
# Lights (红黄绿灯), one rule for every face (tracker/deadlines.py, README "红黄绿灯"): a task
# due within this many working days (due today included) is yellow, an overdue one red.
# The old names ROLLUP_LIGHT_YELLOW_DUE_WITHIN_WORKDAYS and TRACKER_DUE_SOON_WORKING_DAYS are
# still read as fallbacks.
TRACKER_LIGHT_YELLOW_WITHIN_WORKDAYS = env.int(
    "TRACKER_LIGHT_YELLOW_WITHIN_WORKDAYS",
    default=env.int(
        "ROLLUP_LIGHT_YELLOW_DUE_WITHIN_WORKDAYS",
        default=env.int("TRACKER_DUE_SOON_WORKING_DAYS", default=3),
    ),
)

# --- Logging -----------------------------------------------------------------------------
# One line per event with the request's id and user (config/logging.py); production defaults
# to JSON lines for the log collector.
LOGGING = build_logging(
    level=env.str("LOG_LEVEL", default="INFO"), fmt=env.str("LOG_FORMAT", default="plain")
)

# --- Reminders ---------------------------------------------------------------------------
# Stages in working days relative to the deadline (see tracker/reminders/rules.py): notices
# before it (0 = on the day), overdue on the first working day after it, escalation (督办) to
# the supervisors after N working days overdue, a second level after M more. A stage's light
# follows TRACKER_LIGHT_YELLOW_WITHIN_WORKDAYS.
TRACKER_REMINDER_BEFORE_WORKDAYS = env.list(
    "TRACKER_REMINDER_BEFORE_WORKDAYS", cast=int, default=[7, 3, 0]
)
TRACKER_REMINDER_ESCALATE_AFTER_WORKDAYS = env.int(
    "TRACKER_REMINDER_ESCALATE_AFTER_WORKDAYS", default=5
)
TRACKER_REMINDER_ESCALATE_AGAIN_AFTER_WORKDAYS = env.int(
    "TRACKER_REMINDER_ESCALATE_AGAIN_AFTER_WORKDAYS", default=5
)
# Tasks per claim-and-record batch, recipients per digest batch (one queued message each).
TRACKER_REMINDER_BATCH_SIZE = env.int("TRACKER_REMINDER_BATCH_SIZE", default=1000)
TRACKER_DIGEST_BATCH_SIZE = env.int("TRACKER_DIGEST_BATCH_SIZE", default=200)
# At most this many tasks are listed in one message; the rest are counted.
TRACKER_DIGEST_MAX_ITEMS = env.int("TRACKER_DIGEST_MAX_ITEMS", default=30)
# Sending: retries with exponential backoff (seconds, capped well under the broker's
# visibility timeout), then the delivery is marked failed for the admin.
TRACKER_DELIVERY_MAX_RETRIES = env.int("TRACKER_DELIVERY_MAX_RETRIES", default=5)
TRACKER_DELIVERY_RETRY_BACKOFF_MAX = env.int("TRACKER_DELIVERY_RETRY_BACKOFF_MAX", default=600)
# The sending lease: a worker renews it every third of this while it sends a batch, so a
# claim ("sending", or the rest of a batch a worker took) older than this belongs to a worker
# that died, and the requeue (every TRACKER_DELIVERY_REQUEUE_SECONDS, beat) sends it again.
TRACKER_DELIVERY_LEASE_SECONDS = env.int("TRACKER_DELIVERY_LEASE_SECONDS", default=90)
TRACKER_DELIVERY_REQUEUE_SECONDS = env.int("TRACKER_DELIVERY_REQUEUE_SECONDS", default=30)
# A queued batch that no worker has taken after this long is taken for lost and queued again.
TRACKER_DELIVERY_QUEUE_TIMEOUT_SECONDS = env.int(
    "TRACKER_DELIVERY_QUEUE_TIMEOUT_SECONDS", default=10 * 60
)
TRACKER_WEBHOOK_TIMEOUT = env.float("TRACKER_WEBHOOK_TIMEOUT", default=10.0)
# Outbound webhooks (tracker.webhooks.services): each POST is bounded by this timeout (keep it
# well under TRACKER_DELIVERY_LEASE_SECONDS); a failed try waits BACKOFF × 2^(n-1) seconds,
# capped at BACKOFF_MAX, and after MAX_ATTEMPTS tries the delivery is recorded as failed.
TRACKER_OUTBOUND_WEBHOOK_TIMEOUT = env.float("TRACKER_OUTBOUND_WEBHOOK_TIMEOUT", default=10.0)
TRACKER_OUTBOUND_WEBHOOK_MAX_ATTEMPTS = env.int("TRACKER_OUTBOUND_WEBHOOK_MAX_ATTEMPTS", default=8)
TRACKER_OUTBOUND_WEBHOOK_BACKOFF_SECONDS = env.int(
    "TRACKER_OUTBOUND_WEBHOOK_BACKOFF_SECONDS", default=30
)
TRACKER_OUTBOUND_WEBHOOK_BACKOFF_MAX_SECONDS = env.int(
    "TRACKER_OUTBOUND_WEBHOOK_BACKOFF_MAX_SECONDS", default=3600
)
# Monthly dispatch (按月调度): from this day of the month on, every unit with open tasks is
# asked once per month to report progress within this many working days.
TRACKER_DISPATCH_DAY = env.int("TRACKER_DISPATCH_DAY", default=25)
TRACKER_DISPATCH_REPORT_WITHIN_WORKDAYS = env.int(
    "TRACKER_DISPATCH_REPORT_WITHIN_WORKDAYS", default=5
)
# Links in messages point here (empty: no link).
TRACKER_SITE_URL = env.str("TRACKER_SITE_URL", default="")
# Review deadline (审核时限, issue 11): a submitted task is to be closed or sent back within
# this many working days of its submission; its supervisors are reminded this many working
# days before, and escalated to the next supervisors up this many working days after it.
REVIEW_WITHIN_WORKDAYS = env.int("REVIEW_WITHIN_WORKDAYS", default=5)
REVIEW_REMIND_BEFORE_WORKDAYS = env.int("REVIEW_REMIND_BEFORE_WORKDAYS", default=1)
REVIEW_ESCALATE_AFTER_WORKDAYS = env.int("REVIEW_ESCALATE_AFTER_WORKDAYS", default=1)
# 签收 (docs/acknowledgement.md): a new assignment not acknowledged by its lead unit within
# this many working days reminds the unit's officers; after this many, it is escalated to the
# task's supervisors. Once per stage per assignment.
ACK_REMIND_WORKDAYS = env.int("ACK_REMIND_WORKDAYS", default=2)
ACK_ESCALATE_WORKDAYS = env.int("ACK_ESCALATE_WORKDAYS", default=5)

# The sweeps select on state, so running them often is harmless and catches up after any
# outage; the digest still goes out at most once per person per day. The admin
# (django-celery-beat) can change these times.
CELERY_BEAT_SCHEDULE.update(
    {
        "reminders-sweep": {
            "task": "tracker.tasks.reminders_sweep",
            "schedule": crontab(
                minute=env.str("TRACKER_REMINDER_SWEEP_MINUTE", default="30"),
                hour=env.str("TRACKER_REMINDER_SWEEP_HOURS", default="8-20"),
            ),
        },
        # Prompt recovery of what a dead worker was sending (notifications.deliveries_requeue).
        "deliveries-requeue": {
            "task": "tracker.tasks.deliveries_requeue",
            "schedule": float(TRACKER_DELIVERY_REQUEUE_SECONDS),
        },
        # Outbound webhooks: retries whose backoff has passed, lost messages, dead workers.
        "webhooks-requeue": {
            "task": "tracker.tasks.webhook_deliveries_requeue",
            "schedule": float(TRACKER_DELIVERY_REQUEUE_SECONDS),
        },
        "dispatch-monthly": {
            "task": "tracker.tasks.dispatch_monthly",
            "schedule": crontab(minute="0", hour=env.str("TRACKER_DISPATCH_HOUR", default="9")),
        },
        "login-failures-purge": {
            "task": "tracker.tasks.login_failures_purge",
            "schedule": crontab(minute="15", hour="3"),
        },
        "evidence-orphans-sweep": {
            "task": "tracker.tasks.evidence_orphans_sweep",
            "schedule": crontab(minute="45", hour="3"),
        },
        # 督办单 unanswered after the reply-by day (issue 15): once per part, on working
        # mornings' first run; kept apart from the reminders sweep.
        "notice-overdue-remind": {
            "task": "tracker.tasks.notice_overdue_remind",
            "schedule": crontab(minute="10", hour=env.str("TRACKER_NOTICE_REMIND_HOUR",
                                                          default="9")),
        },
        # 回头看 (issue 15): re-checks falling due today, reminders for unreported ones.
        "rechecks-sweep": {
            "task": "tracker.tasks.rechecks_sweep",
            "schedule": crontab(minute="20", hour=env.str("TRACKER_RECHECK_HOUR", default="9")),
        },
    }
)

# 回头看 (docs/rechecks.md): a closure schedules a re-check this many months later by default;
# a due re-check not reported after this many working days reminds the lead unit, and after
# the second number its supervisors.
RECHECK_DEFAULT_MONTHS = env.int("RECHECK_DEFAULT_MONTHS", default=6)
RECHECK_REMIND_AFTER_WORKDAYS = env.int("RECHECK_REMIND_AFTER_WORKDAYS", default=5)
RECHECK_ESCALATE_AFTER_WORKDAYS = env.int("RECHECK_ESCALATE_AFTER_WORKDAYS", default=10)

# Deadlines (tracker.deadlines.ensure_deadline_in_bounds): none later than this many years
# from today, none earlier than this date.
DEADLINE_HORIZON_YEARS = env.int("DEADLINE_HORIZON_YEARS", default=10)
DEADLINE_EARLIEST = datetime.date.fromisoformat(env.str("DEADLINE_EARLIEST", default="2000-01-01"))

# --- Rollups -----------------------------------------------------------------------------
# Trend series: at most this many periods (weeks or months) in one response.
ROLLUP_TREND_MAX_PERIODS = env.int("ROLLUP_TREND_MAX_PERIODS", default=260)

# --- Excel ledger ------------------------------------------------------------------------
# Limits on an imported ledger (整改台账) file: its size in bytes and its number of rows.
TRACKER_LEDGER_MAX_BYTES = env.int("TRACKER_LEDGER_MAX_BYTES", default=10 * 1024 * 1024)
TRACKER_LEDGER_MAX_ROWS = env.int("TRACKER_LEDGER_MAX_ROWS", default=20000)
# Checked before parsing: the columns a sheet may declare or merge over, and the zip's declared
# uncompressed size (all parts together).
TRACKER_LEDGER_MAX_COLUMNS = env.int("TRACKER_LEDGER_MAX_COLUMNS", default=100)
TRACKER_LEDGER_MAX_UNZIPPED_BYTES = env.int(
    "TRACKER_LEDGER_MAX_UNZIPPED_BYTES", default=256 * 1024 * 1024
)
# Imports and exports of more rows than this run as a Celery job with a progress bar.
TRACKER_LEDGER_SYNC_MAX_ROWS = env.int("TRACKER_LEDGER_SYNC_MAX_ROWS", default=300)
# True: every uploaded ledger is parsed by the worker, however small (production's default: no
# upload is parsed in the web process). False: a small one (bounds checked first) is previewed
# at once, as the embedded run does.
TRACKER_LEDGER_IMPORTS_IN_WORKER = env.bool("TRACKER_LEDGER_IMPORTS_IN_WORKER", default=False)
# A ledger job (preview, apply or export) past the soft limit fails with a Chinese message;
# the hard limit kills it. 20,000 rows take well under a minute (docs/ledger-excel.md).
TRACKER_LEDGER_JOB_SOFT_TIME_LIMIT = env.int("TRACKER_LEDGER_JOB_SOFT_TIME_LIMIT", default=600)
TRACKER_LEDGER_JOB_TIME_LIMIT = env.int("TRACKER_LEDGER_JOB_TIME_LIMIT", default=660)

# --- API ---------------------------------------------------------------------------------
# Login waits (tracker.services.auth): failures are counted per account at an address and per
# address across accounts, within a window. From the LOGIN_LOCKOUT_FAILURES-th failure on, each
# further one makes that key wait, doubling from LOGIN_DELAY_BASE_SECONDS up to
# LOGIN_LOCKOUT_SECONDS. A browser that signed in as the account before (device cookie) is not
# held by its address's count.
LOGIN_LOCKOUT_FAILURES = env.int("LOGIN_LOCKOUT_FAILURES", default=5)
LOGIN_LOCKOUT_ADDRESS_FAILURES = env.int("LOGIN_LOCKOUT_ADDRESS_FAILURES", default=30)
LOGIN_LOCKOUT_WINDOW_SECONDS = env.int("LOGIN_LOCKOUT_WINDOW_SECONDS", default=15 * 60)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
LOGIN_DELAY_BASE_SECONDS = env.int("LOGIN_DELAY_BASE_SECONDS", default=15)
LOGIN_DEVICE_COOKIE_MAX_AGE_SECONDS = env.int(
    "LOGIN_DEVICE_COOKIE_MAX_AGE_SECONDS", default=180 * 24 * 3600
)
# API tokens (tracker.models.ApiToken): one per client, valid this many days; at most this
# many unexpired, unrevoked tokens per user.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=90)
API_TOKEN_MAX_PER_USER = env.int("API_TOKEN_MAX_PER_USER", default=20)
# Sensitive admin actions (roles, passwords, units of users, deletions, unlocking logins,
# holiday overrides) need the password entered again within this many seconds.
ADMIN_REAUTH_SECONDS = env.int("ADMIN_REAUTH_SECONDS", default=600)
# TOTP second factor: roles that must enrol a device (empty: optional for supervisors and
# administrators), and the issuer name shown in authenticator apps.
TOTP_REQUIRED_FOR_ROLES = env.list("TOTP_REQUIRED_FOR_ROLES", default=[])
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="巡视整改任务跟踪")
# Largest page a client may ask for with ?page_size=.
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=200)

# A refused CSRF check answers with the site's Chinese 403 page, not Django's English one.
CSRF_FAILURE_VIEW = "config.views.csrf_failure"

# --- Report documents (reports.parsing.reading.ReadLimits) ------------------------------
# Every limit is checked before the costly work it bounds; a file over one is refused in Chinese.
REPORT_MAX_BYTES = env.int("REPORT_MAX_BYTES", default=20 * 1024 * 1024)  # any upload
REPORT_MAX_TEXT_BYTES = env.int("REPORT_MAX_TEXT_BYTES", default=5 * 1024 * 1024)  # a .txt
REPORT_MAX_TEXT_CHARS = env.int("REPORT_MAX_TEXT_CHARS", default=1_000_000)  # text read out
REPORT_MAX_DOCX_PARTS = env.int("REPORT_MAX_DOCX_PARTS", default=1000)
REPORT_MAX_DOCX_INFLATED_BYTES = env.int(
    "REPORT_MAX_DOCX_INFLATED_BYTES", default=100 * 1024 * 1024
)
REPORT_MAX_DOCX_MAIN_PART_BYTES = env.int(
    "REPORT_MAX_DOCX_MAIN_PART_BYTES", default=16 * 1024 * 1024
)
REPORT_MAX_DOCX_RATIO = env.int("REPORT_MAX_DOCX_RATIO", default=100)
REPORT_MAX_PDF_PAGES = env.int("REPORT_MAX_PDF_PAGES", default=500)
# The reading runs in a child process of the worker with these limits on its address space
# and wall-clock time; the Celery task that waits for it has soft/hard limits just above.
REPORT_PARSE_MEMORY_MB = env.int("REPORT_PARSE_MEMORY_MB", default=768)
REPORT_PARSE_TIMEOUT_SECONDS = env.int("REPORT_PARSE_TIMEOUT_SECONDS", default=120)
REPORT_IMPORT_SOFT_TIME_LIMIT = env.int("REPORT_IMPORT_SOFT_TIME_LIMIT", default=180)
REPORT_IMPORT_TIME_LIMIT = env.int("REPORT_IMPORT_TIME_LIMIT", default=240)

# --- Monthly report ----------------------------------------------------------------------
# The Word template of the monthly .docx (docxtpl). An office may point this at its own copy
# of the shipped template (variables: docs/reports.md).
REPORTS_MONTHLY_TEMPLATE = env.str(
    "REPORTS_MONTHLY_TEMPLATE",
    default=str(BASE_DIR / "reports" / "templates" / "reports" / "monthly_report.docx"),
)
