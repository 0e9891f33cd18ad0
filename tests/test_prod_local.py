"""`make prod-local` (scripts/prod_local.py): the layout it starts is the one docs/deployment.md describes
and the units run, with options gunicorn and Celery accept; the production settings relax HTTPS only for
its explicit switch, which `check --deploy` refuses; bad arguments are refused before anything starts.
The layout itself is driven end to end by .ci/prod_local_e2e.py in CI."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.test_deploy_files import PRODUCTION_ENV, environment, unit

ROOT = Path(__file__).resolve().parent.parent
SWITCH = "HANDOFF_INSECURE_LOCAL_HTTP"


def prod_local() -> ModuleType:
    """scripts/prod_local.py as a module (registered first: its dataclass looks its module up)."""
    if "prod_local" not in sys.modules:
        spec = importlib.util.spec_from_file_location("prod_local", ROOT / "scripts" / "prod_local.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["prod_local"] = module
        spec.loader.exec_module(module)
    return sys.modules["prod_local"]


def layout(tmp_path: Path) -> dict[str, list[str]]:
    script = prod_local()
    args = argparse.Namespace(port=8123, run_dir=tmp_path)
    return {service.name: service.argv for service in script.services(args)}


def option(argv: list[str], name: str) -> str:
    return next(a.split("=", 1)[1] for a in argv if a.startswith(f"--{name}="))


def test_the_script_starts_3_gunicorn_workers_2_celery_workers_and_1_beat(tmp_path: Path) -> None:
    services = layout(tmp_path)
    assert set(services) == {"web", "w1", "w2", "beat"}
    assert services["web"][1] == "config.wsgi:application"
    assert option(services["web"], "workers") == "3"
    assert option(services["web"], "bind") == "127.0.0.1:8123"
    workers = [argv for argv in services.values() if argv[3:4] == ["worker"]]
    assert len(workers) == 2
    assert {argv[argv.index("-n") + 1] for argv in workers} == {"w1@%h", "w2@%h"}
    assert all(option(argv, "concurrency") == "1" for argv in workers)
    assert [argv for argv in services.values() if argv[3:4] == ["beat"]] == [services["beat"]]
    # the same gunicorn as the web unit's default
    assert environment(unit("handoff-web.service"))["HANDOFF_WEB_WORKERS"] == option(
        services["web"], "workers"
    )


def test_the_guide_describes_the_layout_the_script_starts() -> None:
    script = prod_local()
    guide = (ROOT / "docs" / "deployment.md").read_text()
    section = guide.split("## Run the production layout locally", 1)[1].split("\n## ", 1)[0]
    rows = dict(
        re.findall(r"^\| (gunicorn|`celery -A config (?:worker|beat)`)[^|]*\| ([^|]+) \|", section, re.M)
    )
    assert rows["gunicorn"].strip() == f"1 master, {script.GUNICORN_WORKERS} workers"
    assert rows["`celery -A config worker`"].strip() == f"{len(script.CELERY_WORKERS)} worker processes"
    assert rows["`celery -A config beat`"].strip() == f"{script.BEATS} beat"
    assert f"--concurrency={script.WORKER_CONCURRENCY}" in section
    assert SWITCH in section and "make prod-local" in (ROOT / "README.md").read_text()


def test_gunicorn_and_celery_accept_the_scripts_options(tmp_path: Path) -> None:
    services = layout(tmp_path)
    env = {**os.environ, **PRODUCTION_ENV, SWITCH: "1"}
    checked = subprocess.run(  # noqa: S603 - this virtualenv's gunicorn, the script's options
        [services["web"][0], "--check-config", *services["web"][1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    for name in ("w1", "beat"):
        parsed = subprocess.run(  # noqa: S603 - this virtualenv's celery, the script's options
            [*services[name], "--help"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert parsed.returncode == 0, parsed.stderr


PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps(["
    "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
    "s.SESSION_COOKIE_HTTPONLY, s.X_FRAME_OPTIONS, s.HANDOFF_REQUIRE_2FA_FOR_PHYSIOS, s.DEBUG]))"
)


def production(*argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in (SWITCH, "DJANGO_ALLOW_ASYNC_UNSAFE")}
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, *argv],
        cwd=ROOT,
        env={**env, **PRODUCTION_ENV, **extra},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("switch", "expected"),
    [
        (None, [True, 31536000, True, True, True, "DENY", True, False]),
        ("0", [True, 31536000, True, True, True, "DENY", True, False]),
        ("1", [False, 0, False, False, True, "DENY", True, False]),
    ],
)
def test_production_relaxes_https_and_nothing_else_only_when_the_local_switch_is_set(
    switch: str | None, expected: list[object]
) -> None:
    result = production("-c", PROBE, **({SWITCH: switch} if switch is not None else {}))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected


def test_the_deploy_check_refuses_the_local_switch_and_no_deployment_file_sets_it() -> None:
    result = production("manage.py", "check", "--deploy", "--fail-level", "WARNING", **{SWITCH: "1"})
    assert result.returncode != 0
    assert {"security.W004", "security.W008", "security.W012", "security.W016"} <= set(
        re.findall(r"security\.W\d+", result.stderr + result.stdout)
    )
    deployment_files = [
        ROOT / "Procfile",
        *(ROOT / "deploy" / "systemd").glob("*.service"),
        ROOT / "tests" / "test_deploy_files.py",
    ]
    assert [p.name for p in deployment_files if SWITCH in p.read_text()] == []
    deploy_check_env = re.search(
        r"^DEPLOY_CHECK_ENV :=(.*?)\n\n", (ROOT / "Makefile").read_text(), re.M | re.S
    )
    assert deploy_check_env is not None and SWITCH not in deploy_check_env.group(1)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "0"], "--port 0 is not a port number"),
        (["--database-url", "sqlite:///x.sqlite3"], "must name a PostgreSQL database"),
        (["--smtp", "localhost"], "--smtp must be HOST:PORT"),
    ],
)
def test_bad_arguments_are_refused_before_anything_starts(
    argv: list[str], message: str, tmp_path: Path
) -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "scripts/prod_local.py", "--run-dir", str(tmp_path / "run"), *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2 and message in result.stderr
    assert not (tmp_path / "run").exists()


def test_make_prod_local_runs_the_script_on_port() -> None:
    result = subprocess.run(  # noqa: S603 - make, in this repository
        ["make", "--no-print-directory", "-C", str(ROOT), "-n", "prod-local", "PORT=8123"],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"python scripts/prod_local\.py --port 8123\s*$", result.stdout, re.M)
