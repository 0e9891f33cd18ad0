"""The benchmark's settings: production's, with what a local run needs and three additions of its own.

- the baseline view's URLconf (bench.urls), so the product never serves a benchmark-only endpoint;
- a middleware that counts the SQL queries of every request (header X-Bench-Queries);
- a recording email backend (mail delivery is the external edge of the notification pipeline).

Everything else (DEBUG off, persistent connections, the manifest static files storage, token auth, the
throttles, Celery through Redis) is as in production.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("HANDOFF_SITE_URL", "http://127.0.0.1:8000")
os.environ.setdefault(
    "HANDOFF_TOTP_KEYS", "YmVuY2gtb25seS1rZXktbm90LWEtc2VjcmV0LTAwMDA="
)  # bench-only, not a secret
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")  # plain HTTP on the loopback
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/handoff_bench_data")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")

from config.settings.production import *  # noqa: F403
from config.settings.production import MIDDLEWARE, REST_FRAMEWORK, VAR_DIR

BENCH_DIR = VAR_DIR / "bench"
ROOT_URLCONF = "bench.urls"
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]
EMAIL_BACKEND = "bench.mail.RecordingBackend"
# Production's storage, less the gzip/brotli copies (the pages only look names up in the manifest).
STATIC_ROOT = BENCH_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
# The throttles still run (their cost is part of a request), at rates a load generator cannot reach.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "1000000/minute", "user": "1000000/minute"},
}
# A queue of its own, so the benchmark never takes or leaves messages of anything else on this Redis.
CELERY_TASK_DEFAULT_QUEUE = "handoff-bench"
