from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db.models.signals import post_migrate


def ensure_periodic_runs(sender: AppConfig, *, using: str, apps: Apps = global_apps, **kwargs: Any) -> None:
    """After every migrate, a row for each entry of beat's schedule (periodic.services.periodic_runs_ensure):
    the admin then lists the whole schedule, an entry that never ran included, and its GET writes nothing.
    Skipped when the migrate went back below the table's migration. A flush (run between the tests that
    use real transactions) sends the signal without `apps`: the project's registry then."""
    try:
        apps.get_model("referrals", "PeriodicRun")
    except LookupError:
        return
    from referrals.periodic import services as periodic_services

    periodic_services.periodic_runs_ensure(using=using)


class ReferralsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        from referrals import checks  # noqa: F401  # registers the system checks

        post_migrate.connect(ensure_periodic_runs, sender=self, dispatch_uid="referrals.ensure_periodic_runs")
