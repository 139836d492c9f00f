"""The task family's monthly partitions (migration 0016): the hot paths read only the months they
need, shown by EXPLAIN ANALYZE of the statements they really run; exactly-once survives them.

Months from May 2026 to February 2027 hold tasks (every day, each elder), with a visit, a check-in
and an event for each task done; the clock stands at 2026-11-23. A partition counts as read when a
scan of it ran at least once (run-time pruning leaves the others "never executed").
"""

import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from backend.clock import local_today
from backend.extensions import db
from backend.partitions import add_months, ensure_months, month_start, months
from backend.tasks.jobs import sweep_job
from backend.tasks.sweep import sweep
from backend.visits.pull_probe import _PROBE_PSYCOPG, _parameters

FAMILY = ("tasks", "task_events", "visits", "visit_items")
FIRST, LAST = date(2026, 5, 1), date(2027, 2, 1)
PARTITION = re.compile(r"(tasks|task_events|visits|visit_items)_(p\d{6}|default)")


def _months(first: date, last: date, tables=FAMILY) -> set[str]:
    return {f"{table}_p{month:%Y%m}" for table in tables for month in months(first, last)}


SEED = """
INSERT INTO tasks (kind, service_type, elder_id, assignee_id, community_id, provider_id, source_key,
                   window_start_at, window_end_at, min_duration_minutes, status, status_changed_at,
                   late_after_at, missed_after_at, version, change_seq, created_at, updated_at)
SELECT 'service', 'meal', e.id, :assignee, e.community_id, :provider, 'seed:' || e.id || ':' || s,
       s, s + interval '1 hour', 30,
       CASE WHEN s < :now - interval '4 hours' AND extract(hour FROM s AT TIME ZONE 'UTC') <> 2 THEN 'completed'
            ELSE 'scheduled' END,
       s, s + interval '15 minutes', s + interval '3 hours', 1, 1, s, s
FROM elders e, generate_series(CAST(:first AS timestamptz), CAST(:last AS timestamptz), interval '2 hours') s;
INSERT INTO visit_item_ids (id, window_start_at)
SELECT CAST(md5('in' || id) AS uuid), window_start_at FROM tasks WHERE status = 'completed';
INSERT INTO visit_items (id, user_id, device_id, seq, type, task_id, captured_at, captured_at_corrected,
                         received_at, clock_offset_seconds, flags, fingerprint, payload, window_start_at)
SELECT CAST(md5('in' || id) AS uuid), assignee_id, 'seed-device', id, 'check_in', id, window_start_at,
       window_start_at, window_start_at, 0, '[]', md5(CAST(id AS text)), '{}', window_start_at
FROM tasks WHERE status = 'completed';
INSERT INTO visits (task_id, user_id, check_in_item_id, started_at, ended_at, duration_seconds, is_verified,
                    is_late_sync, flags, needs_review, crosschecked_at, created_at, updated_at, window_start_at)
SELECT id, assignee_id, CAST(md5('in' || id) AS uuid), window_start_at, window_start_at + interval '40 minutes',
       2400, true, false, '[]', false, window_start_at, window_start_at, window_start_at, window_start_at
FROM tasks WHERE status = 'completed';
INSERT INTO task_events (task_id, window_start_at, at, from_status, to_status, by_system)
SELECT id, window_start_at, window_start_at, 'scheduled', 'completed', 'seed' FROM tasks WHERE status = 'completed';
"""


@pytest.fixture
def history(app, city, clock):
    """Ten months of tasks (three elders, one task every two hours each) and their evidence: those
    begun by four hours ago done, but one a day left scheduled (missed, for the sweep)."""
    for table in FAMILY:
        ensure_months(db.session, table, FIRST, LAST)
    params = {"assignee": city.caregiver.id, "provider": city.provider.id, "now": clock(),
              "first": str(FIRST), "last": str(add_months(LAST, 1) - timedelta(days=1))}
    for statement in SEED.split(";\n"):
        if statement.strip():
            db.session.execute(text(statement), params if ":now" in statement else {})
    for table in FAMILY:
        db.session.execute(text(f"ANALYZE {table}"))
    db.session.commit()
    return city


@contextmanager
def _statements():
    """The statements run meanwhile that read or write the task family, with their parameters."""
    seen = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"\b(tasks|task_events|visits|visit_items)\b", statement) and not executemany:
            seen.append((statement, parameters))
    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)


