"""The backup procedure of docs/deployment.md, end to end on a database of its own: a scratch role and
database (never the pytest database), migrated by `manage.py migrate`, given referrals whose emails are
partly sent and partly still owed, dumped with scripts/backup_restore.sh (pg_dump -Fc), dropped and
created again, restored (pg_restore), then served to a real worker with beat: every email owed at the
backup goes out once, and none sent before it goes out again."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

from tests.integration.conftest import unavailable
from tests.integration.harness import FAST_OUTBOX_ENV, ROOT, CeleryWorker, RedisServer, free_port, wait_for
from tests.mail_backends import MailEdge

pytestmark = [pytest.mark.integration, pytest.mark.postgresql]

SCRIPT = ROOT / "scripts" / "backup_restore.sh"


@dataclass
class Scratch:
    """A role and a database of this test's own on the test database's server; `url` is the app's
    DATABASE_URL for it (the role owns the database, as in docs/deployment.md)."""

    name: str
    role: str
    url: str
    admin: list[str]  # -h, -p, -U of the server's administrator (the test database's user)
    admin_env: dict[str, str]
    admin_database: str  # where the administrator connects to create and drop the role: the test database

    def admin_run(self, *command: str) -> None:
        result = subprocess.run(  # noqa: S603 - PostgreSQL's client tools, fixed arguments
            [command[0], *self.admin, *command[1:]],
            env=self.admin_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:  # e.g. a user who may not create roles and databases
            raise AssertionError(f"{command} exited {result.returncode}: {result.stderr}")

    def admin_sql(self, sql: str) -> None:
        self.admin_run("psql", "-X", "-q", "-d", self.admin_database, "-c", sql)

    def create_database(self) -> None:
        self.admin_run("createdb", "--owner", self.role, self.name)

    def drop_database(self) -> None:
        self.admin_run("dropdb", "--if-exists", "--force", self.name)


@pytest.fixture
def scratch() -> Iterator[Scratch]:
    settings = connection.settings_dict
    if connection.vendor != "postgresql":
        unavailable("DATABASE_URL pointing at PostgreSQL (the backup is pg_dump's)")
    for tool in ("createdb", "dropdb", "psql", "pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} on PATH (Debian: apt-get install postgresql-client)")
    host, port = settings.get("HOST") or "127.0.0.1", str(settings.get("PORT") or 5432)
    admin = ["-h", host, "-p", port, "-U", settings.get("USER") or "postgres"]
    admin_env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    suffix = secrets.token_hex(4)
    role, password = f"handoff_restore_{suffix}", secrets.token_hex(16)
    scratch = Scratch(
        name=f"handoff_restore_{suffix}",
        role=role,
        url=f"postgres://{role}:{quote(password, safe='')}@{host}:{port}/handoff_restore_{suffix}",
        admin=admin,
        admin_env=admin_env,
        admin_database=settings["NAME"],
    )
    scratch.admin_sql(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    try:
        scratch.create_database()
        yield scratch
    finally:
        scratch.drop_database()
        scratch.admin_sql(f"DROP ROLE IF EXISTS {role}")


def app_env(scratch: Scratch, tmp_path: Path, **extra: str) -> dict[str, str]:
    """A process of the app on the scratch database, with the worker's settings (integration/harness.py)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HANDOFF_", "REDIS_", "CACHE_"))
    }
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "False",
        "DATABASE_URL": scratch.url,
        "REDIS_URL": "",
        "HANDOFF_VAR_DIR": str(tmp_path / "var"),
        **FAST_OUTBOX_ENV,
        **extra,
    }


def run(command: list[str], env: dict[str, str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 - this repository's commands, fixed arguments
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{command} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def world(command: str, env: dict[str, str]) -> dict[str, Any]:
    result = run([sys.executable, "-m", "tests.integration.restore_world", command], env)
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_a_restored_backup_sends_every_owed_email_once_and_no_sent_one_again(
    scratch: Scratch, redis_server: RedisServer, tmp_path: Path
) -> None:
    before, after = MailEdge(tmp_path / "mail-before"), MailEdge(tmp_path / "mail-after")
    env = app_env(scratch, tmp_path)
    run([sys.executable, "manage.py", "migrate", "--noinput"], env)
    # Redis away while the PT sends: the rows wait in PostgreSQL; some are then delivered before the backup.
    built = world(
        "build",
        app_env(
            scratch,
            tmp_path,
            REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
            DJANGO_EMAIL_BACKEND="tests.mail_backends.EdgeBackend",
            HANDOFF_TEST_MAIL_DIR=str(before.root),
        ),
    )
    backed_up = world("state", env)
    status = {row["pk"]: row for row in backed_up["outbox"]}
    assert {status[pk]["status"] for pk in built["sent"]} == {"sent"}
    assert {status[pk]["status"] for pk in built["pending"] + built["retrying"]} == {"pending"}
    assert [status[pk]["attempts"] for pk in built["retrying"]] == [1]
    assert [m["to"] for m in before.sent()] == [status[pk]["recipient__email"] for pk in built["sent"]]

    dump = tmp_path / "handoff.dump"
    backup = run(["bash", str(SCRIPT), "backup", str(dump)], env)
    assert f"backup: {dump}" in backup.stdout
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600, "the dump holds patient data: its owner's only"
    assert not dump.with_name("handoff.dump.partial").exists()

    # The database is lost; a new, empty one is created for the app's role and the dump restored into it.
    scratch.drop_database()
    scratch.create_database()
    restore = run(["bash", str(SCRIPT), "restore", str(dump)], env)
    assert "restored" in restore.stdout
    again = run(["bash", str(SCRIPT), "restore", str(dump)], env, check=False)
    assert again.returncode == 1 and "already has" in again.stderr, "restore never writes over a database"
    assert world("state", env) == backed_up  # every row, the applied migrations included

    worker = CeleryWorker(
        workdir=tmp_path / "worker",
        database_url=scratch.url,
        broker_url=redis_server.url,
        mail_dir=after.root,
        beat=True,
    )
    try:
        worker.start()
        owed = sorted(status[pk]["recipient__email"] for pk in built["pending"] + built["retrying"])
        wait_for(lambda: len(after.sent()) >= len(owed), 30, "the sweeper and the worker send what was owed")
        sweeps = len(worker.task_events("sweep_outbox"))
        wait_for(lambda: len(worker.task_events("sweep_outbox")) >= sweeps + 3, 30, "three more sweeps")
    finally:
        worker.shutdown()

    assert sorted(m["to"] for m in after.sent()) == owed, "each owed email once, none sent before again"
    assert len(before.sent()) == len(built["sent"]), "nothing more went out from before the backup"
    delivered = {row["pk"]: row for row in world("state", env)["outbox"]}
    assert set(delivered) == set(status), "no outbox row lost or added"
    assert {row["status"] for row in delivered.values()} == {"sent"}
    for pk in built["sent"]:
        assert delivered[pk] == status[pk], "a row sent before the backup is left as it was"
    assert [delivered[pk]["attempts"] for pk in built["pending"]] == [1]
    assert [delivered[pk]["attempts"] for pk in built["retrying"]] == [2]
