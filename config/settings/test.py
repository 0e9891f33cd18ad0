"""Test settings: the database comes from DATABASE_URL (PostgreSQL in CI), Celery runs in-process.

Integration tests that need a real broker and worker configure their own Celery app (see tests/).
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import EMBEDDED_BROKER_URL, HANDOFF_TOTP_KEYS, SECRET_KEY, VAR_DIR, derived_totp_key

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = EMBEDDED_BROKER_URL
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
VAR_DIR.mkdir(parents=True, exist_ok=True)
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
# Two-factor authentication stays optional for physiotherapists in tests (the tests that need it on say so).
HANDOFF_REQUIRE_2FA_FOR_PHYSIOS = False
# The TOTP secrets' key: derived from the development SECRET_KEY unless HANDOFF_TOTP_KEYS is set.
HANDOFF_TOTP_KEYS = HANDOFF_TOTP_KEYS or [derived_totp_key(SECRET_KEY)]
