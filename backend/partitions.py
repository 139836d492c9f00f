"""Monthly range partitions of the tables that grow with visits: making them ahead, and listing them.

Each table in MONTHLY is range-partitioned on one timestamp column by the care time zone's local
months (`<table>_p202611` holds November 2026, local time), so a month's report or a recent pull
reads one or two partitions however many years are kept. A DEFAULT partition (`<table>_default`)
takes any row outside the months made, so an unexpected date is never refused; rows sitting there
are reported, and making their month later moves them into it.

Every function takes a SQLAlchemy connection or session (a migration's `op.get_bind()`, a job's
`db.session`) and works in its current schema: tests run in a schema of their own.
"""

import logging
import re
from datetime import date, datetime

from flask import current_app
from sqlalchemy import text

from backend.clock import local_midnight, local_today

log = logging.getLogger(__name__)

# table -> the timestamp column it is range-partitioned on (what its readers filter by).
MONTHLY: dict[str, str] = {
    "audit_trail": "at",
    "followup_events": "at",
    "notifications": "created_at",
    # The task family, all by their task's window (visits, items and events carry a copy), so a
    # month's tasks join their visits, items and events partition by partition (migration 0016).
    "tasks": "window_start_at",
    "task_events": "window_start_at",
    "visits": "window_start_at",
    "visit_items": "window_start_at",
}

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


class PartitionError(Exception):
    """A partition cannot be made as asked (a clash of names, a table that is not partitioned)."""


def is_partition(name: str) -> bool:
    """Whether `name` is one of our partitions' names (a month's or a default)."""
    return any(re.fullmatch(rf"{table}_(p\d{{6}}|default)", name) for table in MONTHLY)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's include_object: the models describe the partitioned tables, not their partitions,
    so comparing the database with them leaves the partitions out."""
    return not (type_ == "table" and reflected and compare_to is None and is_partition(name))


def first_of(month: date) -> date:
    return month.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after `month`'s (before it when negative)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months(first: date, last: date):
    """The first days of every month from `first`'s to `last`'s, both included."""
    month, last = first_of(first), first_of(last)
    while month <= last:
        yield month
        month = add_months(month, 1)


def month_start(month: date) -> datetime:
    """The UTC instant of local midnight (CARE_TIMEZONE) on the first day of `month`'s month."""
    return local_midnight(first_of(month))


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


def quote_name(name: str) -> str:
    """An identifier we made ourselves, checked before it is spliced into DDL (which takes no
    bind parameters)."""
    if not _IDENTIFIER.match(name):
        raise PartitionError(f"not a table name: {name!r}")
    return f'"{name}"'


def _literal(at: datetime) -> str:
    return f"'{at.isoformat()}'::timestamptz"


