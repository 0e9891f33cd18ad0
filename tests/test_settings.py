"""The embedded default needs nothing but Python; REDIS_URL switches to a real broker; production insists."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "from config.celery_app import app; "
    "db = s.DATABASES['default']; "
    "print(json.dumps({'engine': db['ENGINE'], 'name': str(db['NAME']), "
    "'eager': app.conf.task_always_eager, 'broker': app.conf.broker_url, 'email': s.EMAIL_BACKEND, "
    "'mail_dir': str(s.EMAIL_FILE_PATH), 'acks_late': app.conf.task_acks_late, "
    "'reject_lost': app.conf.task_reject_on_worker_lost, 'prefetch': app.conf.worker_prefetch_multiplier, "
    "'beat': sorted(app.conf.beat_schedule), 'serializer': app.conf.task_serializer, "
    "'cache': s.CACHES['default'], 'sessions': s.CACHES['sessions'], 'session_engine': s.SESSION_ENGINE, "
    "'client_ip_from': list(s.AXES_IPWARE_META_PRECEDENCE_ORDER)}))"
)
SCRUB = (
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE",
    "HANDOFF_TOTP_KEYS",
)
# A valid Fernet key, for the probes of the production settings only.
TOTP_KEY = "dGVzdC1vbmx5LWtleS1ub3QtYS1zZWNyZXQtMDAwMDA="


def probe(settings_module: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SCRUB}
    clean.update({"DJANGO_SETTINGS_MODULE": settings_module, "HANDOFF_VAR_DIR": str(tmp_path), **env})
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def test_embedded_default_is_sqlite_in_process_tasks_and_mail_files(tmp_path: Path) -> None:
    result = probe("config.settings.local", tmp_path)
    assert result.returncode == 0, result.stderr
    conf = json.loads(result.stdout)
    assert conf["engine"] == "django.db.backends.sqlite3"
    assert conf["name"] == str(tmp_path / "handoff.sqlite3")
    assert conf["eager"] is True
    assert conf["email"] == "django.core.mail.backends.filebased.EmailBackend"
    assert conf["mail_dir"] == str(tmp_path / "mail")


def test_redis_url_makes_redis_the_broker_with_reliable_delivery_settings(tmp_path: Path) -> None:
    result = probe("config.settings.local", tmp_path, REDIS_URL="redis://127.0.0.1:6379/3")
    assert result.returncode == 0, result.stderr
    conf = json.loads(result.stdout)
    assert conf["eager"] is False and conf["broker"] == "redis://127.0.0.1:6379/3"
    assert conf["acks_late"] is True and conf["reject_lost"] is True and conf["prefetch"] == 1
    assert conf["serializer"] == "json"
    assert "sweep-outbox" in conf["beat"]


@pytest.mark.parametrize(
    "missing",
    ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "REDIS_URL", "HANDOFF_SITE_URL", "HANDOFF_TOTP_KEYS"],
)
def test_production_refuses_to_start_without_each_required_variable(tmp_path: Path, missing: str) -> None:
    env = {
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "handoff.example.org",
        "DATABASE_URL": "postgres://u@127.0.0.1/x",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "HANDOFF_SITE_URL": "https://handoff.example.org",
        "HANDOFF_TOTP_KEYS": TOTP_KEY,
    }
    del env[missing]
    result = probe("config.settings.production", tmp_path, **env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_reads_everything_from_the_environment(tmp_path: Path) -> None:
    result = probe(
        "config.settings.production",
        tmp_path,
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_ALLOWED_HOSTS="handoff.example.org",
        DATABASE_URL="postgres://u@db.internal:5432/handoff",
        REDIS_URL="redis://cache.internal:6379/0",
        HANDOFF_SITE_URL="https://handoff.example.org/",
        HANDOFF_TOTP_KEYS=TOTP_KEY,
    )
    assert result.returncode == 0, result.stderr
    conf = json.loads(result.stdout)
    assert conf["engine"] == "django.db.backends.postgresql" and conf["name"] == "handoff"
    assert conf["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert conf["eager"] is False and conf["broker"] == "redis://cache.internal:6379/0"
    # API throttles count across web processes, and sessions have their copy, in one shared Redis
    assert conf["cache"]["BACKEND"] == "config.cache.ResilientRedisCache"
    assert conf["cache"]["LOCATION"] == "redis://cache.internal:6379/0"
    assert conf["cache"]["OPTIONS"]["socket_timeout"] == 0.5
    assert conf["sessions"]["BACKEND"] == "config.cache.ResilientRedisCache"
    assert conf["sessions"]["MAX_TIMEOUT"] == 60
    assert conf["session_engine"] == "django.contrib.sessions.backends.cached_db"
    assert conf["client_ip_from"] == ["REMOTE_ADDR"]  # no forwarded header trusted unless configured


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(tmp_path: Path) -> None:
    result = probe("config.settings.local", tmp_path, HANDOFF_TRUSTED_PROXY_COUNT="1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["client_ip_from"] == ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]


def test_an_empty_database_url_means_the_embedded_sqlite_default(tmp_path: Path) -> None:
    result = probe("config.settings.local", tmp_path, DATABASE_URL="")
    assert result.returncode == 0, result.stderr
    conf = json.loads(result.stdout)
    assert conf["engine"] == "django.db.backends.sqlite3"
    assert conf["name"] == str(tmp_path / "handoff.sqlite3")


FIRST_SEND = (
    "import django; django.setup(); from django.core.management import call_command; "
    "call_command('migrate', verbosity=0); from referrals.tasks import publish_delivery; "
    "print(publish_delivery(0))"
)


def test_the_embedded_default_sends_its_first_task_without_a_broker_warning(tmp_path: Path) -> None:
    """No REDIS_URL: tasks run in-process, and neither Celery nor kombu logs or warns about the in-memory
    broker (kombu's "No hostname was supplied. Reverting to default 'localhost'" on the first send)."""
    clean = {k: v for k, v in os.environ.items() if k not in SCRUB}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", "HANDOFF_VAR_DIR": str(tmp_path)})
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-W", "always", "-c", FIRST_SEND],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"  # published (run in-process)
    noisy = [
        line
        for line in result.stderr.splitlines()
        if ("WARNING" in line and ("kombu" in line or "celery" in line)) or "Warning:" in line
    ]
    assert not noisy, result.stderr
