"""backend.partitions: monthly partitions made ahead, a default catching the rest, rows moved out of it."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from backend.extensions import db
from backend.partitions import (
    PartitionError,
    add_months,
    default_rows,
    ensure_default,
    ensure_months,
    month_start,
    partition_column,
    partition_name,
    partitions_of,
)


@pytest.fixture
def probe(app):
    """A connection whose transaction holds a fresh table range-partitioned on `at`, rolled back
    at the end (DDL is transactional), so nothing is left in the test schema."""
    with db.engine.connect() as conn:
        conn.execute(text("CREATE TABLE partition_probe (id integer NOT NULL, at timestamptz NOT NULL, "
                          "note text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)"))
        yield conn
        conn.rollback()


def test_a_month_starts_at_local_midnight_on_its_first_day(app):
    # Shanghai is UTC+8: November begins on 31 October at 16:00 UTC, whatever day is given.
    assert month_start(date(2026, 11, 23)) == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert partition_name("tasks", date(2026, 11, 23)) == "tasks_p202611"
    assert add_months(date(2026, 11, 23), 2) == date(2027, 1, 1)
    assert add_months(date(2026, 1, 31), -1) == date(2025, 12, 1)


def test_months_are_made_once_with_local_month_bounds(probe):
    made = ensure_months(probe, "partition_probe", date(2026, 11, 1), date(2027, 1, 1))
    assert made == ["partition_probe_p202611", "partition_probe_p202612", "partition_probe_p202701"]
    assert ensure_months(probe, "partition_probe", date(2026, 10, 1), date(2026, 12, 1)) == ["partition_probe_p202610"]
    listed = partitions_of(probe, "partition_probe")
    assert [name for name, *_ in listed] == ["partition_probe_p202610", *made]
    _, lower, upper, _ = listed[1]
    assert (lower, upper) == (month_start(date(2026, 11, 1)), month_start(date(2026, 12, 1)))
    assert partition_column(probe, "partition_probe") == "at"


def test_a_row_lands_in_the_partition_of_its_local_month(probe):
    ensure_months(probe, "partition_probe", date(2026, 10, 1), date(2026, 11, 1))
    # 31 October 17:00 UTC is 1 November 01:00 in Shanghai: November's row.
    probe.execute(text("INSERT INTO partition_probe VALUES (1, '2026-10-31T17:00:00Z')"))
    where = probe.execute(text("SELECT tableoid::regclass::text FROM partition_probe")).scalar()
    assert where == "partition_probe_p202611"


def test_partitions_are_made_in_the_current_schema(probe):
    ensure_months(probe, "partition_probe", date(2026, 11, 1), date(2026, 11, 1))
    schemas = probe.execute(text("SELECT n.nspname = current_schema() FROM pg_class c "
                                 "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                 "WHERE c.relname = 'partition_probe_p202611'")).scalars().all()
    assert schemas == [True]


def test_the_default_partition_takes_a_row_of_a_month_not_made(probe):
    ensure_months(probe, "partition_probe", date(2026, 11, 1), date(2026, 11, 1))
    with pytest.raises(IntegrityError, match="no partition"):
        with probe.begin_nested():
            probe.execute(text("INSERT INTO partition_probe VALUES (1, '2031-05-01T00:00:00Z')"))
    ensure_default(probe, "partition_probe")
    ensure_default(probe, "partition_probe")  # twice is harmless
    probe.execute(text("INSERT INTO partition_probe VALUES (1, '2031-05-01T00:00:00Z')"))
    assert default_rows(probe, "partition_probe") == 1
    name, lower, upper, _ = partitions_of(probe, "partition_probe")[-1]
    assert (name, lower, upper) == ("partition_probe_default", None, None)


def test_making_a_month_moves_its_rows_out_of_the_default(probe):
    ensure_default(probe, "partition_probe")
    may = month_start(date(2031, 5, 1))
    for n, at in enumerate([may, may + timedelta(days=30), may - timedelta(seconds=1), month_start(date(2031, 6, 1))]):
        probe.execute(text("INSERT INTO partition_probe VALUES (:id, :at, 'kept')"), {"id": n, "at": at})
    assert ensure_months(probe, "partition_probe", date(2031, 5, 1), date(2031, 5, 1)) == ["partition_probe_p203105"]
    places = dict(probe.execute(text("SELECT id, tableoid::regclass::text FROM partition_probe")).all())
    assert places == {0: "partition_probe_p203105", 1: "partition_probe_p203105",
                      2: "partition_probe_default", 3: "partition_probe_default"}
    assert default_rows(probe, "partition_probe") == 2
    assert probe.execute(text("SELECT count(*) FROM partition_probe WHERE note = 'kept'")).scalar() == 4
    # The default is attached again: it still takes what no month holds.
    probe.execute(text("INSERT INTO partition_probe VALUES (9, '2040-01-01T00:00:00Z')"))
    assert default_rows(probe, "partition_probe") == 3


def test_a_table_in_the_way_of_a_partition_is_refused_by_name(probe):
    probe.execute(text("CREATE TABLE partition_probe_p202611 (id integer)"))
    with pytest.raises(PartitionError, match="partition_probe_p202611 exists and is not a partition"):
        ensure_months(probe, "partition_probe", date(2026, 11, 1), date(2026, 11, 1))


def test_a_table_not_partitioned_is_refused(probe):
    probe.execute(text("CREATE TABLE plain_probe (id integer)"))
    with pytest.raises(PartitionError, match="plain_probe is not range-partitioned"):
        ensure_months(probe, "plain_probe", date(2026, 11, 1), date(2026, 11, 1))
