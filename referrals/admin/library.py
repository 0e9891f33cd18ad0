"""Admin of the exercise library."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin_base import (
    ModelAdmin,
)
from referrals.library.models import Exercise


@admin.register(Exercise)
class ExerciseAdmin(ModelAdmin[Exercise]):
    organization_scope = None  # the shared exercise library: every staff user sees it
    list_display = ("name", "slug", "category", "body_region", "equipment", "library_version", "retired_at")
    list_filter = ("category", "body_region", ("retired_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "slug", "equipment", "instructions")
    # Written by `manage.py library_load` (or, for an entry added here, from its name): never by hand.
    readonly_fields = ("slug", "library_version", "retired_at")
