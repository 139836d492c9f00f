"""Retention: whole months older than CARE_RETENTION_YEARS leave the online tables for the archive schema.

A month's partition is DETACHed from its table and moved, as it is, into the schema named by
ARCHIVE_SCHEMA (CARE_ARCHIVE_SCHEMA, default `archive`) of the same database: the app's queries
no longer see it, its rows are untouched, and a dump of that schema (pg_dump --schema) can take
it off the server. `carerounds audit verify` reads the archived months of the audit trail with
the online ones, so the chain is checked end to end whichever side an edit was made on.
Only months that ended before the retention limit are moved, never the months kept online, and
never rows sitting in a default partition.
"""

from datetime import date

from flask import current_app
from sqlalchemy import text

from backend.clock import local_today
from backend.partitions import (
    MONTHLY,
    PartitionError,
    add_months,
    first_of,
    lock_partitions,
    month_start,
    partition_column,
    partition_name,
    partitions_of,
    quote_name,
)


def archive_schema() -> str:
    return current_app.config["ARCHIVE_SCHEMA"]


def retention_limit(now=None) -> date:
    """The first month kept online: RETENTION_YEARS whole years before the current month."""
    return add_months(first_of(local_today(now)), -12 * current_app.config["RETENTION_YEARS"])


def archivable(conn, table: str, before: date) -> list[str]:
    """The month partitions of `table` that end on or before `before`'s month starts."""
    cut = month_start(before)
    return [name for name, lower, upper, _ in partitions_of(conn, table) if upper is not None and upper <= cut]


def archive_months(conn, before: date, now=None) -> dict[str, list[str]]:
    """Move every month before `before`'s month of every partitioned table in MONTHLY into the
    archive schema; returns the partitions moved, by table. PartitionError when `before` is
    later than the retention limit: the months kept online are never moved."""
    before, limit = first_of(before), retention_limit(now)
    if before > limit:
        raise PartitionError(f"only months before {limit:%Y-%m} may be archived "
                             f"(RETENTION_YEARS = {current_app.config['RETENTION_YEARS']}), not before {before:%Y-%m}")
    schema = quote_name(archive_schema())
    conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
    moved = {}
    for table in MONTHLY:
        try:
            partition_column(conn, table)
        except PartitionError:
            continue  # not converted yet: nothing of it to archive
        lock_partitions(conn, table)
        moved[table] = archivable(conn, table, before)
        for name in moved[table]:
            conn.execute(text(f"ALTER TABLE {quote_name(table)} DETACH PARTITION {quote_name(name)}"))
            conn.execute(text(f"ALTER TABLE {quote_name(name)} SET SCHEMA {schema}"))
    return moved


def archived(conn, table: str) -> list[str]:
    """The names of `table`'s months in the archive schema, oldest first."""
    pattern = partition_name(table, date(2000, 1, 1)).replace("200001", "[0-9]{6}")
    return conn.execute(text("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                             "WHERE n.nspname = :schema AND c.relkind = 'r' AND c.relname ~ :pattern "
                             "ORDER BY c.relname"),
                        {"schema": archive_schema(), "pattern": f"^{pattern}$"}).scalars().all()
