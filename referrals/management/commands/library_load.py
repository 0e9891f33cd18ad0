"""Bring the exercise library up to the shipped data (referrals/library/data.py); `make run` runs it
through seed_demo. Adds, updates and retires, never deletes; a second run changes nothing."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from referrals.library.services import LibraryConflict, library_load


class Command(BaseCommand):
    help = "Load the shipped exercise library: add new entries, update changed ones, retire removed ones."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = library_load()
        except LibraryConflict as exc:
            raise CommandError(str(exc)) from exc
        out = self.stdout
        if not result.changed:
            out.write(f"Exercise library version {result.version}: already loaded, nothing changed.")
            return
        out.write(
            self.style.SUCCESS(
                f"Exercise library version {result.version}: {len(result.added)} added, "
                f"{len(result.updated)} updated, {len(result.retired)} retired."
            )
        )
        for label, slugs in (("added", result.added), ("updated", result.updated)):
            if slugs:
                out.write(f"  {label}: {', '.join(slugs)}")
        if result.retired:
            in_use = set(result.retired_in_use)
            out.write(
                "  retired (no longer offered; kept for the plans that prescribe it): "
                + ", ".join(f"{s} (in use)" if s in in_use else s for s in result.retired)
            )
