"""The register follows the people in it: a patrol's `deceased` report confirmed by the supervisor
ends the elder's plans and takes their tasks off the phones; a rejected report changes nothing; a
hospital stay pauses the plans until the return date, when they resume by themselves."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.clock import local_today
from backend.elders.models import Elder
from backend.extensions import db
from backend.followups.models import Followup, FollowupEvent
from backend.plans.models import CarePlan, PatrolPlan
from backend.register.jobs import resume_returned_job
from backend.register.models import StatusReport
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task, TaskEvent
from tests.api.conftest import assert_problem
from tests.visits.conftest import Phone
from tests.visits.test_pull import Holder

EVENING_MEAL = {"freq": "daily", "start": "17:00", "end": "18:00"}


@pytest.fixture
def lives(city, make_care_plan, make_patrol_plan, client, login, clock):
    """Elder a1 has an evening meal every day (city.caregiver) and a weekly patrol (worker a),
    tasks for the next week, and both field workers' phones hold them."""
    class Lives:
        pass

    w = Lives()
    now = clock()
    w.elder = city.elder_a1
    w.care = make_care_plan(w.elder, city.provider, [("meal", EVENING_MEAL, 20, city.caregiver)],
                            revised_at=now - timedelta(days=1))
    w.patrol = make_patrol_plan(w.elder, city.worker_a, tier="high", revised_at=now - timedelta(days=1))
    generate_tasks(now=now, horizon_days=7)
    db.session.commit()
    w.caregiver_phone = Holder(Phone(client, login(city.caregiver, device_id="phone-C"), "phone-C", clock))
    w.worker_phone = Phone(client, login(city.worker_a, device_id="phone-W"), "phone-W", clock)
    w.worker_holder = Holder(w.worker_phone)
    w.caregiver_phone.sync()
    w.worker_holder.sync()
    w.patrol_task = _tasks(Task.patrol_plan_id == w.patrol.id)[0]
    return w


def _tasks(*where):
    db.session.expire_all()
    return db.session.execute(select(Task).where(*where).order_by(Task.window_start_at, Task.id)).scalars().all()


def _count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def _patrol_report(lives, clock, outcome):
    phone = lives.worker_phone
    response = phone.push([phone.item("patrol_report", lives.patrol_task.id, clock(), mode="phone",
                                      outcome=outcome)])
    assert response.get_json()["results"][0]["status"] == "accepted", response.get_json()
    db.session.expire_all()
    return db.session.execute(select(StatusReport).where(StatusReport.elder_id == lives.elder.id)).scalar_one()


def _register_state(elder_id):
    """Everything a decision could change: the elder, their plans and their tasks."""
    db.session.expire_all()
    elder = db.session.get(Elder, elder_id)
    plans = [(p.id, p.status, p.ends_on, p.revision) for model in (CarePlan, PatrolPlan)
             for p in db.session.execute(select(model).where(model.elder_id == elder_id)).scalars()]
    tasks = [(t.id, t.status, t.cancel_reason, t.version) for t in _tasks(Task.elder_id == elder_id)]
    return (elder.status, elder.is_active, elder.returns_on, elder.version), plans, tasks


