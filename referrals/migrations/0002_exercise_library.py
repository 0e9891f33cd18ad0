"""Load the exercise library written by the Handoff team, as it was then (frozen in _library_0002.py).

The data is a frozen copy, not the live referrals/exercise_library.py: editing the library never changes
what this migration does. `manage.py library_load` brings a database up to the live library.
"""

from django.db import migrations


def load_library(apps, schema_editor):
    from referrals.migrations._library_0002 import EXERCISES

    Exercise = apps.get_model("referrals", "Exercise")
    for entry in EXERCISES:
        Exercise.objects.update_or_create(
            name=entry["name"],
            defaults={
                "category": entry["category"],
                "body_region": entry["body_region"],
                "equipment": entry["equipment"],
                "instructions": entry["instructions"],
            },
        )


def unload_library(apps, schema_editor):
    from referrals.migrations._library_0002 import EXERCISES

    Exercise = apps.get_model("referrals", "Exercise")
    Exercise.objects.filter(name__in=[e["name"] for e in EXERCISES]).delete()


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial")]

    operations = [migrations.RunPython(load_library, unload_library)]
