"""A field worker's day acted out with the reference phone client against the real server."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.plates.services import issue_plate, plate_payload
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task
from backend.visits.models import QuarantinedItem, Visit, VisitItem
from sync.client import NetworkError
from tests.conftest import PASSWORD
from tests.e2e.conftest import PUSH, count, visit_once


def test_a_caregivers_offline_day_is_pushed_once_and_completes_every_visit(round_of_visits, make_phone, transport,
                                                                             clock):
    phone = make_phone()
    phone.login("cg1", PASSWORD)
    phone.pull()
    held = {task["id"] for task in phone.store.rows("tasks")}
    assert {stop.task.id for stop in round_of_visits} <= held
    assert len(phone.store.rows("elders")) == 3

    transport.offline = True  # the lift, the basement, the village without signal
    clock.set(round_of_visits[0].task.window_start_at + timedelta(minutes=5))
    recorded = []
    for stop in round_of_visits:
        recorded += visit_once(phone, stop, clock, minutes=25)
        clock.advance(minutes=10)  # walking to the next home
    with pytest.raises(NetworkError):
        phone.push()
    assert [row["status"] for row in phone.store.outbox()] == ["pending"] * 6
    assert transport.sent(PUSH) == [] and count(VisitItem) == 0

    transport.offline = False
    clock.advance(hours=2)
    summary = phone.push()

    assert (summary.accepted, summary.duplicate, summary.rejected) == (6, 0, 0)
    assert len(transport.sent(PUSH)) == 1
    assert [row["status"] for row in phone.store.outbox()] == ["acked"] * 6
    db.session.expire_all()
    assert sorted(db.session.execute(select(VisitItem.id)).scalars()) == sorted(recorded)
    assert count(QuarantinedItem) == 0
    for stop in round_of_visits:
        assert db.session.get(Task, stop.task.id).status == "completed"
        visit = db.session.execute(select(Visit).where(Visit.task_id == stop.task.id)).scalar_one()
        assert visit.is_verified and not visit.needs_review and visit.flags == []
        assert visit.duration_seconds == 25 * 60 and visit.satisfaction == 5

    phone.pull()  # the phone now sees what the server made of its day
    local = {task["id"]: task["status"] for task in phone.store.rows("tasks")}
    assert all(local[stop.task.id] == "completed" for stop in round_of_visits)


@pytest.fixture
def patrol_round(city, make_elder, make_patrol_plan, clock):
    """worker_a patrols two solitary elders of community A1 this week; one home has a plate."""
    neighbour = make_elder(city.community_a1, "赵玉兰")
    for elder in (city.elder_a1, neighbour):
        make_patrol_plan(elder, city.worker_a, tier="high")
    generate_tasks(now=clock(), horizon_days=3)
    qr = plate_payload(issue_plate(city.elder_a1, "static", by=None, at=clock()))
    db.session.commit()
    tasks = {t.elder_id: t for t in db.session.execute(select(Task).where(Task.kind == "patrol")).scalars()}
    return tasks[city.elder_a1.id], tasks[neighbour.id], qr


def test_a_community_workers_patrols_by_door_and_by_phone_complete_their_tasks(city, patrol_round, make_phone,
                                                                                transport, clock):
    door_task, phone_task, qr = patrol_round
    phone = make_phone(device_id="worker-phone")
    phone.login("wk_a", PASSWORD)
    phone.pull()
    assert {t["id"]: t["kind"] for t in phone.store.rows("tasks")} == {door_task.id: "patrol", phone_task.id: "patrol"}

    transport.offline = True
    clock.advance(hours=4)
    door = phone.record_patrol_report(
        door_task.id, outcome="seen_well", mode="door", qr=qr,
        location={"lat": city.elder_a1.lat, "lon": city.elder_a1.lon, "accuracy_m": 12.0},
        observations={"health": "精神不错", "safety": {"gas": "ok", "water": "ok", "electricity": "ok"}})
    clock.advance(minutes=40)
    call = phone.record_patrol_report(
        phone_task.id, outcome="seen_needs_help", mode="phone", observations={"needs": "想请人帮忙买药"},
        care_risk_events=[{"kind": "fall", "occurred_on": None, "note": "昨晚起夜摔了一下"}])
    transport.offline = False
    clock.advance(minutes=30)
    summary = phone.push()

    assert (summary.accepted, summary.rejected) == (2, 0)
    results = {row["id"]: row["result"] for row in phone.store.outbox()}
    assert results[door]["flags"] == ["qr_verified"]
    assert results[call]["flags"] == []  # a phone call proves no presence, and claims none
    db.session.expire_all()
    assert {db.session.get(Task, t.id).status for t in (door_task, phone_task)} == {"completed"}
    at_door = db.session.execute(select(Visit).where(Visit.task_id == door_task.id)).scalar_one()
    by_phone = db.session.execute(select(Visit).where(Visit.task_id == phone_task.id)).scalar_one()
    assert (at_door.patrol_mode, at_door.patrol_outcome, at_door.is_verified) == ("door", "seen_well", True)
    assert (by_phone.patrol_mode, by_phone.patrol_outcome, by_phone.is_verified) == ("phone", "seen_needs_help",
                                                                                     False)


def test_work_recorded_on_a_task_reassigned_meanwhile_is_still_pushed_and_flagged(round_of_visits, make_phone, city,
                                                                                  transport, clock):
    from backend.tasks.services import reassign

    stop = round_of_visits[0]
    phone = make_phone()
    phone.login("cg1", PASSWORD)
    phone.pull()
    clock.set(stop.task.window_start_at + timedelta(minutes=5))
    transport.offline = True
    item_id = phone.record_check_in(stop.task.id, qr=stop.qr, location=stop.at_door)
    reassign(db.session.get(Task, stop.task.id), city.caregiver_other, at=clock(), by_system="test")
    db.session.commit()  # the office moved the visit while the phone was out of reach

    transport.offline = False
    phone.pull()
    assert stop.task.id not in {task["id"] for task in phone.store.rows("tasks")}
    summary = phone.push()

    assert summary.accepted == 1
    result = phone.store.outbox()[0]["result"]
    assert result["id"] == item_id and "task_reassigned" in result["flags"]
    assert count(VisitItem, VisitItem.task_id == stop.task.id) == 1
