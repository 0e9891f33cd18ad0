"""Stable names: a slug and a version for each library entry, a public id for each prescribed row.

The slugs of the entries already there are their names slugified ("-2", "-3"... in id order when two
names slugify alike), the same on PostgreSQL and SQLite; the entries migration 0002 loaded (its frozen
data) are marked as shipped with library version 1, so `manage.py library_load` may update or retire
them, never an entry added here. Prescribed exercises, precautions and red flags get a random public id:
the guidelines snapshot names them by it from now on.
"""

import uuid

from django.db import migrations, models
from django.utils.text import slugify

BATCH = 500


def fill_slugs(apps, schema_editor):
    from referrals.migrations._library_0002 import EXERCISES, LIBRARY_VERSION

    Exercise = apps.get_model("referrals", "Exercise")
    shipped = {entry["name"] for entry in EXERCISES}
    used: set[str] = set()
    rows = list(Exercise.objects.order_by("pk"))
    for row in rows:
        base = slugify(row.name)[:110] or "exercise"
        slug, n = base, 1
        while slug in used:
            n += 1
            slug = f"{base}-{n}"
        used.add(slug)
        row.slug = slug
        row.library_version = LIBRARY_VERSION if row.name in shipped else ""
    Exercise.objects.bulk_update(rows, ["slug", "library_version"], batch_size=BATCH)


def fill_public_ids(apps, schema_editor):
    for model_name in ("PlanExercise", "Precaution", "RedFlag"):
        model = apps.get_model("referrals", model_name)
        rows = list(model.objects.filter(public_id__isnull=True).only("pk").order_by("pk"))
        for row in rows:
            row.public_id = uuid.uuid4()
        model.objects.bulk_update(rows, ["public_id"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [("referrals", "0009_outbox_any_event")]

    operations = [
        migrations.AddField(
            model_name="exercise",
            name="slug",
            field=models.SlugField(db_index=False, editable=False, max_length=120, null=True),
        ),
        migrations.AddField(
            model_name="exercise",
            name="library_version",
            field=models.CharField(blank=True, default="", editable=False, max_length=20),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="exercise",
            name="retired_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill_slugs, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="exercise",
            name="slug",
            field=models.SlugField(editable=False, max_length=120, unique=True),
        ),
        migrations.AddField(
            model_name="planexercise",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="precaution",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="redflag",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="planexercise",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="precaution",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="redflag",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
