"""The supply chain: the lock files name every package installed with its hashes and the Makefile installs
them with --require-hashes; one PostgreSQL driver; the pre-commit hooks run the repository's own gate;
.env.example names every variable of the README's table."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ("requirements-bootstrap.txt", "requirements.txt", "requirements-dev.txt")
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")
# The PostgreSQL drivers, of which a lock holds exactly one (psycopg-binary and psycopg-c: psycopg's builds).
DRIVERS = {"psycopg", "psycopg2", "psycopg2-binary"}


def logical_lines(path: Path) -> list[str]:
    """The lines of a requirements file with their continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", path.read_text())
    lines = (re.sub(r"(^|\s)#.*$", "", line).strip() for line in joined.splitlines())
    return [line for line in lines if line]


def locked(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (version, hashes) of a lock file."""
    entries: dict[str, tuple[str, frozenset[str]]] = {}
    for line in logical_lines(path):
        requirement, _, options = line.partition(" ")
        name, _, version = requirement.partition("==")
        entries[canonicalize_name(name)] = (version, frozenset(HASH.findall(options)))
    return entries


@pytest.mark.parametrize("lock", LOCKS)
def test_every_package_of_a_lock_is_pinned_with_its_hashes(lock: str) -> None:
    lines = logical_lines(ROOT / lock)
    assert lines, f"{lock} names no package"
    for line in lines:
        requirement, _, options = line.partition(" ")
        assert not requirement.startswith("-"), f"{lock}: an option, not a package: {line!r}"
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+", requirement), (
            f"{lock}: {requirement!r} is not pinned with == (no extras, no URL)"
        )
        assert HASH.search(options), f"{lock}: {requirement} has no --hash=sha256:"
        leftover = HASH.sub("", options).strip()
        assert leftover == "", f"{lock}: {requirement} carries more than hashes: {leftover!r}"


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-dev.txt"])
def test_a_lock_has_one_postgresql_driver_psycopg_with_its_binary_at_the_same_version(lock: str) -> None:
    entries = locked(ROOT / lock)
    assert sorted(DRIVERS & set(entries)) == ["psycopg"]
    assert entries["psycopg-binary"][0] == entries["psycopg"][0]
    direct = [Requirement(line).name for line in direct_lines(ROOT / "requirements.in")]
    assert [name for name in direct if canonicalize_name(name).startswith("psycopg")] == ["psycopg"]


def direct_lines(path: Path) -> list[str]:
    return [line for line in logical_lines(path) if not line.startswith("-")]


@pytest.mark.parametrize(
    ("source", "lock"),
    [
        ("requirements-bootstrap.in", "requirements-bootstrap.txt"),
        ("requirements.in", "requirements.txt"),
        ("requirements-dev.in", "requirements-dev.txt"),
        ("requirements.in", "requirements-dev.txt"),
    ],
)
def test_each_direct_dependency_is_pinned_and_locked_at_that_version(source: str, lock: str) -> None:
    """A pin changed in a .in file and not locked again (`make lock`) fails here."""
    entries = locked(ROOT / lock)
    for line in direct_lines(ROOT / source):
        requirement = Requirement(line)
        pins = [spec.version for spec in requirement.specifier if spec.operator == "=="]
        assert len(pins) == 1, f"{source}: {line!r} is not pinned with =="
        name = canonicalize_name(requirement.name)
        assert name in entries, f"{lock} lacks {requirement.name} of {source}: make lock"
        assert entries[name][0] == pins[0], f"{lock} has {name} {entries[name][0]}, {source} says {pins[0]}"


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-dev.txt"])
def test_the_locks_agree_on_every_package_they_share(lock: str) -> None:
    """The dev lock holds the runtime lock whole, and every lock takes pip and setuptools from the
    bootstrap lock: the same versions and hashes wherever a package appears."""
    entries = locked(ROOT / lock)
    below = locked(ROOT / "requirements-bootstrap.txt")
    if lock == "requirements-dev.txt":
        runtime = locked(ROOT / "requirements.txt")
        assert set(runtime) <= set(entries), f"missing from {lock}: {sorted(set(runtime) - set(entries))}"
        below = {**below, **runtime}
    for name in set(entries) & set(below):
        assert entries[name] == below[name], f"{lock} and the lock below it differ on {name}"


def planned_install(tmp_path: Path, target: str) -> list[str]:
    venv = tmp_path / "venv"  # does not exist: make plans every step from the start
    result = subprocess.run(  # noqa: S603 - make, in this repository
        ["make", "--no-print-directory", "-C", str(ROOT), "-n", f"VENV={venv}", f"{venv}/{target}"],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if " install " in line]


@pytest.mark.parametrize(
    ("target", "lock"),
    [(".runtime-installed", "requirements.txt"), (".dev-installed", "requirements-dev.txt")],
)
def test_the_makefile_installs_the_bootstrap_lock_then_the_lock_each_with_require_hashes(
    tmp_path: Path, target: str, lock: str
) -> None:
    installs = planned_install(tmp_path, target)
    files = [re.findall(r"-r (\S+)", line) for line in installs]
    assert files == [["requirements-bootstrap.txt"], [lock]]
    assert all("--require-hashes" in line for line in installs), installs


def test_make_lock_compiles_each_lock_with_hashes_in_a_virtualenv_of_its_own() -> None:
    result = subprocess.run(  # noqa: S603 - make, in this repository
        ["make", "--no-print-directory", "-C", str(ROOT), "-n", "lock"],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    compiles = [shlex.split(line) for line in result.stdout.splitlines() if "pip-compile" in line]
    assert [words[-1] for words in compiles] == [lock.replace(".txt", ".in") for lock in LOCKS]
    for words in compiles:
        assert words[1].startswith(".venv-lock/") and "--generate-hashes" in words
        assert words[words.index("--output-file") + 1] == words[-1].replace(".in", ".txt")


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w.-]*):(?!=)", text, flags=re.MULTILINE))


def test_the_pre_commit_hooks_are_local_and_run_the_makefile_gate() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert {repo["repo"] for repo in config["repos"]} == {"local"}  # nothing cloned, nothing downloaded
    targets = makefile_targets()
    venv_bin = Path(sys.executable).parent
    ran: set[str] = set()
    for hook in hooks:
        assert hook["language"] == "system", hook["id"]
        words = shlex.split(hook["entry"])
        if words[0] == "make":
            named = [word for word in words[1:] if not word.startswith("-")]
            assert named and set(named) <= targets, f"{hook['id']}: {named} not all Makefile targets"
            ran.update(named)
        else:
            assert words[0].startswith(".venv/bin/"), f"{hook['id']}: neither make nor a .venv tool"
            assert (venv_bin / Path(words[0]).name).exists(), f"{hook['id']}: {words[0]} is not installed"
    assert {"lint", "audit"} <= ran


def readme_variables() -> list[str]:
    """The variables of the README's table under "### Environment variables" (its first column)."""
    section = (ROOT / "README.md").read_text().split("### Environment variables", 1)[1]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    names = [name for row in rows[2:] for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", row.split("|")[1])]
    assert len(names) >= 20, f"the README's table looks unreadable: {names}"
    return names


def env_example_assignments() -> dict[str, str]:
    """NAME -> value of the commented-out assignments `# NAME=value` of .env.example."""
    text = (ROOT / ".env.example").read_text()
    return dict(re.findall(r"^# ?([A-Z][A-Z0-9_]*)=(.*)$", text, flags=re.MULTILINE))


def test_env_example_names_every_variable_of_the_readme_table() -> None:
    assigned = env_example_assignments()
    missing = [name for name in readme_variables() if name not in assigned]
    assert missing == [], f".env.example lacks {missing}"


def test_env_example_copied_to_dot_env_sets_nothing_until_a_line_is_uncommented() -> None:
    """The settings read .env (the test and production settings too): a copy must not change them."""
    active = [
        line
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert active == []


def test_env_example_values_uncommented_are_valid_development_settings(tmp_path: Path) -> None:
    values = env_example_assignments()
    scrub = {"DATABASE_URL", "REDIS_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE", *values}
    env = {k: v for k, v in os.environ.items() if k not in scrub}
    env.update({k: v for k, v in values.items() if k not in ("DJANGO_SETTINGS_MODULE", "HANDOFF_VAR_DIR")})
    env.update({"DJANGO_SETTINGS_MODULE": values["DJANGO_SETTINGS_MODULE"], "HANDOFF_VAR_DIR": str(tmp_path)})
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
