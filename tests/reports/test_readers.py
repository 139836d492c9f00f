"""The report's queries side by side: the same figures however many connections read them, one
snapshot for all of them, and the main scan's id range cut into parts that cover it once."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from backend.extensions import db
from backend.reports import readers
from backend.reports.figures import Scope
from backend.tasks.models import Task


@pytest.mark.parametrize(("first", "last", "count"), [(1, 100, 2), (7, 9, 2), (5, 5, 3), (10, 11, 4), (3, 1002, 3)])
def test_the_parts_of_a_scope_cover_its_ids_once_in_order(first, last, count):
    parts = Scope(children={1: 1}, first_task_id=first, last_task_id=last).parts(count)
    covered = [i for part in parts for i in range(part.first_task_id, part.last_task_id + 1)]
    assert covered == list(range(first, last + 1))
    assert len(parts) == min(count, last - first + 1)


def test_a_scope_without_tasks_is_one_part():
    empty = Scope(children={1: 1}, first_task_id=None, last_task_id=None)
    assert empty.parts(2) == [empty]


@pytest.mark.parametrize("connections", [1, 3])
def test_the_report_is_the_same_however_many_connections_read_it(world, report, app, connections):
    expected = report(world.admin, world.district).get_json()
    app.config["REPORT_CONNECTIONS"] = connections
    try:
        body = report(world.admin, world.district).get_json()
    finally:
        app.config["REPORT_CONNECTIONS"] = 2
    moments = ("generated_at", "as_of")
    assert {k: v for k, v in body.items() if k not in moments} == \
        {k: v for k, v in expected.items() if k not in moments}


def test_a_region_expired_by_a_commit_before_the_report_is_still_read(world):
    """The queries run on reader threads, which must not reload the session's objects."""
    from backend.regions.models import Region
    from backend.reports.services import monthly_report

    region = db.session.get(Region, world.district.id)
    db.session.commit()  # expires `region`
    report = monthly_report(region, date(2026, 11, 1), now=datetime(2026, 12, 1, tzinfo=UTC))
    assert (report["total"]["planned"], report["total"]["completed"]) == (11, 8)


def test_every_reader_sees_the_snapshot_taken_when_they_opened(world):
    t1, t2 = world.tasks["T1"].id, world.tasks["T2"].id
    status = select(Task.status).where(Task.id == t1)
    visits = text("SELECT count(*) FROM visits WHERE task_id = :id")
    with readers.snapshot_readers(2) as (first, second):
        assert first.execute(status).scalar_one() == "completed"
        with db.engine.begin() as other:  # changes committed while the report reads
            other.execute(text("UPDATE tasks SET status = 'cancelled' WHERE id = :id"), {"id": t1})
            other.execute(text("DELETE FROM visits WHERE task_id = :id"), {"id": t2})
        # `second` reads for the first time only now, and still sees the rows as `first` did.
        assert [conn.execute(status).scalar_one() for conn in (first, second)] == ["completed", "completed"]
        assert [conn.execute(visits, {"id": t2}).scalar_one() for conn in (first, second)] == [1, 1]
    assert db.session.execute(status).scalar_one() == "cancelled"


def test_readers_are_read_only():
    with readers.snapshot_readers(2) as conns:
        for conn in conns:
            with pytest.raises(Exception, match="read-only transaction"):
                conn.execute(text("DELETE FROM tasks"))


@pytest.mark.parametrize("connections", [1, 2])
def test_a_failing_job_fails_the_whole_run(connections):
    def fails(conn):
        raise ValueError("no such figure")

    with readers.snapshot_readers(connections) as conns:
        with pytest.raises(ValueError, match="no such figure"):
            readers.run_all(conns, [lambda conn: conn.execute(text("SELECT 1")).scalar_one(), fails])