def _read(statement: str, parameters) -> list[dict]:
    """The partitions a statement's plan scanned at least once, as nodes (name, index), in a
    transaction rolled back (EXPLAIN ANALYZE runs the statement)."""
    with db.engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar()
        conn.rollback()
    nodes = []

    def walk(node):
        name = node.get("Relation Name", "")
        if PARTITION.fullmatch(name) and node.get("Actual Loops", 0) > 0:
            nodes.append({"name": name, "index": node.get("Index Name")})
        for child in node.get("Plans", []):
            walk(child)
    walk(plan[0]["Plan"])
    return nodes


def _all_read(statements) -> set[str]:
    assert statements, "no statement read the task family"
    return {node["name"] for statement, parameters in statements for node in _read(statement, parameters)}


def test_a_snapshot_pull_reads_only_the_months_a_phone_window_can_touch(history, client, login):
    with _statements() as seen:
        response = client.get("/api/v1/sync/pull", query_string={"device_id": "test-device"},
                              headers=login(history.caregiver))
    assert response.status_code == 200
    assert response.get_json()["tasks"]["upserted"]
    read = _all_read(seen)
    # The window is 22 November to 5 December; the longest task window (a quarter) reaches back
    # to 22 August. Nothing of May to July, nor of the months ahead, nor the default partitions.
    assert "tasks_p202611" in read
    assert read <= _months(date(2026, 8, 1), date(2026, 12, 1)), read


def test_the_empty_pull_probe_reads_only_the_months_a_phone_window_can_touch(history, clock):
    today = clock().date()
    # Nothing changed past the cursor (every seeded task is at change 1): each month is looked at.
    parameters = _parameters(history.caregiver.id, "family", 1, today - timedelta(days=1), today + timedelta(days=13))
    read = _all_read([(_PROBE_PSYCOPG, parameters)])
    assert "tasks_p202611" in read
    assert read <= _months(date(2026, 8, 1), date(2026, 12, 1)), read


def test_the_sweep_reads_no_month_ahead_and_past_months_only_through_their_scheduled_index(history, clock):
    with _statements() as seen:
        result = sweep(now=clock())
        db.session.rollback()
    assert result.ran and result.missed > 0
    nodes = [node for statement, parameters in seen for node in _read(statement, parameters)]
    read = {node["name"] for node in nodes}
    assert "tasks_p202611" in read
    # The default partition (empty while months are made ahead) may hold any date, so it is looked
    # at too, as the past months are.
    assert read <= _months(FIRST, date(2026, 11, 1)) | {"tasks_default"}, read
    # A past month may still hold a task an offline phone has open, so it is looked at, but only
    # through indexes (its partial index of scheduled tasks, empty once the month is done, and
    # lookups of what that found): never a scan of the month's rows.
    past = [node for node in nodes if node["name"].startswith("tasks_p") and node["name"] < "tasks_p202611"]
    assert past and [node for node in past if node["index"] is None] == []
    assert any(re.search(r"missed_after_at", node["index"]) for node in past)


def test_once_swept_the_sweep_reads_only_the_months_still_holding_scheduled_tasks(history, clock):
    """The sweep job raises the floor past every month left without a scheduled task: one sweep
    marks every past month's leftover task missed, and the next reads only this month."""
    now = clock()
    sweep_job(now=now)
    floor = db.session.execute(text("SELECT starts_at FROM sweep_floor")).scalar()
    this_month = month_start(now.date())
    assert this_month <= floor <= now
    # A visit due half an hour ago, not begun: flagged late, its caregiver and manager told. The
    # late notices find their tasks within the same bound as the flags.
    at = now - timedelta(minutes=30)
    _insert_scheduled(history, "due-now", at, now)
    db.session.commit()
    with _statements() as seen:
        result = sweep(now=now)
        db.session.rollback()
    assert result.late == 1
    assert any("INSERT INTO notifications" in statement for statement, _ in seen)
    assert _all_read(seen) <= _months(local_today(at), local_today(now), ("tasks",))


