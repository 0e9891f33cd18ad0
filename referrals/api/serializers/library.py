"""Serializers of the exercise library."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from referrals.library.models import BodyRegion, Exercise

# --- the exercise library and the trainers directory ---------------------------------------------------


class ExerciseSerializer(serializers.Serializer[Exercise]):
    id = serializers.IntegerField()
    slug = serializers.SlugField(
        help_text="The entry's stable name in the shipped library; a rename keeps it."
    )
    name = serializers.CharField()
    category = serializers.ChoiceField(choices=Exercise.Category.choices)
    body_region = serializers.ChoiceField(choices=BodyRegion.choices)
    instructions = serializers.CharField()
    equipment = serializers.CharField(allow_blank=True)


class ExerciseQuerySerializer(serializers.Serializer[Any]):
    search = serializers.CharField(max_length=100, required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=Exercise.Category.choices, required=False)
    body_region = serializers.ChoiceField(choices=BodyRegion.choices, required=False)
