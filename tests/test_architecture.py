"""The layout's rules that import-linter (the lint gate's contracts) does not check: no application module
over 500 lines, and areas that use each other only through public names (docs/architecture.md)."""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
APP_PACKAGES = ("accounts", "referrals", "config")
# Shipped data, not code: the exercise library and the demo world.
SHIPPED_DATA = {"referrals/library/data.py", "referrals/demo/data.py"}
MAX_LINES = 500


def app_modules() -> list[tuple[str, pathlib.Path]]:
    found = []
    for package in APP_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in rel:
                found.append((rel, path))
    return found


def module_name(rel: str) -> str:
    return rel[: -len(".py")].replace("/", ".").removesuffix(".__init__")


def area_of(module: str) -> str | None:
    """`referrals.care.services` -> `care`; top-level modules (`referrals.errors`) belong to no area."""
    parts = module.split(".")
    return parts[1] if parts[0] == "referrals" and len(parts) > 2 else None


def test_no_application_module_is_over_500_lines() -> None:
    lengths = {rel: len(path.read_text().splitlines()) for rel, path in app_modules()}
    assert len(lengths) > 50  # the walk finds the modules
    assert {rel: n for rel, n in lengths.items() if n > MAX_LINES and rel not in SHIPPED_DATA} == {}


def private_uses_across_areas(rel: str, source: str) -> list[str]:
    own = area_of(module_name(rel))
    aliases: dict[str, str] = {}  # local name -> module it is bound to
    offenders = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if area_of(full) is not None and area_of(full + ".x") == area_of(full) and "." in full:
                    aliases[alias.asname or alias.name] = full
                other = area_of(node.module) if area_of(node.module) else None
                if alias.name.startswith("_") and other is not None and other != own:
                    offenders.append(f"{rel}:{node.lineno} imports {node.module}.{alias.name}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and area_of(aliases[node.value.id]) not in (None, own)
        ):
            offenders.append(f"{rel}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    return offenders


def test_areas_use_each_other_only_through_public_names() -> None:
    offenders = [o for rel, path in app_modules() for o in private_uses_across_areas(rel, path.read_text())]
    assert offenders == []


def test_the_private_name_check_sees_both_forms() -> None:
    source = (
        "from referrals.handoffs.services import _transition\n"
        "from referrals.handoffs import services as handoffs_services\n"
        "handoffs_services._record_event()\n"
        "handoffs_services.handoff_accept()\n"
    )
    assert private_uses_across_areas("referrals/care/services.py", source) == [
        "referrals/care/services.py:1 imports referrals.handoffs.services._transition",
        "referrals/care/services.py:3 uses referrals.handoffs.services._record_event",
    ]
    assert private_uses_across_areas("referrals/handoffs/organizations.py", source) == []
