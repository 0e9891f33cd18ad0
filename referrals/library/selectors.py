"""Reads of the exercise library."""

from __future__ import annotations

from django.db.models import QuerySet

from referrals.library.models import Exercise

# --- the exercise library and the trainers directory ---------------------------------------------------


def exercise_list(*, search: str = "", category: str = "", body_region: str = "") -> QuerySet[Exercise]:
    """The library offered (retired entries left out), filtered by words of the name, category and body
    region (all optional)."""
    qs = Exercise.objects.filter(retired_at__isnull=True)
    for word in search.split()[:5]:
        qs = qs.filter(name__icontains=word)
    if category:
        qs = qs.filter(category=category)
    if body_region:
        qs = qs.filter(body_region=body_region)
    return qs.order_by("name")


def exercise_list_by_ids(*, ids: list[int]) -> QuerySet[Exercise]:
    return Exercise.objects.filter(pk__in=ids).order_by("name")
