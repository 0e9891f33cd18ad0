#!/usr/bin/env bash
# Back up and restore Handoff's PostgreSQL database (docs/deployment.md, "Backups").
#
#   scripts/backup_restore.sh backup FILE    pg_dump -Fc of DATABASE_URL's database into FILE
#   scripts/backup_restore.sh restore FILE   pg_restore FILE into DATABASE_URL's database
#
# DATABASE_URL is the app's own (postgres://user:pass@host:5432/name, as in /etc/handoff/handoff.env).
#
# backup writes FILE.partial, checks that pg_restore can read its table of contents, then renames it: a
# FILE that exists is a complete dump. The dump holds patient data: it is created readable by its owner
# only (umask 077); encrypt it before it leaves the host.
#
# restore never drops anything. The database must exist, be owned by the app's role and be empty
# (createdb -O <role> <name>): it refuses one with tables. Everything is restored in one transaction
# (all or nothing), owned by the role that restores (--no-owner, --no-privileges: the app's role, so the
# dump restores on a server whose role names differ), then ANALYZE gives the planner its statistics back.
# Outbox rows still pending in the dump are delivered by the worker once beat's sweep finds them; rows
# marked sent in the dump are not sent again (tests/integration/test_backup_restore.py).
set -euo pipefail

usage() {
  echo "usage: DATABASE_URL=postgres://... $0 backup|restore FILE" >&2
  exit 2
}

[ "$#" -eq 2 ] || usage
action="$1"
file="$2"

if [ -z "${DATABASE_URL:-}" ]; then
  echo "$0: DATABASE_URL is not set (the app's database: postgres://user:pass@host:5432/name)" >&2
  exit 2
fi
# libpq reads postgres:// and postgresql:// URLs; django-environ also accepts these other spellings.
case "$DATABASE_URL" in
  postgres://* | postgresql://*) url="$DATABASE_URL" ;;
  pgsql://* | psql://* | postgis://*) url="postgresql://${DATABASE_URL#*://}" ;;
  *)
    echo "$0: DATABASE_URL is not a PostgreSQL URL (backups are for PostgreSQL; SQLite: copy the file)" >&2
    exit 2
    ;;
esac

for tool in pg_dump pg_restore psql; do
  command -v "$tool" >/dev/null || {
    echo "$0: $tool not found (Debian: apt-get install postgresql-client)" >&2
    exit 2
  }
done

case "$action" in
  backup)
    umask 077
    partial="$file.partial"
    trap 'rm -f "$partial"' EXIT # a failed dump leaves nothing behind
    rm -f "$partial"
    pg_dump --format=custom --file="$partial" --dbname="$url"
    pg_restore --list "$partial" >/dev/null # readable to the end of its table of contents
    mv -f "$partial" "$file"
    echo "backup: $file ($(wc -c <"$file") bytes)"
    ;;
  restore)
    [ -r "$file" ] || {
      echo "$0: cannot read $file" >&2
      exit 2
    }
    tables="$(psql --no-psqlrc --tuples-only --no-align --quiet --dbname="$url" --command \
      "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")"
    if [ "$tables" != "0" ]; then
      echo "$0: the database already has $tables table(s): restore only into a new, empty database" >&2
      echo "    (stop web, worker and beat; dropdb and createdb -O <role> it, or restore under a new name)" >&2
      exit 1
    fi
    pg_restore --exit-on-error --single-transaction --no-owner --no-privileges --dbname="$url" "$file"
    psql --no-psqlrc --quiet --dbname="$url" --command "ANALYZE"
    echo "restore: $file restored"
    ;;
  *)
    usage
    ;;
esac