def test_a_confirmed_deceased_report_cancels_the_future_tasks_and_the_next_pull_removes_them(
        lives, city, client, headers, clock):
    report = _patrol_report(lives, clock, "deceased")
    followup = db.session.get(Followup, report.followup_id)
    assert (report.kind, report.state, report.reported_by_id) == ("deceased", "pending", city.worker_a.id)
    assert (followup.kind, followup.owner_id, followup.status) == ("register_change", city.supervisor_a.id, "open")
    assert followup.summary == f"巡访报告老人已去世，待核实：{lives.elder.name}"
    # Until a supervisor confirms it, the register stands as it was.
    assert db.session.get(Elder, lives.elder.id).status == "active"
    future = [t.id for t in _tasks(Task.elder_id == lives.elder.id, Task.status == "scheduled")]
    assert len(future) == 7  # a meal a day; this week's patrol was completed by the report itself
    all_tasks = _count(Task, Task.elder_id == lives.elder.id)

    clock.advance(hours=1)
    response = client.post(f"/api/v1/status-reports/{report.id}/confirm",
                           json={"version": report.version, "note": "已与家属电话核实"},
                           headers=headers("supervisor_in_scope"))
    assert response.status_code == 200, response.get_json()
    body = decided = response.get_json()
    assert body["state"] == "confirmed" and body["effects"]["elder_status"] == "deceased"
    assert sorted(body["effects"]["cancelled_task_ids"]) == sorted(future)

    elder = db.session.get(Elder, lives.elder.id)
    assert (elder.status, elder.is_active) == ("deceased", False)
    assert db.session.get(CarePlan, lives.care.id).status == "ended"
    assert db.session.get(PatrolPlan, lives.patrol.id).status == "ended"
    cancelled = _tasks(Task.id.in_(future))
    assert {(t.status, t.cancel_reason) for t in cancelled} == {("cancelled", "elder_deceased")}
    assert _count(TaskEvent, TaskEvent.task_id.in_(future), TaskEvent.to_status == "cancelled",
                  TaskEvent.by_user_id == city.supervisor_a.id) == 7
    assert _count(Task, Task.elder_id == lives.elder.id) == all_tasks  # nothing deleted
    assert db.session.get(Task, lives.patrol_task.id).status == "completed"
    followup = db.session.get(Followup, report.followup_id)
    assert (followup.status, followup.resolution_code) == ("resolved", "status_confirmed")

    # The phone's next pull takes the cancelled visits (and then the elder) off the caregiver's phone.
    body = lives.caregiver_phone.sync()[-1]
    assert sorted(r["id"] for r in body["tasks"]["removed"]) == sorted(future)
    assert {r["reason"] for r in body["tasks"]["removed"]} == {"cancelled"}
    assert lives.elder.id not in lives.caregiver_phone.elders
    assert not [t for t in lives.caregiver_phone.tasks.values() if t["elder_id"] == lives.elder.id]

    # Generation makes nothing more for an elder who is not active, however far the clock runs.
    clock.advance(days=3)
    assert generate_tasks(now=clock(), horizon_days=14).created == 0
    db.session.commit()

    again = client.post(f"/api/v1/status-reports/{report.id}/reject", json={"version": decided["version"],
                                                                            "reason": "重复"},
                        headers=headers("supervisor_in_scope"))
    assert_problem(again, 409, "status_report_decided")


