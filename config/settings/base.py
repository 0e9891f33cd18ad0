"""Settings shared by every environment.

Everything that differs between machines comes from the environment (django-environ). With nothing set,
Handoff runs embedded: SQLite under var/, Celery tasks in-process, emails written to var/mail/.
"""

import base64
import hashlib
import hmac
from datetime import timedelta
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from csp.constants import NONCE, NONE, SELF

# Generic Django classes (ModelAdmin[Model], QuerySet[Model]) are subscriptable at run time too.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("HANDOFF_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# A development-only default; production.py refuses to start without DJANGO_SECRET_KEY.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Absolute base URL used in links inside emails (emails carry a link, never clinical detail).
SITE_URL = env.str("HANDOFF_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "accounts",
    "referrals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # below WhiteNoise: static files keep their long-lived caching, everything else is no-store
    "config.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.OTPMiddleware",  # django-otp's, reading the devices loaded with the user
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.SessionTimeoutMiddleware",
    "config.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # last, as django-axes asks: it turns a lockout signalled by its backend into the lockout page
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "referrals.context_processors.notifications",
            ],
        },
    },
]

# Database: PostgreSQL in production and in CI (DATABASE_URL), SQLite under var/ by default.
# An empty DATABASE_URL (`DATABASE_URL= make test-suite`) means the default, as an unset one does.
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'handoff.sqlite3'}"
    )
}
# The service layer owns transactions (STYLE.md): a request is not one big transaction.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Authentication hardening (issue 6) ----------------------------------------------------------------
# django-axes first: it refuses a locked-out username+address pair before a password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, loading the session's user with its roles, devices and unread count in one query
    "config.auth.RequestUserBackend",
]
AXES_FAILURE_LIMIT = 5
# Per account AND address: a stranger cannot lock a physiotherapist out from elsewhere, and one address
# cannot try a password on one account more than five times.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_SENSITIVE_PARAMETERS = ["password"]
# The client's address, for the lockout and for the access log (referrals.audit): REMOTE_ADDR unless the
# deployment says how many reverse proxies in front of the application append to X-Forwarded-For.
# 0 (the default) trusts no forwarded header, so a client cannot choose the address it is recorded under.
HANDOFF_TRUSTED_PROXY_COUNT = env.int("HANDOFF_TRUSTED_PROXY_COUNT", default=0)
AXES_IPWARE_META_PRECEDENCE_ORDER: tuple[str, ...]
if HANDOFF_TRUSTED_PROXY_COUNT > 0:
    AXES_IPWARE_PROXY_COUNT = HANDOFF_TRUSTED_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

# Two-factor authentication (django-otp, TOTP). Anyone may turn it on; staff need it for the admin; this
# setting makes it required for physiotherapists everywhere (production turns it on).
HANDOFF_REQUIRE_2FA_FOR_PHYSIOS = env.bool("HANDOFF_REQUIRE_2FA_FOR_PHYSIOS", default=False)
OTP_TOTP_ISSUER = "Handoff"
OTP_TOTP_THROTTLE_FACTOR = 1  # a wrong code doubles the wait before the next try: 1 s, 2 s, 4 s ...
# The TOTP secrets are encrypted at rest (accounts.encryption): Fernet keys, comma-separated; the first
# encrypts, every one decrypts (rotation: docs/security.md). production.py requires the variable; local.py
# and test.py derive a key from SECRET_KEY when it is unset. A system check refuses an empty or bad list.
HANDOFF_TOTP_KEYS: list[str] = env.list("HANDOFF_TOTP_KEYS", default=[])


