"""The Celery application, configured from Django settings (CELERY_* names)."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("handoff")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_connections(sender: Any = None, **_: Any) -> None:
    """Around every task, the rule Django applies around every request: close a database connection that
    saw an error or is older than CONN_MAX_AGE, keep the others. Celery's own Django fixup would close every
    connection before and after every task (one new PostgreSQL connection per task, about half of a
    delivery's cost); CELERY_DB_REUSE_MAX (settings) turns that down and this takes its place.

    Not for a task run in-process (eager): that runs inside the caller's transaction."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections as django_close_old_connections

    django_close_old_connections()
