"""The exercise library's write path: bring the database up to the shipped, versioned data.

`library_load` adds the entries new in referrals/library/data.py, updates the ones whose text
changed, and retires (never deletes) shipped entries gone from it: a retired entry is no longer offered,
and the plans and snapshots that name it keep it. Entries added here (no library version) are left alone.
Running it twice changes nothing the second time."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from referrals.care.models import PlanExercise
from referrals.library.data import LIBRARY, LIBRARY_VERSION, ExerciseSeed
from referrals.library.models import Exercise

# The fields the shipped data owns; the slug is the entry's identity, never rewritten.
LIBRARY_FIELDS = ("name", "category", "body_region", "equipment", "instructions")


class LibraryConflict(ValueError):
    """The shipped data cannot be loaded as it is (a name held by another entry)."""


@dataclass
class LibraryLoadResult:
    version: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    retired_in_use: list[str] = field(default_factory=list)  # of `retired`: prescribed by some plan

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.retired)


def library_load(
    *,
    entries: Mapping[str, ExerciseSeed] | None = None,
    version: str | None = None,
    now: datetime.datetime | None = None,
) -> LibraryLoadResult:
    """Load `entries` (by slug) as library `version`, all or nothing; by default the shipped library."""
    entries = LIBRARY if entries is None else entries
    version = LIBRARY_VERSION if version is None else version
    now = now or timezone.now()
    result = LibraryLoadResult(version=version)
    with transaction.atomic():
        rows = list(Exercise.objects.select_for_update().order_by("pk"))
        by_slug = {row.slug: row for row in rows}
        by_name = {row.name: row for row in rows}
        for slug, seed in entries.items():
            entry: dict[str, object] = dict(seed)
            row = by_slug.get(slug)
            holder = by_name.get(str(entry["name"]))
            if holder is not None and holder is not row:
                raise LibraryConflict(
                    f"The library entry {slug!r} is named {entry['name']!r}, the name of the entry "
                    f"{holder.slug!r} already in the database: rename one of them."
                )
            if row is None:
                Exercise.objects.create(
                    slug=slug, library_version=version, **{f: entry[f] for f in LIBRARY_FIELDS}
                )
                result.added.append(slug)
                continue
            changed = [f for f in LIBRARY_FIELDS if getattr(row, f) != entry[f]]
            if row.retired_at is not None:  # back in the shipped data: offered again
                row.retired_at = None
                changed.append("retired_at")
            if changed:
                for f in LIBRARY_FIELDS:
                    setattr(row, f, entry[f])
                row.library_version = version
                row.save(update_fields=[*changed, "library_version"])
                result.updated.append(slug)
        gone = [
            row for row in rows if row.library_version and row.retired_at is None and row.slug not in entries
        ]
        if gone:
            Exercise.objects.filter(pk__in=[row.pk for row in gone]).update(retired_at=now)
            result.retired = [row.slug for row in gone]
            in_use = set(
                PlanExercise.objects.filter(exercise__in=[row.pk for row in gone]).values_list(
                    "exercise__slug", flat=True
                )
            )
            result.retired_in_use = [slug for slug in result.retired if slug in in_use]
    return result
