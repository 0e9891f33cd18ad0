"""Serializers of notifications."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from referrals.api.serializers.common import AwareDateTimeField
from referrals.notify.models import Notification

# --- notifications -------------------------------------------------------------------------------------


class NotificationSerializer(serializers.Serializer[Notification]):
    id = serializers.UUIDField(source="public_id")
    title = serializers.CharField()
    urgent = serializers.BooleanField()
    read = serializers.SerializerMethodField()
    read_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    kind = serializers.CharField(
        help_text='What kind of event it tells of: "handoff-event" for a referral\'s.'
    )
    handoff = serializers.UUIDField(source="handoff.public_id", allow_null=True)
    event = serializers.UUIDField(source="event.public_id", allow_null=True)

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class NotificationQuerySerializer(serializers.Serializer[Any]):
    unread = serializers.BooleanField(required=False)
    updated_since = AwareDateTimeField(
        required=False,
        help_text="Only notifications created or read at or after this moment: ISO 8601 with its "
        "offset. Empty, malformed or without an offset: 400.",
    )


class MarkAllReadSerializer(serializers.Serializer[Any]):
    marked = serializers.IntegerField()
