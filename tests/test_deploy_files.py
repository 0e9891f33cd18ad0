"""The deployment files (deploy/systemd/, Procfile, docs/deployment.md) name what exists: each unit is a
valid systemd unit that restarts always and runs this code's WSGI application or Celery app with its
production settings, with options this gunicorn and this Celery accept; the Procfile runs the same
processes; the deployment guide's links lead to files of the repository."""

from __future__ import annotations

import configparser
import importlib
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from celery.app.utils import find_app
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "deploy" / "systemd"
VENV_BIN = Path(sys.executable).parent
APP_DIR = "/opt/handoff"  # where the units expect the checkout (docs/deployment.md)
# What production.py requires, dummy values: only for loading the app, never to serve (as `make lint`).
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "deploy-files-test-only-3vQ9xL2mT7pR4sW8yB1nK6cF0hJ5gD2aZ7uE4iO9",
    "DJANGO_ALLOWED_HOSTS": "handoff.example.org",
    "HANDOFF_SITE_URL": "https://handoff.example.org",
    "DATABASE_URL": "postgres://deploy-check@127.0.0.1:5432/deploy_check",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "HANDOFF_TOTP_KEYS": "ZGVwbG95LWNoZWNrLW9ubHktbm90LWEtc2VjcmV0ISE=",  # a dummy Fernet key (make lint)
}


class _Repeated(dict[str, Any]):
    """configparser's option dict that keeps every value of a repeated key (systemd's Environment=),
    joined by newlines, where strict=False alone would keep only the last."""

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, list) and key in self:
            self[key].extend(value)
        else:
            super().__setitem__(key, value)


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, dict_type=_Repeated)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd's keys are case-sensitive
    parser.read_string((UNITS / name).read_text(), source=name)
    return parser


def environment(parsed: configparser.ConfigParser) -> dict[str, str]:
    assignments = parsed["Service"].get("Environment", "").split()
    return dict(assignment.split("=", 1) for assignment in assignments)


def exec_start(parsed: configparser.ConfigParser) -> list[str]:
    """ExecStart's argv: continuation lines joined, ${VAR} filled from the unit's Environment= defaults,
    the checkout's virtualenv swapped for this one."""
    command = parsed["Service"]["ExecStart"].replace("\\\n", " ")
    env = environment(parsed)
    command = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], command)
    argv = shlex.split(command)
    assert argv[0].startswith(f"{APP_DIR}/.venv/bin/"), "the unit runs the checkout's virtualenv"
    return [str(VENV_BIN / Path(argv[0]).name), *argv[1:]]


def run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this virtualenv's gunicorn and celery, the units' arguments
        argv,
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


SERVICES = ["handoff-web.service", "handoff-worker.service", "handoff-beat.service"]


@pytest.mark.parametrize("name", SERVICES)
def test_each_unit_restarts_always_as_the_handoff_user_with_the_production_settings(name: str) -> None:
    parsed = unit(name)
    assert {"Unit", "Service", "Install"} <= set(parsed.sections())
    service = parsed["Service"]
    assert service["Restart"] == "always"
    assert parsed["Unit"]["StartLimitIntervalSec"] == "0", "no start-rate limit ends the restarts"
    assert service["User"] == "handoff" and service["Group"] == "handoff"
    assert service["EnvironmentFile"] == "/etc/handoff/handoff.env"
    assert service["WorkingDirectory"] == APP_DIR
    assert parsed["Install"]["WantedBy"] == "multi-user.target"
    settings = environment(parsed)["DJANGO_SETTINGS_MODULE"]
    assert settings == "config.settings.production"
    assert importlib.util.find_spec(settings) is not None
    assert environment(parsed)["HANDOFF_VAR_DIR"] == f"/var/lib/{service['StateDirectory']}"


def test_the_web_unit_serves_config_wsgi_application_with_options_gunicorn_accepts() -> None:
    argv = exec_start(unit("handoff-web.service"))
    assert Path(argv[0]).name == "gunicorn" and Path(argv[0]).exists(), "gunicorn is installed"
    module, attribute = argv[1].split(":")
    assert (module, attribute) == ("config.wsgi", "application")
    assert callable(getattr(importlib.import_module(module), attribute))
    # gunicorn parses the unit's options and loads the application, with the production settings
    checked = run([argv[0], "--check-config", *argv[1:]], **PRODUCTION_ENV)
    assert checked.returncode == 0, checked.stderr
    assert unit("handoff-web.service")["Service"]["Type"] == "notify"  # gunicorn tells systemd when ready


