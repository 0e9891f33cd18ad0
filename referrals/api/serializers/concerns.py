"""Serializers of concerns."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from referrals.api.serializers.common import PersonRefSerializer
from referrals.concerns.models import CONCERN_MAX_LENGTH, CONCERN_NOTE_MAX_LENGTH, Concern


class ConcernInputSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=CONCERN_MAX_LENGTH)
    hold = serializers.BooleanField(
        default=False, help_text="Also put the handoff on hold (from in progress)."
    )


class ConcernResolveInputSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(
        max_length=CONCERN_NOTE_MAX_LENGTH, help_text="What was found or done; the trainer reads it."
    )


class ConcernSerializer(serializers.Serializer[Concern]):
    """Where a concern stands: raised, acknowledged (by whom, when), resolved (by whom, when, the note)."""

    id = serializers.UUIDField(source="public_id")
    state = serializers.ChoiceField(choices=Concern.State.choices)
    put_on_hold = serializers.BooleanField()
    raised_at = serializers.DateTimeField(source="event.created_at")
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = PersonRefSerializer(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolved_by = PersonRefSerializer(allow_null=True)
    resolution_note = serializers.CharField(allow_blank=True)