def derived_totp_key(secret_key: str) -> str:
    """A Fernet key derived from SECRET_KEY (HMAC-SHA256): for development and tests only, where the
    SECRET_KEY is itself a development default. A changed SECRET_KEY makes the devices unreadable."""
    digest = hmac.new(secret_key.encode(), b"handoff.totp-keys", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


# Sessions: 15 minutes idle, 12 hours at most (config.middleware.SessionTimeoutMiddleware).
# Sessions are rows in the database with a copy in the "sessions" cache: a page reads the copy, a change
# writes both. In production that cache is Redis (production.py); here it is this process's memory.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "sessions"
CACHES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "handoff"},
    "sessions": {
        "BACKEND": "config.cache.CappedLocMemCache",
        "LOCATION": "handoff-sessions",
        "MAX_TIMEOUT": 60,  # a copy lives a minute at most, as in production
    },
}
HANDOFF_SESSION_IDLE_TIMEOUT = timedelta(minutes=15)
HANDOFF_SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
SESSION_COOKIE_AGE = int(HANDOFF_SESSION_ABSOLUTE_TIMEOUT.total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Content Security Policy (django-csp 4): scripts and styles from this site only, never inline. The one
# exception is Swagger UI's start-up script and style on /api/v1/docs/, which carry this request's nonce
# (templates/drf_spectacular/swagger_ui.html); a nonce appears in the header only on a page that uses it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("HANDOFF_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Email: written to files under var/mail/ unless an SMTP server is configured.
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Handoff <no-reply@handoff.localhost>")

# --- Retention (referrals.tasks.trim_records, daily) ------------------------------------------------------
# Rows older than this many days are deleted, in batches. The access log (referrals.audit: who read which
# patient's data) is kept six years: 2,192 days = 6 x 365 + 2, the longest six calendar years can be (two
# leap days), so no entry goes before its sixth anniversary. django-axes' login records (the lockout
# counters, the login log, the failure log) are kept 90 days. At least one day each (a system check).
HANDOFF_ACCESS_LOG_RETENTION_DAYS = env.int("HANDOFF_ACCESS_LOG_RETENTION_DAYS", default=6 * 365 + 2)
HANDOFF_LOCKOUT_RETENTION_DAYS = env.int("HANDOFF_LOCKOUT_RETENTION_DAYS", default=90)

# --- Celery -------------------------------------------------------------------------------------------
# What makes "nothing lost, nothing sent twice" hold; each line is exercised by tests/integration/ against
# a real Redis, a real worker process and PostgreSQL (see docs/reliability.md for the measured figures).
#
# The database owns "a notification is owed" (OutboxMessage rows written in the event's transaction); the
# broker only carries a wake-up call. So publishing is best-effort and must never hold a request, a lost
# message is found again by the sweeper, and a message delivered twice is a no-op (the claim).
#
# Without REDIS_URL, tasks run in-process (task_always_eager): nothing to install but Python. Celery still
# takes a producer from the broker's pool for an eager task; the in-memory broker's URL names a host so
# that kombu does not warn on the first send that it is "reverting to default 'localhost'".
REDIS_URL = env.str("REDIS_URL", default="")
EMBEDDED_BROKER_URL = "memory://localhost/"
CELERY_BROKER_URL = REDIS_URL or EMBEDDED_BROKER_URL
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
# JSON only, both ways: tasks carry ids, never pickled objects (and never patient data).
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
# Broker connection: fail fast. No publish retries, a 1 s connect timeout and a 2 s socket timeout, so a
# request that commits while Redis is down or stalled (SIGSTOP) returns in about 2 s at worst; the row
# waits for the sweeper. The worker itself keeps reconnecting (retry on startup and on connection loss).
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # a worker never gives up on Redis coming back
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1.0,
    "socket_timeout": 2.0,
    "max_retries": 0,
    # Redis has no acks: a message a worker took but never acknowledged (the whole worker was killed)
    # comes back after this long. Longer than any task (time limit below) so a slow task is not run twice
    # by design; the outbox sweeper re-enqueues such rows sooner anyway (HANDOFF_OUTBOX_LEASE). A retry
    # scheduled further ahead than this (backoff beyond 300 s) is handed out again early: that copy finds
    # the row not yet due and skips it, and the original runs on time.
    "visibility_timeout": 300,
}
# Acknowledge after the task ran (acks_late), and put the message back when the pool child running it
# dies (reject_on_worker_lost): a SIGKILLed child or an OOM loses nothing. Delivery claims outbox rows with
# a conditional UPDATE under a token derived from the task id, so the message that comes back (marked
# redelivered, no ETA) takes over the rows its dead run held and sends them at once rather than after their
# lease; any other copy finds them claimed and skips. That relies on a message without an ETA starting
# within one task time limit of being taken (prefetch 1 below), far inside visibility_timeout: Redis then
# never hands out a second copy while the first one runs.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message reserved per process at a time: a worker that dies holds at most one unacknowledged
# message, and a slow email does not hold a queue of others behind it.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Database connections in the worker: kept across tasks and closed by Django's own rule (CONN_MAX_AGE, or
# after an error; config/celery_app.close_old_connections), not reopened for every task. Celery's Django
# fixup still closes them once per this many tasks.
CELERY_DB_REUSE_MAX = 1000
# Time limits: the SMTP timeout (EMAIL_TIMEOUT, 10 s) fits well inside; a hung task is killed and its
# outbox row comes back when its lease runs out. Keep the lease (below) longer than the hard limit.
CELERY_TASK_SOFT_TIME_LIMIT = 30
CELERY_TASK_TIME_LIMIT = 60
# The sweep: re-enqueue what the broker lost or a dead worker held (run by `make beat`). Production
# default 15 s; the integration tests shorten it through the environment.
HANDOFF_OUTBOX_SWEEP_SECONDS = env.float("HANDOFF_OUTBOX_SWEEP_SECONDS", default=15.0)
# --- Timers (referrals.timers) --------------------------------------------------------------------------
# A clinic's own settings (ClinicTimers, in the admin) override these; the integration tests shorten the
# sweep through the environment.
HANDOFF_TIMER_DEFAULTS = {
    # requested, unanswered: the trainer reminded (hours), the clinic told (days), cancelled (days)
    "remind_after_hours": env.float("HANDOFF_REMIND_AFTER_HOURS", default=48),
    "escalate_after_days": env.float("HANDOFF_ESCALATE_AFTER_DAYS", default=5),
    "expire_after_days": env.float("HANDOFF_EXPIRE_AFTER_DAYS", default=7),
    "accept_idle_days": 14,  # accepted, no session logged: the trainer and the clinic nudged
    "session_idle_days": 21,  # in progress, no session logged for this long: the same
    "hold_review_days": 14,  # put on hold without a review date: reviewed this many days later
    "hold_overdue_days": 7,  # still on hold this long after its review: the clinic told
    "report_overdue_days": 7,  # a progress report due: the trainer reminded that day, the clinic this late
    "credential_notice_days": 30,  # a certification or CPR/AED expiring: the trainer and gym admins reminded
}
HANDOFF_TIMER_SWEEP_SECONDS = env.float("HANDOFF_TIMER_SWEEP_SECONDS", default=300.0)
# Night in the recipient's zone: a timer's email written from QUIET_FROM to QUIET_UNTIL (local hours) goes
# at RESUME_AT. QUIET_FROM equal to QUIET_UNTIL: no night (the integration tests, which run at any hour).
HANDOFF_QUIET_HOURS = tuple(env.list("HANDOFF_QUIET_HOURS", cast=int, default=[21, 7, 8]))
CELERY_BEAT_SCHEDULE = {
    "sweep-outbox": {
        "task": "referrals.tasks.sweep_outbox",
        "schedule": timedelta(seconds=HANDOFF_OUTBOX_SWEEP_SECONDS),
    },
    # a credential that lapsed during care is flagged to the clinic the day it lapses, not only at the
    # trainer's next step (accept, start, resume re-check it anyway)
    "review-eligibility": {
        "task": "referrals.tasks.review_eligibility",
        "schedule": timedelta(hours=24),
    },
    # a progress report overdue: the clinic and the trainer told once per due date
    "notify-reports-overdue": {
        "task": "referrals.tasks.notify_reports_overdue",
        "schedule": timedelta(hours=24),
    },
    # unanswered referrals: reminder, the clinic told, cancelled (referrals.timers; idempotent, so a short
    # period costs a cheap indexed read and a missed run is caught up by the next)
    "sweep-timers": {
        "task": "referrals.tasks.sweep_timers",
        "schedule": timedelta(seconds=HANDOFF_TIMER_SWEEP_SECONDS),
    },
    # the access log and the login records past their retention (HANDOFF_*_RETENTION_DAYS) deleted
    "trim-records": {
        "task": "referrals.tasks.trim_records",
        "schedule": timedelta(hours=24),
    },
}

