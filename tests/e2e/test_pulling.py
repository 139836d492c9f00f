"""Pulling with the reference client: small pages, and the window moving overnight, without resets."""

from datetime import timedelta

from sqlalchemy import select

from backend.extensions import db
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task
from tests.conftest import PASSWORD
from tests.e2e.conftest import PULL


def snapshots_asked(transport) -> int:
    return sum(1 for e in transport.sent(PULL) if "cursor" not in e.request.query or not e.request.query["cursor"])


def server_window(user) -> dict[int, int]:
    db.session.expire_all()
    rows = db.session.execute(select(Task.id, Task.version).where(Task.assignee_id == user.id,
                                                                  Task.status != "cancelled")).all()
    return dict(rows)


def test_a_pull_in_pages_of_two_holds_exactly_the_servers_tasks(round_of_visits, make_phone, transport, city):
    phone = make_phone(pull_limit=2)
    phone.login("cg1", PASSWORD)
    phone.pull()
    assert len(transport.sent(PULL)) > 3 and snapshots_asked(transport) == 1
    assert dict(phone.store.task_versions()) == server_window(city.caregiver)
    assert {e["id"] for e in phone.store.rows("elders")} == {city.elder_a1.id, city.elder_a2.id, city.elder_b1.id}


def test_the_next_mornings_pull_moves_the_window_without_a_snapshot(round_of_visits, make_phone, transport, clock,
                                                                    city, app):
    phone = make_phone()
    phone.login("cg1", PASSWORD)
    phone.pull()
    first_day = dict(phone.store.task_versions())

    clock.advance(days=2)  # two mornings later: yesterday's tasks have left the window
    generate_tasks(now=clock(), horizon_days=2)
    db.session.commit()
    phone.pull()

    held = dict(phone.store.task_versions())
    from backend.clock import local_midnight, local_today
    yesterday = local_midnight(local_today(clock()) - timedelta(days=1))
    expected = {task_id: version for task_id, version in server_window(city.caregiver).items()
                if db.session.get(Task, task_id).window_end_at > yesterday}
    assert held == expected and held != first_day
    assert snapshots_asked(transport) == 1  # the move came as a delta, and its digest matched


def test_a_stray_local_task_costs_one_snapshot_that_drops_it(round_of_visits, make_phone, transport, city):
    """The quiet pull answers with the cursor's digest; the phone's differs, so it asks for a
    snapshot, whose reset clears the stray (docs/sync-protocol.md 4.6, 4.7)."""
    phone = make_phone()
    phone.login("cg1", PASSWORD)
    phone.pull()
    phone.store.upsert("tasks", [{"id": 987_654, "version": 1}])
    phone.pull()
    assert dict(phone.store.task_versions()) == server_window(city.caregiver)
    assert snapshots_asked(transport) == 2