@pytest.mark.parametrize(
    ("name", "command"), [("handoff-worker.service", "worker"), ("handoff-beat.service", "beat")]
)
def test_the_celery_units_run_the_config_celery_app_with_options_celery_accepts(
    name: str, command: str
) -> None:
    argv = exec_start(unit(name))
    assert Path(argv[0]).name == "celery" and Path(argv[0]).exists()
    assert argv[1:4] == ["-A", "config", command]
    app = find_app("config")  # what `celery -A config` loads
    assert isinstance(app, Celery) and app is importlib.import_module("config.celery_app").app
    # celery parses the unit's options (an unknown one exits 2) before --help prints
    parsed = run([*argv, "--help"], **PRODUCTION_ENV)
    assert parsed.returncode == 0, parsed.stderr


def test_the_worker_stops_warm_within_its_time_to_stop() -> None:
    from django.conf import settings

    service = unit("handoff-worker.service")["Service"]
    assert service["KillMode"] == "mixed", "SIGTERM to the main process alone: a warm shutdown"
    assert int(service["TimeoutStopSec"]) > settings.CELERY_TASK_TIME_LIMIT


def test_beat_keeps_its_schedule_in_its_state_directory() -> None:
    parsed = unit("handoff-beat.service")
    schedule = next(a.split("=", 1)[1] for a in exec_start(parsed) if a.startswith("--schedule="))
    assert schedule.startswith(f"/var/lib/{parsed['Service']['StateDirectory']}/")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (Debian: systemd)")
@pytest.mark.parametrize("name", SERVICES)
def test_systemd_finds_nothing_wrong_in_the_unit_but_the_missing_checkout(name: str) -> None:
    result = run(["systemd-analyze", "verify", "--man=no", str(UNITS / name)])
    complaints = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and f"Command {APP_DIR}/.venv/bin/" not in line  # not installed on this machine
    ]
    assert complaints == []


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_the_procfile_runs_web_worker_beat_and_migrates_on_release() -> None:
    processes = procfile()
    assert set(processes) == {"web", "worker", "beat", "release"}
    commands = {name: shlex.split(command) for name, command in processes.items()}
    for name in ("web", "worker", "beat"):
        assert commands[name][0] == "DJANGO_SETTINGS_MODULE=config.settings.production", name
    assert commands["web"][1:3] == ["gunicorn", "config.wsgi:application"]
    assert commands["worker"][1:5] == ["celery", "-A", "config", "worker"]
    assert commands["beat"][1:5] == ["celery", "-A", "config", "beat"]
    steps = [shlex.split(step) for step in processes["release"].split("&&")]
    assert [step[:3] for step in steps] == [
        ["python", "manage.py", "migrate"],
        ["python", "manage.py", "library_load"],
    ]
    assert all("--settings=config.settings.production" in step for step in steps)
    assert {"migrate", "library_load"} <= set(get_commands())


def test_gunicorn_is_a_pinned_runtime_requirement() -> None:
    # the direct pin (requirements.in) and its hashed lock entry (requirements.txt: "gunicorn==X \")
    assert re.search(r"^gunicorn==[\w.]+$", (ROOT / "requirements.in").read_text(), re.M)
    assert re.search(r"^gunicorn==[\w.]+ \\$", (ROOT / "requirements.txt").read_text(), re.M)


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("document", ["docs/deployment.md", "README.md"])
def test_every_link_of_the_guide_leads_to_a_file_of_the_repository(document: str) -> None:
    path = ROOT / document
    targets = [t.split("#")[0] for t in LINK.findall(path.read_text()) if not re.match(r"\w+:|#", t)]
    assert targets, f"{document} links nothing"
    missing = [t for t in targets if not (path.parent / t).resolve().exists()]
    assert missing == []


def test_the_guide_links_every_deployment_file_and_the_readme_links_the_guide() -> None:
    guide = ROOT / "docs" / "deployment.md"
    linked = {(guide.parent / t).resolve() for t in LINK.findall(guide.read_text())}
    for name in (*(f"deploy/systemd/{s}" for s in SERVICES), "Procfile", "scripts/backup_restore.sh"):
        assert (ROOT / name).resolve() in linked, name
    readme = ROOT / "README.md"
    assert guide in {(ROOT / t).resolve() for t in LINK.findall(readme.read_text())}
