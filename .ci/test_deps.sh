#!/usr/bin/env bash
# What `make test` needs from Debian besides Python, checked before anything else runs: Chromium for the
# browser tests (tests/browser/, never a downloaded browser), redis-server for the integration tests
# (each starts a private one), and for WeasyPrint (the progress report's PDF) pango with its FreeType
# backend and the DejaVu fonts (the PDF's first page is rasterised by the pypdfium2 wheel: no system tool). Run as root it installs what is missing with apt-get; otherwise it stops at
# once with the one command to run.
set -euo pipefail
chromium="${HANDOFF_CHROMIUM:-/usr/bin/chromium}"
missing=()
[ -x "$chromium" ] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
for package in libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "make test: the tests need Debian's ${missing[*]}, which is not installed. Run:" >&2
  echo "" >&2
  echo "    sudo apt-get install -y ${missing[*]}" >&2
  echo "" >&2
  echo "then make test again." >&2
  exit 1
fi
echo "make test: installing Debian's ${missing[*]} for the tests: apt-get install -y ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
if [ ! -x "$chromium" ]; then
  echo "make test: $chromium is still missing after installing chromium (HANDOFF_CHROMIUM?)" >&2
  exit 1
fi
echo "make test: installed ${missing[*]}"
