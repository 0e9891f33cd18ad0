"""Indexes on django-axes' `attempt_time`, which its tables lack: the daily retention trim
(accounts.services.lockout_records_trim) deletes their rows older than HANDOFF_LOCKOUT_RETENTION_DAYS by
that column, in batches, and each batch finds its rows through the index instead of a whole-table scan.

The tables are django-axes' own, so the indexes are made in SQL (the same statement on PostgreSQL and
SQLite) and are not part of any model's state: a later django-axes that adds its own index on the column
leaves these as harmless duplicates. On PostgreSQL CREATE INDEX holds writes to the table while it builds:
the login log is the big one, a few seconds per million rows."""

from django.db import migrations

TABLES = ("axes_accessattempt", "axes_accesslog", "axes_accessfailurelog")


def index_name(table: str) -> str:
    return f"{table}_attempt_time_handoff_idx"


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_totp_secrets_encrypted"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {index_name(table)} ON {table} (attempt_time)",
            reverse_sql=f"DROP INDEX IF EXISTS {index_name(table)}",
        )
        for table in TABLES
    ]
