"""The runs of each periodic task: one row per entry of settings.CELERY_BEAT_SCHEDULE, not one per run.
Data only: periodic.services writes them, periodic.schedule reads them beside the settings."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

ERROR_MAX_LENGTH = 200


class PeriodicRun(models.Model):
    """The last run of one schedule entry and the running counts. Written around each run of the task
    (periodic.services.recorded), under beat and a worker as under manage.py run_periodic."""

    class Outcome(models.TextChoices):
        OK = "ok", "ok"
        FAILED = "failed", "failed"

    name = models.CharField(max_length=200, unique=True, help_text="The entry's key in CELERY_BEAT_SCHEDULE.")
    task = models.CharField(max_length=200, help_text="The Celery task the entry runs.")
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(
        max_length=10,
        choices=Outcome.choices,
        blank=True,
        help_text="How the last finished run ended; empty: none has finished.",
    )
    last_result = models.IntegerField(
        null=True,
        blank=True,
        help_text="What the last run returned when it was a count (the rows it acted on); empty otherwise.",
    )
    last_error = models.CharField(
        max_length=ERROR_MAX_LENGTH,
        blank=True,
        help_text="The last run's error when it failed: the exception's class only (its message may quote "
        "row values); the message and trace are in the log of the process that ran it.",
    )
    runs = models.PositiveIntegerField(
        default=0, help_text="Runs started (one killed before it finished counts, with no outcome)."
    )
    failures = models.PositiveIntegerField(default=0, help_text="Runs that ended in an error.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "periodic task"
        verbose_name_plural = "periodic tasks"
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name
