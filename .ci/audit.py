"""The dependency gate of `make test`: pip-audit over the installed environment (.venv, which holds exactly
the packages of the lock files requirements-bootstrap.txt and requirements-dev.txt, the latter holding
requirements.txt whole), strict: a known vulnerability or a package that could not be checked fails it.

pip-audit asks PyPI's JSON API for the vulnerabilities of each exact release
(https://pypi.org/pypi/<name>/<version>/json). When that API does not answer, pip-audit itself would only
list every package as "skipped" and exit 0. This gate probes the API first and says so plainly:

- it audits the installed packages against the offline snapshot of PyPI's advisory database kept in the
  repo (.ci/advisories.json, .ci/advisories.py), says so and the snapshot's date (newer advisories are
  not covered), and fails on a known vulnerability or on a package the subset lacks (refresh it);
- when even that cannot be read: PIP_AUDIT_UNREACHABLE=fail exits 1 ("not audited" is a failure);
  PIP_AUDIT_UNREACHABLE=warn (the Makefile's default, see README "Security") prints a banner that the
  requirements were NOT audited and exits 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path

PROBE_PACKAGE = "django"
API = os.environ.get("PIP_AUDIT_PYPI_API", "https://pypi.org/pypi")


def service_answers() -> tuple[bool, str]:
    version = metadata.version(PROBE_PACKAGE)
    url = f"{API}/{PROBE_PACKAGE}/{version}/json"
    try:
        with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 - a fixed https URL
            ok = response.status == 200 and b'"vulnerabilities"' in response.read()
            return ok, f"{url} answered {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"{url} answered HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return False, f"{url} could not be reached ({exc})"


def offline_audit(detail: str) -> int | None:
    """The audit against the offline snapshot; None when the snapshot's subset cannot be read."""
    sys.path.insert(0, str(Path(__file__).parent))
    import advisories

    try:
        data = json.loads(advisories.SUBSET.read_text())
    except (OSError, ValueError):
        return None
    vulnerable, missing = advisories.check(advisories.installed_packages(), data)
    print(f"pip-audit: PyPI's vulnerability API does not answer ({detail}).")
    print(
        f"pip-audit: audited offline instead, against {data['snapshot']} (.ci/advisories.json): advisories "
        f"published after {data['snapshot_date']} are NOT covered."
    )
    for line in vulnerable:
        print(f"pip-audit: VULNERABLE {line}")
    if missing:
        print(
            "pip-audit: the offline subset lacks advisories of " + ", ".join(missing) + ": refresh it with "
            "`python .ci/advisories.py --from <the snapshot folder>`"
        )
    if vulnerable or missing:
        return 1
    print(f"pip-audit: no known vulnerability in {len(advisories.installed_packages())} installed packages.")
    return 0


def main() -> int:
    mode = os.environ.get("PIP_AUDIT_UNREACHABLE", "fail")
    ok, detail = service_answers()
    if not ok:
        offline = offline_audit(detail)
        if offline is not None:
            return offline
        banner = "!" * 100
        say = lambda line: print(line, file=sys.stderr)  # noqa: E731
        say(banner)
        say(f"pip-audit: PyPI's vulnerability API does not answer: {detail}.")
        say("pip-audit: the pinned requirements were NOT AUDITED for known vulnerabilities.")
        if mode == "warn":
            say("pip-audit: continuing because PIP_AUDIT_UNREACHABLE=warn.")
            say(banner)
            return 0
        say("pip-audit: failing (PIP_AUDIT_UNREACHABLE=fail).")
        say(banner)
        return 1
    pip_audit = Path(sys.executable).with_name("pip-audit")
    command = [str(pip_audit), "--strict", "--progress-spinner", "off", "--skip-editable"]
    print("pip-audit:", " ".join(command[1:]), flush=True)
    return subprocess.run(command, check=False).returncode  # noqa: S603 - our own venv's pip-audit


if __name__ == "__main__":
    sys.exit(main())