def _insert_scheduled(city, source_key: str, at: datetime, now: datetime) -> None:
    """A scheduled service task of the city's caregiver whose window opens `at` (an hour long,
    late from its start, missed three hours after it), inserted as generation does (the triggers
    keep the key table and the sweep's floor)."""
    db.session.execute(text(
        "INSERT INTO tasks (kind, service_type, elder_id, assignee_id, community_id, provider_id, source_key, "
        "window_start_at, window_end_at, min_duration_minutes, status, status_changed_at, late_after_at, "
        "missed_after_at, version, change_seq, created_at, updated_at) "
        "SELECT 'service', 'meal', e.id, :assignee, e.community_id, :provider, :key, :at, "
        ":at + interval '1 hour', 30, 'scheduled', :now, :at, :at + interval '3 hours', 1, 1, :now, :now "
        "FROM elders e ORDER BY e.id LIMIT 1"),
        {"assignee": city.caregiver.id, "provider": city.provider.id, "key": source_key, "at": at, "now": now})


def test_an_earlier_scheduled_task_lowers_the_floor_and_is_swept(history, clock):
    now = clock()
    sweep_job(now=now)
    june = month_start(add_months(now.date(), -5)) + timedelta(days=3)
    _insert_scheduled(history, "late-entry", june, now)
    db.session.commit()
    assert db.session.execute(text("SELECT starts_at FROM sweep_floor")).scalar() == june
    result = sweep_job(now=now)
    assert result.missed == 1
    assert db.session.execute(text("SELECT status FROM tasks WHERE source_key = 'late-entry'")).scalar() == "missed"
    assert db.session.execute(text("SELECT starts_at FROM sweep_floor")).scalar() >= month_start(now.date())


def test_the_visit_logs_first_page_reads_only_this_month(history, client, login):
    with _statements() as seen:
        response = client.get("/api/v1/audit/visits", headers=login(history.supervisor_all))
    assert response.status_code == 200
    assert response.get_json()["items"]
    read = _all_read(seen)
    assert {"tasks_p202611", "visits_p202611", "visit_items_p202611"} <= read
    assert read <= _months(date(2026, 11, 1), date(2026, 11, 1)), read


def test_this_months_report_reads_only_this_month_and_its_quarter_for_patrol_coverage(history, client, login):
    with _statements() as seen:
        response = client.get("/api/v1/reports/monthly", query_string={"region": history.district.id,
                                                                       "month": "2026-11"},
                              headers=login(history.supervisor_all))
    assert response.status_code == 200
    read = _all_read(seen)
    assert {"tasks_p202611", "visits_p202611"} <= read
    # Coverage of an elder patrolled quarterly looks back to the quarter's start, 1 October.
    assert read <= _months(date(2026, 10, 1), date(2026, 11, 1)), read


def test_an_item_id_is_stored_once_across_months(history):
    """visit_item_ids holds every item's id once: the same id under another month is refused."""
    held = db.session.execute(text("SELECT id, task_id FROM visit_items ORDER BY window_start_at LIMIT 1")).one()
    with pytest.raises(IntegrityError):
        db.session.execute(text("INSERT INTO visit_item_ids (id, window_start_at) VALUES (:id, now())"),
                           {"id": held.id})
    db.session.rollback()


def test_a_tasks_window_start_never_moves(history):
    """source_key with window_start_at is unique only as source_key alone is, because a task's
    window start (fixed by its source key's plan slot) cannot change: the database refuses it."""
    task_id = db.session.execute(text("SELECT min(id) FROM tasks")).scalar()
    with pytest.raises(IntegrityError, match="fixed once made"):
        db.session.execute(text("UPDATE tasks SET window_start_at = window_start_at + interval '1 day' "
                                "WHERE id = :id"), {"id": task_id})
    db.session.rollback()


def test_key_tables_follow_the_tasks_and_visits(history):
    counts = db.session.execute(text(
        "SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM task_keys), (SELECT count(*) FROM visits), "
        "(SELECT count(*) FROM visit_keys), (SELECT count(*) FROM visit_items), (SELECT count(*) FROM visit_item_ids)"
    )).one()
    assert counts[0] == counts[1] > 0 and counts[2] == counts[3] == counts[4] == counts[5] > 0
    # Rows of a month land in its partition, none in the default.
    assert db.session.execute(text("SELECT count(*) FROM tasks_default")).scalar() == 0
    db.session.execute(text("DELETE FROM task_events; DELETE FROM visits; DELETE FROM visit_item_ids; "
                            "DELETE FROM tasks"))
    assert db.session.execute(text("SELECT (SELECT count(*) FROM task_keys) + (SELECT count(*) FROM visit_keys) "
                                   "+ (SELECT count(*) FROM visit_items)")).scalar() == 0
    db.session.rollback()
