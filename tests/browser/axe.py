"""axe-core in the browser tests: run it over the page as it is now, and fail on what blocks people.

The script is the vendored tests/browser/vendor/axe.min.js (see the README beside it), read from disk,
never fetched. It goes in through `page.evaluate`, which the DevTools protocol runs outside the page's
Content Security Policy: `page.add_script_tag` would write an inline <script>, which the site's policy
(script-src 'self') refuses, and the tests keep that policy on rather than bypass it.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_SHA256 = (
    "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"  # axe-core 4.14.1 (vendor/README.md)
)
# What fails a test: axe's two highest impacts. "moderate" and "minor" findings are reported by axe too,
# but left to review rather than to the gate.
BLOCKING = ("serious", "critical")
# Findings in markup that Django itself writes and the project cannot change without replacing the
# widget: (rule id, a part of the node's selector). Each is still a finding in axe's full results.
# - SelectFilter2.js (the admin's two-box "filter_horizontal" picker of the user page's groups and
#   permissions) puts an aria-label on a <span> icon inside the filter box's label; the filter input is
#   named all the same (its placeholder), so it blocks no one.
ACCEPTED = (("aria-prohibited-attr", ".help-tooltip.search-label-icon"),)

_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    targets: v.nodes.map(n => n.target.join(" ")),
    summary: v.nodes.length ? v.nodes[0].failureSummary : "",
  }));
}"""


@cache
def _source() -> str:
    content = AXE_JS.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    assert digest == AXE_SHA256, (
        f"{AXE_JS} is not the vendored axe-core (sha256 {digest}): see vendor/README.md"
    )
    return content.decode("utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """Every violation axe finds on the page, whatever its impact."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_source())
    found: list[dict[str, Any]] = page.evaluate(_RUN)
    return found


def _accepted(rule: str, target: str) -> bool:
    return any(rule == accepted and part in target for accepted, part in ACCEPTED)


def blocking(page: Any) -> list[dict[str, Any]]:
    """The serious and critical violations, less the nodes ACCEPTED names."""
    found = []
    for v in violations(page):
        targets = [t for t in v["targets"] if not _accepted(v["id"], t)]
        if v["impact"] in BLOCKING and targets:
            found.append({**v, "targets": targets})
    return found


def describe(where: str, found: list[dict[str, Any]]) -> str:
    lines = [f"{where}:"]
    for v in found:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        lines.extend(f"      {target}" for target in v["targets"][:10])
        if len(v["targets"]) > 10:
            lines.append(f"      ... and {len(v['targets']) - 10} more")
        if v["summary"]:
            lines.extend(f"      | {line}" for line in v["summary"].splitlines())
    return "\n".join(lines)


def assert_accessible(page: Any, where: str = "") -> None:
    """Fails with each serious or critical violation: its rule id, help, and the nodes it was found on."""
    found = blocking(page)
    assert not found, describe(where or page.url, found)
