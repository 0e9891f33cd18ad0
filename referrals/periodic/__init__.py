"""The periodic tasks (settings.CELERY_BEAT_SCHEDULE) and their runs: one row per schedule entry says when
it last started and finished, how that run ended and how many runs there were, so the admin shows the
whole schedule and which entry is late (beat or run_periodic down)."""
