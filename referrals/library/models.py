"""The exercise library: what a plan prescribes from, and the body regions it is tagged with."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.text import slugify


class BodyRegion(models.TextChoices):
    NECK = "neck", "Neck"
    SHOULDER = "shoulder", "Shoulder"
    ELBOW = "elbow", "Elbow"
    WRIST_HAND = "wrist_hand", "Wrist and hand"
    THORACIC_SPINE = "thoracic_spine", "Thoracic spine"
    LUMBAR_SPINE = "lumbar_spine", "Lumbar spine"
    HIP = "hip", "Hip"
    KNEE = "knee", "Knee"
    ANKLE_FOOT = "ankle_foot", "Ankle and foot"
    CORE = "core", "Core"
    FULL_BODY = "full_body", "Full body"


class Exercise(models.Model):
    class Category(models.TextChoices):
        MOBILITY = "mobility", "Mobility"
        STRETCHING = "stretching", "Stretching"
        BALANCE = "balance", "Balance"
        STRENGTH = "strength", "Strength"
        CARDIO = "cardio", "Cardio"
        FUNCTIONAL = "functional", "Functional"

    # The entry's stable name in the shipped library (referrals/library/data.py): a rename keeps it.
    slug = models.SlugField(max_length=120, unique=True, editable=False)
    name = models.CharField(max_length=120, unique=True)
    category = models.CharField(max_length=12, choices=Category.choices)
    body_region = models.CharField(max_length=20, choices=BodyRegion.choices)
    instructions = models.TextField()
    equipment = models.CharField(max_length=120, blank=True)
    # The version of the shipped library that last wrote this entry; empty for an entry added here.
    library_version = models.CharField(max_length=20, blank=True, editable=False)
    # Gone from the shipped library: no longer offered, kept for the plans that prescribe it.
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["category", "body_region"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.slug:  # an entry added in the admin: named after itself, like the shipped ones
            self.slug = exercise_slug(self.name, taken=Exercise.objects.exclude(pk=self.pk))
        super().save(*args, **kwargs)


def exercise_slug(name: str, *, taken: models.QuerySet[Exercise]) -> str:
    """The slug of a new entry: its name slugified, with "-2", "-3"... when another entry has it."""
    base = slugify(name)[:110] or "exercise"
    used = set(taken.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 1
    while slug in used:
        n += 1
        slug = f"{base}-{n}"
    return slug
