"""Local development: the embedded default (SQLite, in-process Celery, emails to var/mail/)."""

from config.settings.base import *  # noqa: F403
from config.settings.base import HANDOFF_TOTP_KEYS, SECRET_KEY, VAR_DIR, derived_totp_key, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
VAR_DIR.mkdir(parents=True, exist_ok=True)
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
# The TOTP secrets' key: derived from the development SECRET_KEY unless HANDOFF_TOTP_KEYS is set.
HANDOFF_TOTP_KEYS = HANDOFF_TOTP_KEYS or [derived_totp_key(SECRET_KEY)]