# --- Outbox delivery ------------------------------------------------------------------------------------
# Production defaults; each can be shortened through the environment (the integration tests do, so that a
# fault and its recovery fit in seconds). A backlog older than HANDOFF_HEALTH_MAX_PENDING_AGE makes
# /healthz answer 503.
HANDOFF_OUTBOX_MAX_ATTEMPTS = 8
# pending this long: the sweeper re-enqueues it (the publish after commit may have been lost)
HANDOFF_OUTBOX_STALE_AFTER = timedelta(seconds=env.float("HANDOFF_OUTBOX_STALE_SECONDS", default=30.0))
# in flight this long: the worker is presumed dead (longer than CELERY_TASK_TIME_LIMIT)
HANDOFF_OUTBOX_LEASE = timedelta(seconds=env.float("HANDOFF_OUTBOX_LEASE_SECONDS", default=90.0))
# 5 s, 10 s, 20 s ... capped at 15 minutes
HANDOFF_OUTBOX_BACKOFF_BASE_SECONDS = env.int("HANDOFF_OUTBOX_BACKOFF_BASE_SECONDS", default=5)
HANDOFF_OUTBOX_BACKOFF_MAX_SECONDS = env.int("HANDOFF_OUTBOX_BACKOFF_MAX_SECONDS", default=15 * 60)
HANDOFF_HEALTH_MAX_PENDING_AGE = env.int("HANDOFF_HEALTH_MAX_PENDING_AGE", default=5 * 60)
# A delivery task that has sent its own row goes on with other due rows, this many claimed at a time (each
# through the same conditional claim), over one mail connection, for at most this long; rows claimed but not
# reached in time are given back and re-published. Far inside the soft time limit, even with one slow send
# (EMAIL_TIMEOUT) past the budget. 0 turns batching off; it is off where tasks run in-process (eager), so a
# request never delivers other people's email on its way out.
HANDOFF_OUTBOX_BATCH_SIZE = env.int(
    "HANDOFF_OUTBOX_BATCH_SIZE", default=0 if CELERY_TASK_ALWAYS_EAGER else 50
)
HANDOFF_OUTBOX_BATCH_SECONDS = env.float("HANDOFF_OUTBOX_BATCH_SECONDS", default=5.0)

