"""EXPLAIN: reads bounded by a table's partition column scan only their months' partitions; the
reads that have no such bound (the inbox, the list of personal-data reads) visit every month."""

import re

import pytest
from sqlalchemy import text

from backend.audit.reads import listed
from backend.extensions import db
from backend.followups.models import Notification
from backend.partitions import MONTHLY, add_months, ensure_default, ensure_months, month_start, partitions_of


@pytest.fixture
def months(app, clock):
    """Partitions from a year back to two months ahead of the test clock, in every log table."""
    this_month = clock().date().replace(day=1)
    for table in MONTHLY:
        ensure_months(db.session, table, add_months(this_month, -12), add_months(this_month, 2))
        ensure_default(db.session, table)
    db.session.commit()
    return this_month


def scanned(statement, params=None) -> set[str]:
    plan = db.session.execute(text(f"EXPLAIN (COSTS OFF) {statement}"), params or {}).scalars().all()
    return set(re.findall(r" on (\w+_(?:p\d{6}|default))\b", "\n".join(plan)))


def compiled(query) -> str:
    return str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize("table", sorted(MONTHLY))
def test_a_read_of_one_local_month_scans_that_months_partition_only(months, table):
    column = MONTHLY[table]
    bounds = {"lower": month_start(months), "upper": month_start(add_months(months, 1))}
    assert scanned(f"SELECT * FROM {table} WHERE {column} >= :lower AND {column} < :upper", bounds) == {
        f"{table}_p{months:%Y%m}"}
    # Since a moment in the month: that month and the ones made after it (and the default).
    later = {name for name, _, upper, _ in partitions_of(db.session, table) if upper is None or upper > bounds["lower"]}
    assert f"{table}_p{add_months(months, -1):%Y%m}" not in later
    assert scanned(f"SELECT * FROM {table} WHERE {column} > :lower", bounds) == later


def test_the_inbox_and_the_list_of_reads_have_no_month_bound_and_visit_every_month(months, city):
    """Neither query holds the partition column: the inbox is the user's notifications newest
    first, whatever their age, and the reads list is every read of personal data newest first.
    Both are one index probe per partition (user_id; the partial index of reads on seq) and
    stop at a page; the partitions are at most the retention's months plus the months ahead
    (5 years: about 64), so the cost stays bounded by the retention, not by the years kept."""
    inbox = (db.select(Notification).where(Notification.user_id == city.supervisor_a.id)
             .order_by(Notification.id.desc()).limit(50))
    every = {name for name, *_ in partitions_of(db.session, "notifications")}
    assert scanned(compiled(inbox)) == every
    reads = listed(city.admin).limit(50)
    assert scanned(compiled(reads)) == {name for name, *_ in partitions_of(db.session, "audit_trail")}



def test_a_pull_reads_only_the_notification_months_a_phone_holds(months, city, clock):
    """The pull and its probe read notifications of the last NOTIFICATION_HORIZON before the
    phone's window: one or two months, whatever the years kept (with the months made ahead and
    the default partition, which hold nothing)."""
    from sqlalchemy.dialects import postgresql

    from backend.visits.pull_probe import _PROBE_PSYCOPG, _parameters
    from backend.visits.pull_rows import CHANGED_NOTIFICATIONS, RECENT_NOTIFICATIONS

    today = clock().date()
    params = _parameters(city.caregiver.id, "family", 0, today.replace(day=1), today)
    params.update(since=params["horizon"], low=0, high=1)
    recent = {name for name, _, upper, _ in partitions_of(db.session, "notifications")
              if upper is None or upper > params["horizon"]}
    assert f"notifications_p{add_months(months, -1):%Y%m}" in recent  # the horizon reaches last month
    assert f"notifications_p{add_months(months, -3):%Y%m}" not in recent
    for statement in (_PROBE_PSYCOPG, *(str(query.compile(dialect=postgresql.psycopg.dialect()))
                                        for query in (RECENT_NOTIFICATIONS, CHANGED_NOTIFICATIONS))):
        plan = db.session.connection().exec_driver_sql("EXPLAIN (COSTS OFF) " + statement, params).scalars().all()
        read = {name for name in re.findall(r" on (\w+_(?:p\d{6}|default))\b", "\n".join(plan))
                if name.startswith("notifications")}
        assert read and read <= recent, statement
