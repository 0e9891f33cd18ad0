"""TrainerHandoff.clinic: the plan's patient's clinic, copied onto the handoff (filled here for existing
rows; made NOT NULL in 0005, in a transaction of its own), and the indexes of the read paths (issue 7)."""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_clinic(apps: Any, schema_editor: Any) -> None:
    handoffs = apps.get_model("referrals", "TrainerHandoff")
    plans = apps.get_model("referrals", "TreatmentPlan")
    clinic_of_plan = plans.objects.filter(pk=OuterRef("plan_id")).values("patient__clinic_id")[:1]
    handoffs.objects.filter(clinic__isnull=True).update(clinic_id=Subquery(clinic_of_plan))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_api_token"),
        ("referrals", "0003_access_log"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="trainerhandoff",
            name="clinic",
            field=models.ForeignKey(
                editable=False,
                limit_choices_to={"kind": "clinic"},
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="clinic_handoffs",
                to="accounts.organization",
            ),
        ),
        migrations.AddIndex(
            model_name="handoffevent",
            index=models.Index(
                condition=models.Q(("kind", "concern")),
                fields=["handoff", "-created_at"],
                name="event_concern_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["recipient", "-created_at", "-id"], name="notification_latest_idx"),
        ),
        migrations.AddIndex(
            model_name="trainerhandoff",
            index=models.Index(fields=["clinic", "status", "-updated_at"], name="handoff_clinic_status_idx"),
        ),
        migrations.AddIndex(
            model_name="trainerhandoff",
            index=models.Index(
                condition=models.Q(("status", "requested")),
                fields=["clinic", "sent_at"],
                name="handoff_clinic_waiting_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="trainerhandoff",
            index=models.Index(
                condition=models.Q(("status__in", ["rejected", "failed"])),
                fields=["clinic", "-updated_at"],
                name="handoff_clinic_ended_idx",
            ),
        ),
        migrations.RunPython(fill_clinic, migrations.RunPython.noop, elidable=True),
    ]
