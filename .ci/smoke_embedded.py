"""Log in to a running Handoff as the demo physiotherapist over HTTP; exit non-zero if anything is off."""

import http.cookiejar
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

base, var_dir = sys.argv[1], sys.argv[2]
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
