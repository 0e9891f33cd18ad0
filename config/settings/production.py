"""Production: PostgreSQL, Redis, SMTP; every secret comes from the environment."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY")  # no default: refuse to start without it
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": env.db_url("DATABASE_URL")}
# Emails link here: a production default of localhost would send every recipient to a dead link.
SITE_URL = env.str("HANDOFF_SITE_URL").rstrip("/")
# Production delivers notifications through the worker, never inside a web request.
REDIS_URL = env.str("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = False
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# One cache for every web process: the API throttle counters are per user across gunicorn workers, and
# each session has a copy here (cached_db, see base.py), so a page reads no session row. Redis trouble is a
# cache miss, never an error page (config/cache.py): short socket timeouts, and a session copy lives at
# most a minute, so a logout that could not reach Redis cannot be undone by a stale copy for longer.
CACHE_URL = env.str("CACHE_URL", default=REDIS_URL)
_CACHE_OPTIONS = {
    "socket_connect_timeout": env.float("CACHE_SOCKET_TIMEOUT", default=0.5),
    "socket_timeout": env.float("CACHE_SOCKET_TIMEOUT", default=0.5),
}
CACHES = {
    "default": {
        "BACKEND": "config.cache.ResilientRedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": "handoff",
        "TIMEOUT": 300,
        "OPTIONS": _CACHE_OPTIONS,
    },
    "sessions": {
        "BACKEND": "config.cache.ResilientRedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": "handoff-session",
        "MAX_TIMEOUT": 60,
        "OPTIONS": _CACHE_OPTIONS,
    },
}
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# `make prod-local` (scripts/prod_local.py) serves these settings over plain http://127.0.0.1, where no
# TLS terminates: this switch, and nothing else, turns off the redirect to https, HSTS and the secure-only
# cookies (a browser or client would not send those back over http). Never set in a deployment: `manage.py
# check --deploy` then fails (security.W008, W004, W012, W016), and CI runs it without the switch.
HANDOFF_INSECURE_LOCAL_HTTP = env.bool("HANDOFF_INSECURE_LOCAL_HTTP", default=False)
if HANDOFF_INSECURE_LOCAL_HTTP:
    SECURE_SSL_REDIRECT = False
    SECURE_HSTS_SECONDS = 0
    SECURE_HSTS_INCLUDE_SUBDOMAINS = False
    SECURE_HSTS_PRELOAD = False
    SESSION_COOKIE_SECURE = False
    CSRF_COOKIE_SECURE = False
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # no script reads it: every form carries the token in a hidden field
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# The TOTP secrets' encryption keys (accounts.encryption): no default, never derived from SECRET_KEY.
HANDOFF_TOTP_KEYS = env.list("HANDOFF_TOTP_KEYS")

# Physiotherapists hold patient data: two-factor authentication is required for them here.
HANDOFF_REQUIRE_2FA_FOR_PHYSIOS = env.bool("HANDOFF_REQUIRE_2FA_FOR_PHYSIOS", default=True)
