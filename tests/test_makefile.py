"""The two commands a new user runs: `make run` serves, prints and links to one address, and `make test`
gets what its tests need from Debian, or stops at once with the command to run."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def make(
    *args: str, user: int | None = None, root: Path = ROOT, **env: str
) -> subprocess.CompletedProcess[str]:
    command = ["make", "--no-print-directory", "-C", str(root), *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    return subprocess.run(  # noqa: S603 - make, in this repository
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("args", "address"),
    [((), "127.0.0.1:8000"), (("PORT=8123",), "127.0.0.1:8123"), (("HOST=::1", "PORT=8124"), "[::1]:8124")],
)
def test_make_run_serves_prints_and_links_the_same_address(args: tuple[str, ...], address: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("HANDOFF_SITE_URL", "DJANGO_ALLOWED_HOSTS")}
    result = subprocess.run(  # noqa: S603 - make, in this repository
        ["make", "--no-print-directory", "-C", str(ROOT), "-n", "run", *args],  # noqa: S607
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    served = [re.search(r"runserver '([^']+)'", line) for line in lines]
    assert [m.group(1) for m in served if m] == [address]
    assert f'echo "Serving Handoff on http://{address}/ (Ctrl-C to stop)"' in lines
    # the demo's "Open http://.../" line and the emails' links name the same address
    linked = {m.group(1) for line in lines if (m := re.search(r"HANDOFF_SITE_URL=(\S+)", line))}
    assert linked == {f"http://{address}"}
    host = address.rsplit(":", 1)[0]
    assert all(
        f"DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost,{host} " in line for line in lines if "runserver" in line
    )


def test_make_run_on_a_busy_port_stops_before_migrating_and_says_so() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = make("run", f"PORT={port}")
    assert result.returncode != 0
    assert f"cannot serve on 127.0.0.1 port {port}" in result.stderr
    assert "migrate" not in result.stdout and "Serving" not in result.stdout


def test_make_test_without_chromium_as_a_user_stops_at_once_with_the_command_to_run() -> None:
    """As a user (not root), before any gate runs or .venv is made: the Makefile and its check are run from
    a copy any user can read (a clone may sit in a directory only root can enter). As root it installs
    Debian's chromium instead (.ci/run, and the closing note of issue 13, show that from a fresh clone)."""
    user = None
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.fail("needs setpriv (util-linux) to run make as a user")
        user = 65534
    copy = Path(tempfile.mkdtemp(prefix="handoff-make-"))
    try:
        (copy / ".ci").mkdir()
        shutil.copy(ROOT / "Makefile", copy / "Makefile")
        shutil.copy(ROOT / ".ci" / "test_deps.sh", copy / ".ci" / "test_deps.sh")
        for path in (copy, copy / ".ci"):
            path.chmod(0o755)
        started = time.monotonic()
        result = make("test", user=user, root=copy, HANDOFF_CHROMIUM="/nonexistent/chromium")
        elapsed = time.monotonic() - started
    finally:
        shutil.rmtree(copy)
    assert result.returncode != 0
    assert "sudo apt-get install -y chromium" in result.stderr, result.stderr
    assert result.stdout.strip() == "", result.stdout  # nothing ran: no venv, no gate, no pytest
    assert elapsed < 20


def test_make_lint_checks_the_import_contracts_and_they_hold() -> None:
    """The lint gate runs import-linter on pyproject.toml's contracts (imports point one way: adapters ->
    services, selectors, policies -> models), among them that accounts imports nothing of referrals and
    that neither app's core imports an adapter; and the code keeps them."""
    planned = make("-n", "lint")
    assert planned.returncode == 0, planned.stderr
    assert any(line.split()[0].endswith("/bin/lint-imports") for line in planned.stdout.splitlines() if line)
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    expected = {"accounts-below-referrals", "referrals-core-below-adapters", "accounts-core-below-adapters"}
    assert expected <= {contract["id"] for contract in contracts}
    linted = subprocess.run(  # noqa: S603 - import-linter of this virtualenv, on this repository
        [str(Path(sys.executable).parent / "lint-imports"), "--no-logo", "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "0 broken" in linted.stdout
