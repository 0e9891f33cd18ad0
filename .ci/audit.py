"""The dependency gate of `make test`: pip-audit over the installed environment (.venv, which holds exactly
requirements.txt and requirements-dev.txt with their dependencies), strict: a known vulnerability or a
package that could not be checked fails it.

pip-audit asks PyPI's JSON API for the vulnerabilities of each exact release
(https://pypi.org/pypi/<name>/<version>/json). When that API does not answer, pip-audit itself would only
list every package as "skipped" and exit 0. This gate probes the API first and says so plainly:

- PIP_AUDIT_UNREACHABLE=fail: exit 1 ("not audited" is a failure);
- PIP_AUDIT_UNREACHABLE=warn (the Makefile's default, see README "Security"): a banner that the
  requirements were NOT audited, exit 0, so the rest of the gate still runs on machines without it.
"""

from __future__ import annotations

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


def main() -> int:
    mode = os.environ.get("PIP_AUDIT_UNREACHABLE", "fail")
    ok, detail = service_answers()
    if not ok:
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
