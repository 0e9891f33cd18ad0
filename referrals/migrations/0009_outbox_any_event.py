"""A system actor and an outbox for any domain event (issue 14).

- `HandoffEvent.actor` becomes nullable: an event without an actor is the system's (a timer).
- `Notification` and `OutboxMessage` get a `kind`, a `source_key` (one row per source, recipient and
  channel) and an optional `handoff`; their `event` becomes optional. Existing rows are filled from their
  event: kind "handoff-event", source key "handoff-event:<event id>", the event's referral.

The data steps are single UPDATE statements (PostgreSQL and SQLite alike). Reversing: rows without an
event cannot exist before this migration and are deleted; system events get the referral's trainer back
as their actor (whom the daily review recorded them for before).
"""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import CharField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat


def _checks_now(schema_editor: Any) -> None:
    """On PostgreSQL, check the foreign keys an UPDATE sets at once: a check left pending until commit
    would make the ALTER TABLE statements after it fail ("pending trigger events")."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _checks_deferred(schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


def fill_sources(apps: Any, schema_editor: Any) -> None:
    HandoffEvent = apps.get_model("referrals", "HandoffEvent")
    _checks_now(schema_editor)
    for name in ("Notification", "OutboxMessage"):
        model = apps.get_model("referrals", name)
        model.objects.filter(event__isnull=False).update(
            kind="handoff-event",
            source_key=Concat(Value("handoff-event:"), Cast("event_id", CharField())),
            handoff_id=Subquery(
                HandoffEvent.objects.filter(pk=OuterRef("event_id")).values("handoff_id")[:1]
            ),
        )
    _checks_deferred(schema_editor)


def unfill_sources(apps: Any, schema_editor: Any) -> None:
    HandoffEvent = apps.get_model("referrals", "HandoffEvent")
    TrainerHandoff = apps.get_model("referrals", "TrainerHandoff")
    _checks_now(schema_editor)
    for name in ("Notification", "OutboxMessage"):
        apps.get_model("referrals", name).objects.filter(event__isnull=True).delete()
    HandoffEvent.objects.filter(actor__isnull=True).update(
        actor_id=Subquery(TrainerHandoff.objects.filter(pk=OuterRef("handoff_id")).values("trainer_id")[:1])
    )
    _checks_deferred(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0008_plan_status_follows_referrals"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="handoffevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RemoveConstraint(model_name="notification", name="notification_unique_per_event"),
        migrations.RemoveConstraint(
            model_name="outboxmessage", name="outbox_unique_per_event_recipient_channel"
        ),
        migrations.AddField(
            model_name="notification",
            name="handoff",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="referrals.trainerhandoff",
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                default="handoff-event", help_text="referrals.notifications.NOTIFICATION_KINDS", max_length=40
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="source_key",
            field=models.CharField(
                default="",
                help_text='What caused it, e.g. "handoff-event:<id>": one row per source and recipient.',
                max_length=100,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="handoff",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="referrals.trainerhandoff",
            ),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="kind",
            field=models.CharField(
                default="handoff-event", help_text="referrals.notifications.NOTIFICATION_KINDS", max_length=40
            ),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="source_key",
            field=models.CharField(
                default="",
                help_text='What caused it, e.g. "handoff-event:<id>": one row per source, recipient and '
                "channel.",
                max_length=100,
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="notification",
            name="event",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="notifications",
                to="referrals.handoffevent",
            ),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="event",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="outbox",
                to="referrals.handoffevent",
            ),
        ),
        migrations.RunPython(fill_sources, unfill_sources, elidable=False),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.UniqueConstraint(
                fields=("source_key", "recipient"), name="notification_unique_per_source"
            ),
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.CheckConstraint(condition=~Q(source_key=""), name="notification_has_source"),
        ),
        migrations.AddConstraint(
            model_name="outboxmessage",
            constraint=models.UniqueConstraint(
                fields=("source_key", "recipient", "channel"),
                name="outbox_unique_per_source_recipient_channel",
            ),
        ),
        migrations.AddConstraint(
            model_name="outboxmessage",
            constraint=models.CheckConstraint(condition=~Q(source_key=""), name="outbox_has_source"),
        ),
    ]
