"""Log in to a running Handoff as the demo physiotherapist over HTTP; exit non-zero if anything is off.

Also: the address `make run` printed is the one it serves (argv[3]: its log), an API token answers every
call (SQLite once answered 500 from the second one on), a notifying action writes its email in-process, and
the log holds no warning from Celery or kombu about the in-memory broker.
"""

import http.cookiejar
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

base, var_dir, run_log = sys.argv[1], sys.argv[2], sys.argv[3]
email = "pt@lakeside.demo"
password = os.environ.get("HANDOFF_DEMO_PASSWORD", "handoff-demo-2026")

jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

deadline = time.monotonic() + 300
while True:
    try:
        page = opener.open(base + "/login/", timeout=5).read().decode()
        break
    except (urllib.error.URLError, ConnectionError):
        if time.monotonic() > deadline:
            sys.exit("the server did not come up within 300 s")
        time.sleep(1)

token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
if token is None:
    sys.exit("no CSRF token on the login page")
data = urllib.parse.urlencode(
    {"username": email, "password": password, "csrfmiddlewaretoken": token.group(1)}
)
request = urllib.request.Request(  # noqa: S310 - an http URL given by CI
    base + "/login/", data=data.encode(), headers={"Referer": base + "/login/"}
)
home = opener.open(request, timeout=10)
body = home.read().decode()
if home.geturl().rstrip("/") != base.rstrip("/") or "Log out" not in body:
    sys.exit(f"login failed: ended at {home.geturl()}")
name = re.search(r"<h1>Hello, ([^<]+)</h1>", body)
print(f"smoke: logged in as {email} ({name.group(1) if name else '?'}), home page {len(body)} bytes")
sqlite = os.path.join(var_dir, "handoff.sqlite3")
if not os.path.exists(sqlite):
    sys.exit(f"the embedded database {sqlite} was not created")
print(f"smoke: SQLite database at {sqlite}; outgoing mail in {os.path.join(var_dir, 'mail')}")

with open(run_log, encoding="utf-8", errors="replace") as log:
    lines = log.read().splitlines()


def printed_urls(pattern: str) -> list[str]:
    return [m.group(1) for line in lines if (m := re.match(pattern, line))]


printed = {
    "make run": printed_urls(r"Serving Handoff on (\S+) "),
    "runserver": printed_urls(r"Starting development server at (\S+)$"),
    "seed_demo": printed_urls(r"Open (\S+) and log in"),
}
for who, urls in printed.items():
    if urls != [base.rstrip("/") + "/"]:
        sys.exit(f"{who} printed {urls!r}, but the server answers at {base}")
print(f"smoke: make run, runserver and seed_demo all print {base}/")

page = opener.open(base + "/account/profile/", timeout=10).read().decode()
csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
if csrf is None:
    sys.exit("no CSRF token on the profile page")
request = urllib.request.Request(  # noqa: S310 - an http URL given by CI
    base + "/account/profile/",
    data=urllib.parse.urlencode({"name": "smoke", "csrfmiddlewaretoken": csrf.group(1)}).encode(),
    headers={"Referer": base + "/account/profile/"},
)
shown = re.search(r'data-testid="new-token">([^<]+)<', opener.open(request, timeout=10).read().decode())
if shown is None:
    sys.exit("the profile page did not show a new API token")
bearer = {"Authorization": f"Bearer {shown.group(1)}"}


def api(path: str, body: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    headers = dict(bearer)
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    call = urllib.request.Request(base + "/api/v1" + path, data=data, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(call, timeout=10) as answer:  # noqa: S310 - an http URL given by CI
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {"error": exc.read()[:300].decode(errors="replace")}


statuses = [api("/handoffs/")[0] for _ in range(2)]
if statuses != [200, 200]:
    sys.exit(f"two API calls with the same token answered {statuses}")
print("smoke: two API calls with the same token answered 200, 200")

mail_dir = os.path.join(var_dir, "mail")
mails_before = len(os.listdir(mail_dir)) if os.path.isdir(mail_dir) else 0
_, listing = api("/handoffs/?page_size=100")
rows = listing.get("results", [])
open_row = next((r for r in rows if isinstance(r, dict) and r.get("status") == "requested"), None)
if open_row is None:
    sys.exit("no requested handoff in the demo data to cancel")
status, body = api(f"/handoffs/{open_row['id']}/cancel/", {"reason": "smoke test: withdrawn"})
if status != 200:
    sys.exit(f"cancelling a handoff answered {status}: {body}")
mails_after = len(os.listdir(mail_dir)) if os.path.isdir(mail_dir) else 0
if mails_after <= mails_before:
    sys.exit(f"cancelling notified nobody by email ({mails_before} -> {mails_after} files in {mail_dir})")
print(f"smoke: a cancel through the API wrote its email in-process ({mails_before} -> {mails_after} files)")

with open(run_log, encoding="utf-8", errors="replace") as log:
    noisy = [
        line
        for line in log.read().splitlines()
        if re.search(r"WARNING\s+(celery|kombu)", line) or re.search(r"(celery|kombu)\S*Warning", line)
    ]
if noisy:
    sys.exit("the embedded default logged broker warnings:\n" + "\n".join(noisy))
print("smoke: no WARNING from celery or kombu in the log")