REST_FRAMEWORK = {
    # Every operation's 4xx answers and links are derived there, not written per view.
    "DEFAULT_SCHEMA_CLASS": "referrals.api.schema.ApiAutoSchema",
    # Token first: its WWW-Authenticate header makes an anonymous request a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "referrals.api.pagination.ApiCursorPagination",
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    # DRF's, counted in a sliding window: one cache round trip a request (config/throttling.py)
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttling.AnonRateThrottle",
        "config.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="600/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Handoff API",
    "DESCRIPTION": (
        "Clinic systems and gym apps: everything a physiotherapist or a trainer can do in the pages, "
        "under the same rules. Authenticate with `Authorization: Bearer <token>` (create one on your "
        "profile page) or a session. Every error is `{code, detail, fields}`; each operation lists the "
        "4xx it can answer, and a method an operation does not have is a 405 with `Allow`. Lists are "
        "cursor-paginated: follow `next` and `previous`, the cursor is opaque."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "referrals.api.schema.add_links",
        "referrals.api.schema.text_patterns",
    ],
    "ENUM_NAME_OVERRIDES": {
        "HandoffStatusEnum": "referrals.models.HandoffStatus",
        "BodyRegionEnum": "referrals.models.BodyRegion",
        "ConsentScopeEnum": "referrals.models.Consent.Scope",
        "GoalStatusEnum": "referrals.models.ProgressReport.GoalStatus",
    },
    # Swagger UI and its assets are served from this site (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes: its start-up banner is noise; failed logins and lockouts still log at WARNING
        "axes": {"level": env.str("AXES_LOG_LEVEL", default="WARNING")},
        # one line per task run is noise in the embedded default; failures still log at WARNING
        "celery.app.trace": {"level": env.str("CELERY_TRACE_LOG_LEVEL", default="WARNING")},
    },
}

STATICFILES_DIRS = [BASE_DIR / "static"]
