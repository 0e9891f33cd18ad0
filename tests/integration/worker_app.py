"""The Celery app of the worker process the integration tests start: the production app, plus a log.

The worker runs the real configuration (config/celery_app.py and the CELERY_* settings); the harness only
shortens the outbox intervals through the environment (HANDOFF_OUTBOX_*). Each task start and end is
appended to HANDOFF_TASK_LOG as a JSON line, so a test or the measuring script can tell when a task began
and what it returned ("sent", "skipped", "retry", "failed").
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from config.celery_app import app

__all__ = ["app"]


def _log(row: dict[str, Any]) -> None:
    path = os.environ.get("HANDOFF_TASK_LOG")
    if path:
        with open(path, "a") as out:
            out.write(json.dumps(row, default=str) + "\n")


@task_prerun.connect
def _started(task_id: str, task: Any, args: Any = (), **_: Any) -> None:
    _log({"event": "start", "t": time.time(), "task": task.name, "args": list(args), "pid": os.getpid()})


@task_postrun.connect
def _ended(task_id: str, task: Any, args: Any = (), retval: Any = None, **_: Any) -> None:
    _log(
        {
            "event": "end",
            "t": time.time(),
            "task": task.name,
            "args": list(args),
            "retval": retval,
            "pid": os.getpid(),
        }
    )