def test_rejecting_a_report_changes_nothing(lives, city, client, headers, clock):
    report = _patrol_report(lives, clock, "moved")
    assert report.kind == "moved_out"
    before = _register_state(lives.elder.id)

    missing_reason = client.post(f"/api/v1/status-reports/{report.id}/reject", json={"version": report.version},
                                 headers=headers("supervisor_in_scope"))
    assert_problem(missing_reason, 422, "validation_failed", "reason")
    response = client.post(f"/api/v1/status-reports/{report.id}/reject",
                           json={"version": report.version, "reason": "老人只是去女儿家小住，仍住本社区"},
                           headers=headers("supervisor_in_scope"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "rejected" and response.get_json()["effects"] is None

    assert _register_state(lives.elder.id) == before
    followup = db.session.get(Followup, report.followup_id)
    assert (followup.status, followup.resolution_code) == ("resolved", "status_rejected")
    assert followup.resolution_note == "老人只是去女儿家小住，仍住本社区"
    # The phone sees no change to the elder's visits.
    body = lives.caregiver_phone.sync()[-1]
    assert body["tasks"] == {"upserted": [], "removed": []}


def test_a_hospital_stay_pauses_the_plans_and_they_resume_by_themselves_on_the_return_date(
        lives, city, client, headers, clock):
    today = local_today(clock())
    no_date = client.post("/api/v1/status-reports", json={"elder_id": lives.elder.id, "kind": "in_hospital"},
                          headers=headers("community_worker"))
    assert_problem(no_date, 422, "validation_failed", "returns_on")
    returns_on = today + timedelta(days=10)
    created = client.post("/api/v1/status-reports",
                          json={"elder_id": lives.elder.id, "kind": "in_hospital", "occurred_on": today.isoformat(),
                                "returns_on": returns_on.isoformat(), "note": "脑梗住市中心医院"},
                          headers=headers("community_worker"))
    assert created.status_code == 201, created.get_json()
    report = created.get_json()
    twice = client.post("/api/v1/status-reports", json={"elder_id": lives.elder.id, "kind": "deceased"},
                        headers=headers("community_worker"))
    assert_problem(twice, 409, "status_report_pending")

    # Only a supervisor in scope or an admin decides: others are refused or see no such report.
    assert_problem(client.post(f"/api/v1/status-reports/{report['id']}/confirm", json={"version": 1},
                               headers=headers("community_worker")), 403, "forbidden")
    assert_problem(client.post(f"/api/v1/status-reports/{report['id']}/confirm", json={"version": 1},
                               headers=headers("supervisor_out_of_scope")), 404, "not_found")
    response = client.post(f"/api/v1/status-reports/{report['id']}/confirm", json={"version": report["version"]},
                           headers=headers("supervisor_in_scope"))
    assert response.status_code == 200, response.get_json()

    elder = db.session.get(Elder, lives.elder.id)
    assert (elder.status, elder.is_active, elder.returns_on) == ("suspended", False, returns_on)
    assert db.session.get(CarePlan, lives.care.id).status == "paused"
    assert db.session.get(PatrolPlan, lives.patrol.id).status == "paused"
    open_tasks = _tasks(Task.elder_id == lives.elder.id, Task.window_end_at > clock())
    assert {(t.status, t.cancel_reason) for t in open_tasks} == {("cancelled", "elder_in_hospital")}
    lives.caregiver_phone.sync()
    assert not lives.caregiver_phone.tasks and not lives.caregiver_phone.elders

    # While in hospital: no resumption, and generation issues nothing.
    clock.advance(days=5)
    assert resume_returned_job(now=clock()) == 0
    assert generate_tasks(now=clock(), horizon_days=14).created == 0
    db.session.commit()

    # The return date: the plans resume by themselves and tasks come from today on.
    clock.advance(days=5)
    assert resume_returned_job(now=clock()) == 1
    assert resume_returned_job(now=clock()) == 0  # safe to run twice
    elder = db.session.get(Elder, lives.elder.id)
    assert (elder.status, elder.is_active, elder.returns_on) == ("active", True, None)
    assert db.session.get(CarePlan, lives.care.id).status == "active"
    patrol = db.session.get(PatrolPlan, lives.patrol.id)
    assert (patrol.status, patrol.revision) == ("active", 2)
    fresh = _tasks(Task.elder_id == lives.elder.id, Task.status == "scheduled")
    meals = [t for t in fresh if t.kind == "service"]
    assert meals and all(t.window_start_at > clock() for t in meals)
    # The week they come back in has its patrol: an elder back from hospital is visited.
    patrols = [t for t in fresh if t.kind == "patrol"]
    assert patrols and patrols[0].window_start_at <= clock() < patrols[0].window_end_at
    lives.caregiver_phone.sync()
    assert meals[0].id in lives.caregiver_phone.tasks and lives.elder.id in lives.caregiver_phone.elders


def test_a_register_change_follow_up_closes_only_by_deciding_its_report(lives, city, client, login, clock):
    report = _patrol_report(lives, clock, "deceased")
    followup = db.session.get(Followup, report.followup_id)
    response = client.post(f"/api/v1/followups/{followup.id}/resolve",
                           json={"version": followup.version, "code": "false_alarm"}, headers=login(city.supervisor_a))
    assert_problem(response, 409, "status_report_undecided")
    assert db.session.get(StatusReport, report.id).state == "pending"
    assert _count(FollowupEvent, FollowupEvent.followup_id == followup.id, FollowupEvent.action == "resolved") == 0


def test_an_elder_no_longer_in_the_register_is_not_reported_again_nor_switched_back_on(
        lives, city, client, headers, clock):
    report = _patrol_report(lives, clock, "deceased")
    client.post(f"/api/v1/status-reports/{report.id}/confirm", json={"version": report.version},
                headers=headers("admin"))
    again = client.post("/api/v1/status-reports", json={"elder_id": lives.elder.id, "kind": "moved_out"},
                        headers=headers("admin"))
    assert_problem(again, 409, "elder_not_active")
    elder = db.session.get(Elder, lives.elder.id)
    switched = client.patch(f"/api/v1/elders/{elder.id}", json={"is_active": True, "version": elder.version},
                            headers=headers("admin"))
    assert_problem(switched, 422, "validation_failed", "is_active")


def test_status_reports_are_listed_within_the_callers_scope(lives, city, client, headers, clock):
    report = _patrol_report(lives, clock, "in_hospital")
    assert report.returns_on is None  # a patrol does not know it; the supervisor gives it on confirming
    mine = client.get("/api/v1/status-reports?state=pending", headers=headers("supervisor_in_scope")).get_json()
    assert [r["id"] for r in mine["items"]] == [report.id]
    other = client.get("/api/v1/status-reports", headers=headers("supervisor_out_of_scope")).get_json()
    assert other["items"] == []
    assert client.get(f"/api/v1/status-reports/{report.id}", headers=headers("supervisor_out_of_scope")) \
        .status_code == 404
    confirm = client.post(f"/api/v1/status-reports/{report.id}/confirm", json={"version": report.version},
                          headers={**headers("supervisor_in_scope"), "Accept-Language": "en"})
    assert_problem(confirm, 422, "validation_failed", "returns_on")
    assert db.session.get(Elder, lives.elder.id).status == "active"


def test_a_new_elder_gets_a_door_plate_in_the_same_transaction(client, city, headers):
    from backend.plates.models import DoorPlate

    body = {"name": "孙玉兰", "gender": "female", "birth_on": "1938-03-08", "community_id": city.community_a1.id}
    response = client.post("/api/v1/elders", json=body, headers=headers("admin"))
    assert response.status_code == 201, response.get_json()
    plates = db.session.execute(select(DoorPlate).where(DoorPlate.elder_id == response.get_json()["id"])).scalars()
    assert [(p.status, p.kind, p.issued_by_id) for p in plates] == [("active", "static", city.admin.id)]


def test_generation_makes_no_tasks_for_an_elder_switched_off(city, make_care_plan, clock):
    plan = make_care_plan(city.elder_a2, city.provider, [("meal", EVENING_MEAL, 20, city.caregiver)],
                          revised_at=clock() - timedelta(days=1))
    city.elder_a2.is_active = False
    db.session.commit()
    assert generate_tasks(now=clock(), horizon_days=3).created == 0
    city.elder_a2.is_active = True
    db.session.commit()
    assert generate_tasks(now=clock(), horizon_days=3).created == 3
    assert {t.care_plan_id for t in _tasks(Task.elder_id == city.elder_a2.id)} == {plan.id}


def test_an_elder_who_dies_in_hospital_has_their_paused_plans_ended_and_never_resumes(lives, city, clock):
    from backend.register.services import confirm, report_status

    stay = report_status(lives.elder, "in_hospital", by=city.worker_a, at=clock(),
                         returns_on=local_today(clock()) + timedelta(days=5))
    confirm(stay, by=city.supervisor_a, at=clock(), version=stay.version)
    db.session.commit()
    clock.advance(days=2)
    death = report_status(db.session.get(Elder, lives.elder.id), "deceased", by=city.worker_a, at=clock())
    confirm(death, by=city.supervisor_a, at=clock(), version=death.version)
    db.session.commit()
    elder = db.session.get(Elder, lives.elder.id)
    assert (elder.status, elder.returns_on) == ("deceased", None)
    assert db.session.get(CarePlan, lives.care.id).status == "ended"
    assert db.session.get(PatrolPlan, lives.patrol.id).status == "ended"
    assert death.effects["care_plan_ids"] == [lives.care.id] and death.effects["cancelled_task_ids"] == []
    clock.advance(days=5)
    assert resume_returned_job(now=clock()) == 0
    assert db.session.get(Elder, lives.elder.id).status == "deceased"
