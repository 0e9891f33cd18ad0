"""The dependency audit's offline fallback: the known vulnerabilities of the packages this project installs,
from an offline snapshot of PyPI's advisory database (pypa/advisory-database, OSV format), kept in the repo
as a compact subset (.ci/advisories.json) so that a fresh clone audits without the network.

    python .ci/advisories.py --from ../shared/advisories   # refresh the subset for what .venv holds

`check(installed)` answers which installed releases an advisory of the snapshot covers (its ECOSYSTEM
ranges, introduced to fixed, or its listed versions) and which installed packages the subset does not know
although the snapshot has advisories for them (a new dependency: refresh the subset). The snapshot is old:
advisories published after its date are not covered, and .ci/audit.py says so whenever it falls back here.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

# The subset the audit reads (HANDOFF_ADVISORIES names another: the tests' made-up ones).
SUBSET = Path(os.environ.get("HANDOFF_ADVISORIES") or Path(__file__).with_name("advisories.json"))


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_packages() -> dict[str, str]:
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found[normalized(name)] = dist.version
    return found


def _compact(advisory: dict[str, Any], package: str) -> dict[str, Any]:
    ranges: list[list[str | None]] = []
    versions: list[str] = []
    for affected in advisory.get("affected") or []:
        if normalized(str((affected.get("package") or {}).get("name", ""))) != package:
            continue
        versions += [str(v) for v in affected.get("versions") or []]
        for span in affected.get("ranges") or []:
            if span.get("type") != "ECOSYSTEM":
                continue
            start: str | None = None
            for event in span.get("events") or []:
                if "introduced" in event:
                    start = str(event["introduced"])
                elif "fixed" in event or "last_affected" in event:
                    end = event.get("fixed") or event.get("last_affected")
                    ranges.append([start or "0", str(end), "fixed" if "fixed" in event else "last"])
                    start = None
            if start is not None:
                ranges.append([start, None, "open"])
    return {
        "id": advisory["id"],
        "aliases": advisory.get("aliases") or [],
        "ranges": ranges,
        "versions": versions,
    }


def build(source: Path, packages: set[str]) -> dict[str, Any]:
    import yaml

    vulns = source / "vulns"
    names = sorted(normalized(p.name) for p in vulns.iterdir() if p.is_dir())
    readme = (source / "README.md").read_text() if (source / "README.md").exists() else ""
    stated = re.search(r"as of its commit (\w+) of ([\d-]+)", readme)
    subset: dict[str, list[dict[str, Any]]] = {}
    for folder in sorted(p for p in vulns.iterdir() if p.is_dir() and normalized(p.name) in packages):
        package = normalized(folder.name)
        entries = subset.setdefault(package, [])
        for path in sorted(folder.glob("*.yaml")):
            advisory = yaml.safe_load(path.read_text())
            if not advisory.get("withdrawn"):  # withdrawn: not a vulnerability after all
                entries.append(_compact(advisory, package))
    return {
        "snapshot": f"pypa/advisory-database {stated.group(1)} of {stated.group(2)}"
        if stated
        else str(source),
        "snapshot_date": stated.group(2) if stated else "unknown",
        "licence": "CC-BY 4.0, the Python Packaging Advisory Database (github.com/pypa/advisory-database)",
        "packages_in_snapshot": names,
        "advisories": subset,
    }


def _affects(entry: dict[str, Any], version: Version) -> bool:
    for listed in entry["versions"]:
        try:
            if Version(listed) == version:
                return True
        except InvalidVersion:
            continue
    for start, end, kind in entry["ranges"]:
        try:
            low = Version(start)
            if version < low:
                continue
            if end is None:
                return True
            high = Version(end)
        except InvalidVersion:
            continue
        if version < high or (kind == "last" and version == high):
            return True
    return False


def check(installed: dict[str, str], data: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(the vulnerable releases, one line each; the packages the subset lacks although the snapshot has
    advisories for them)."""
    known = set(data["packages_in_snapshot"])
    vulnerable: list[str] = []
    missing: list[str] = []
    for package, raw in sorted(installed.items()):
        entries = data["advisories"].get(package)
        if entries is None:
            if package in known:
                missing.append(package)
            continue
        try:
            version = Version(raw)
        except InvalidVersion:
            missing.append(f"{package} (version {raw!r} unreadable)")
            continue
        for entry in entries:
            if _affects(entry, version):
                aliases = ", ".join(entry["aliases"])
                vulnerable.append(f"{package} {raw}: {entry['id']}" + (f" ({aliases})" if aliases else ""))
    return vulnerable, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--from", dest="source", required=True, help="the snapshot's folder (with vulns/)")
    args = parser.parse_args(argv)
    data = build(Path(args.source), set(installed_packages()))
    SUBSET.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    count = sum(len(v) for v in data["advisories"].values())
    packages = len(data["advisories"])
    print(f"wrote {SUBSET}: {count} advisories of {packages} installed packages ({data['snapshot']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
