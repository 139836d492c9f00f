"""Partitions made ahead by the daily job and the CLI; months past the retention moved to the
archive schema, where `audit verify` still reads them."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from backend.archive import retention_limit
from backend.extensions import db
from backend.partitions import MONTHLY, add_months, first_of, month_start, partition_name, partitions_of


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def archive(app):
    """An archive schema of this test's own, dropped with what was moved into it."""
    schema = db.session.execute(text("SELECT current_schema()")).scalar() + "_archive"
    app.config["ARCHIVE_SCHEMA"] = schema
    yield schema
    db.session.rollback()
    db.session.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    db.session.commit()
    app.config["ARCHIVE_SCHEMA"] = "archive"


def test_the_daily_job_makes_the_coming_months_of_every_table(app, clock):
    from backend.jobruns import daily, run_once
    from backend.partitions import partition_ahead_job
    from backend.scheduler import build_scheduler

    assert build_scheduler(app).get_job("partition_ahead") is not None
    assert run_once("partition_ahead", daily, partition_ahead_job)
    this_month = first_of(clock().date())
    for table in MONTHLY:
        names = {name for name, *_ in partitions_of(db.session, table)}
        assert {partition_name(table, add_months(this_month, n)) for n in range(4)} | {f"{table}_default"} <= names


def test_the_list_shows_rows_left_in_a_default_partition_until_their_month_is_made(app, clock, city):
    from backend.followups.services import notify

    far = add_months(first_of(clock().date()), 60)
    notify(city.supervisor_a.id, "assigned", at=clock() + timedelta(days=5 * 366), title="远")
    db.session.commit()
    listed = run(app, "partitions", "list")
    assert listed.exit_code == 0, listed.output
    assert "notifications_default" in listed.output and "1 rows in default" in listed.output
    made = run(app, "partitions", "ensure", "--from", f"{far:%Y-%m}", "--to", f"{far:%Y-%m}")
    assert made.exit_code == 0 and f"notifications_p{far:%Y%m}" in made.output, made.output
    assert "1 rows in default" not in run(app, "partitions", "list").output
    assert run(app, "partitions", "ensure", "--from", "2026-13").exit_code == 2


@pytest.fixture
def audit_clock(monkeypatch, clock):
    """The trail stamps entries with the wall clock, not the app's: here it follows the app's."""
    monkeypatch.setattr("backend.audit.trail.utcnow", clock)
    return clock


def _write_in_month(clock, make_region, when, name):
    clock.set(when)
    return make_region(name, "district")  # one committed write: one audit entry at `when`


def test_months_past_the_retention_move_to_the_archive_and_the_chain_still_verifies(
        app, audit_clock, make_region, make_user, archive):
    clock = audit_clock
    from backend.followups.services import notify

    now = clock()
    limit = retention_limit()
    old_month = add_months(limit, -2)
    run(app, "partitions", "ensure", "--from", f"{old_month:%Y-%m}", "--to", f"{limit:%Y-%m}")
    _write_in_month(clock, make_region, now.replace(year=old_month.year, month=old_month.month, day=10), "旧区")
    notify(make_user("admin", "admin").id, "assigned", at=clock(), title="旧")
    db.session.commit()
    _write_in_month(clock, make_region, now, "新区")

    refused = run(app, "partitions", "archive", "--before", f"{add_months(limit, 1):%Y-%m}")
    assert refused.exit_code == 1 and f"only months before {limit:%Y-%m} may be archived" in refused.output
    moved = run(app, "partitions", "archive", "--before", f"{limit:%Y-%m}")
    assert moved.exit_code == 0, moved.output
    assert f"audit_trail_p{old_month:%Y%m}" in moved.output and f"notifications_p{old_month:%Y%m}" in moved.output
    # Out of the online tables, whole, in the archive schema; the current month stays online.
    assert db.session.execute(text("SELECT count(*) FROM notifications")).scalar() == 0
    assert db.session.execute(text(f'SELECT count(*) FROM "{archive}".notifications_p{old_month:%Y%m}')).scalar() == 1
    assert db.session.execute(text("SELECT count(*) FROM audit_trail WHERE at < :cut"),
                              {"cut": month_start(limit)}).scalar() == 0
    assert db.session.execute(text(f'SELECT count(*) FROM "{archive}".audit_trail_p{old_month:%Y%m}')).scalar() == 3
    verified = run(app, "audit", "verify")
    assert verified.exit_code == 0 and "audit trail intact" in verified.output, verified.output
    assert "archived in schema" in run(app, "partitions", "list").output


def test_an_edit_in_an_archived_month_is_caught(app, audit_clock, make_region, archive):
    clock = audit_clock
    now = clock()
    old_month = add_months(retention_limit(), -1)
    run(app, "partitions", "ensure", "--from", f"{old_month:%Y-%m}", "--to", f"{old_month:%Y-%m}")
    clock.set(now.replace(year=old_month.year, month=old_month.month, day=10))
    make_region("旧区", "district")
    make_region("旧区二", "district")
    clock.set(now)
    make_region("新区", "district")
    assert run(app, "partitions", "archive", "--before", f"{retention_limit():%Y-%m}").exit_code == 0
    first = db.session.execute(text(f'SELECT min(seq) FROM "{archive}".audit_trail_p{old_month:%Y%m}')).scalar()
    db.session.execute(text(f'UPDATE "{archive}".audit_trail_p{old_month:%Y%m} SET actor = \'user:999\' '
                            f"WHERE seq = :seq"), {"seq": first + 1})
    db.session.commit()
    result = run(app, "audit", "verify")
    assert result.exit_code == 1
    assert f"BROKEN at entry {first + 1}: its content was changed" in result.output