def lock_partitions(conn, table: str) -> None:
    """Serialise the DDL on one table's partitions (the job, a migration, the CLI) until commit."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key), hashtext(current_schema()))"),
                 {"key": f"carerounds-partitions:{table}"})


_PARTITION_KEY = text("""
SELECT a.attname
FROM pg_partitioned_table p
JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
WHERE p.partrelid = to_regclass(:table) AND p.partstrat = 'r' AND p.partnatts = 1
""")


def partition_column(conn, table: str) -> str:
    """The column `table` is range-partitioned on, as the database says. PartitionError when it
    is not range-partitioned on one column."""
    column = conn.execute(_PARTITION_KEY, {"table": quote_name(table)}).scalar()
    if column is None:
        raise PartitionError(f"{table} is not range-partitioned on one column")
    return column


# The bounds are cut out of PostgreSQL's own text of them and cast back in the same session, so
# the session's TimeZone setting, which that text is written in, never matters.
_PARTITIONS = text(r"""
SELECT c.relname AS name,
       (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\)'))[1]::timestamptz AS lower,
       (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper,
       c.reltuples AS rows_estimate
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = to_regclass(:table)
ORDER BY lower NULLS LAST, c.relname
""")


def partitions_of(conn, table: str) -> list[tuple[str, datetime | None, datetime | None, int | None]]:
    """(name, lower, upper, rows_estimate) of each partition, oldest first and the default (no
    bounds) last. The estimate is the planner's (pg_class.reltuples): None before the partition
    was first analysed."""
    return [(row.name, row.lower, row.upper, int(row.rows_estimate) if row.rows_estimate >= 0 else None)
            for row in conn.execute(_PARTITIONS, {"table": quote_name(table)})]


def _is_partition_of(conn, name: str, table: str) -> bool | None:
    """True when `name` is a partition of `table`, False when it is some other table, None when
    no such table exists."""
    row = conn.execute(text("SELECT i.inhparent = to_regclass(:table) FROM pg_class c "
                            "LEFT JOIN pg_inherits i ON i.inhrelid = c.oid WHERE c.oid = to_regclass(:name)"),
                       {"table": quote_name(table), "name": quote_name(name)}).first()
    return None if row is None else bool(row[0])


def ensure_default(conn, table: str) -> None:
    """Make `<table>_default`, the partition of rows outside every month made."""
    lock_partitions(conn, table)
    name = default_name(table)
    present = _is_partition_of(conn, name, table)
    if present is False:
        raise PartitionError(f"{name} exists and is not a partition of {table}")
    if present is None:
        conn.execute(text(f"CREATE TABLE {quote_name(name)} PARTITION OF {quote_name(table)} DEFAULT"))


def default_rows(conn, table: str) -> int:
    """How many rows sit in `table`'s default partition (0 when it has none): each is a row whose
    month was not made, to be moved by making it."""
    if not _is_partition_of(conn, default_name(table), table):
        return 0
    return conn.execute(text(f"SELECT count(*) FROM {quote_name(default_name(table))}")).scalar()


def ensure_months(conn, table: str, first: date, last: date) -> list[str]:
    """Make the monthly partitions of `table` from `first`'s month to `last`'s; returns the names
    made (those already there are left alone).

    Rows of a month sitting in the default partition are moved into the month's new partition:
    PostgreSQL refuses to create a partition whose rows the default holds, so the default is
    detached, the month made, its rows moved, and the default attached again, all in the caller's
    transaction. PartitionError when a table of a partition's name exists and is not one."""
    lock_partitions(conn, table)
    column = partition_column(conn, table)
    has_default = _is_partition_of(conn, default_name(table), table)
    made = []
    for month in months(first, last):
        name = partition_name(table, month)
        present = _is_partition_of(conn, name, table)
        if present:
            continue
        if present is False:
            raise PartitionError(f"{name} exists and is not a partition of {table}")
        lower, upper = month_start(month), month_start(add_months(month, 1))
        if has_default and _default_holds(conn, table, column, lower, upper):
            _make_moving_rows(conn, table, column, name, lower, upper)
        else:
            conn.execute(text(f"CREATE TABLE {quote_name(name)} PARTITION OF {quote_name(table)} "
                              f"FOR VALUES FROM ({_literal(lower)}) TO ({_literal(upper)})"))
        made.append(name)
    return made


def _in_range(column: str, lower: datetime, upper: datetime) -> str:
    return f"{quote_name(column)} >= {_literal(lower)} AND {quote_name(column)} < {_literal(upper)}"


def _default_holds(conn, table: str, column: str, lower: datetime, upper: datetime) -> bool:
    return conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {quote_name(default_name(table))} "
                             f"WHERE {_in_range(column, lower, upper)})")).scalar()


def _make_moving_rows(conn, table: str, column: str, name: str, lower: datetime, upper: datetime) -> None:
    default, parent = quote_name(default_name(table)), quote_name(table)
    columns = ", ".join(quote_name(c) for c in conn.execute(
        text("SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(:table) AND attnum > 0 "
             "AND NOT attisdropped ORDER BY attnum"), {"table": parent}).scalars())
    where = _in_range(column, lower, upper)
    conn.execute(text(f"ALTER TABLE {parent} DETACH PARTITION {default}"))
    conn.execute(text(f"CREATE TABLE {quote_name(name)} PARTITION OF {parent} "
                      f"FOR VALUES FROM ({_literal(lower)}) TO ({_literal(upper)})"))
    moved = conn.execute(text(f"WITH moved AS (DELETE FROM {default} WHERE {where} RETURNING {columns}) "
                              f"INSERT INTO {quote_name(name)} ({columns}) SELECT {columns} FROM moved")).rowcount
    conn.execute(text(f"ALTER TABLE {parent} ATTACH PARTITION {default} DEFAULT"))
    log.warning("partitions: %d rows of %s moved from %s", moved, name, default_name(table))


def ensure_ahead(conn, now: datetime | None = None) -> dict[str, list[str]]:
    """Every table in MONTHLY gets its months from the current one to CARE_PARTITION_MONTHS_AHEAD
    months ahead, and its default partition. Returns the partitions made, by table."""
    this_month = first_of(local_today(now))
    last = add_months(this_month, current_app.config["PARTITION_MONTHS_AHEAD"])
    made = {}
    for table in MONTHLY:
        made[table] = ensure_months(conn, table, this_month, last)
        ensure_default(conn, table)
    return made


def partition_ahead_job(now: datetime | None = None) -> None:
    """The daily job: the coming months' partitions exist before their first row arrives. Rows
    found in a default partition are logged, for an operator to make their months."""
    from backend.extensions import db

    made = ensure_ahead(db.session, now)
    db.session.commit()
    for table, names in made.items():
        if names:
            log.info("partitions: made %s", ", ".join(names))
        if stray := default_rows(db.session, table):
            log.warning("partitions: %d rows of %s sit in %s (`carerounds partitions list`)",
                        stray, table, default_name(table))
    db.session.commit()
