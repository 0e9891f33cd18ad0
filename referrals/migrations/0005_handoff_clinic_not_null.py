"""Every handoff has its clinic (0004 filled them): NOT NULL from now on."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0004_handoff_clinic_and_read_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="trainerhandoff",
            name="clinic",
            field=models.ForeignKey(
                editable=False,
                limit_choices_to={"kind": "clinic"},
                on_delete=django.db.models.deletion.PROTECT,
                related_name="clinic_handoffs",
                to="accounts.organization",
            ),
        ),
    ]
