"""Follow-ups the figures and the field open or close: worker patterns, reassessment, late evidence."""

from datetime import timedelta

from sqlalchemy import select

from backend.extensions import db
from backend.followups.jobs import worker_pattern_job
from backend.followups.models import CareRiskEvent, Followup, FollowupEvent
from backend.plans.models import PatrolPlan
from backend.plates.services import issue_plate, plate_payload
from backend.reviews.services import decide
from backend.tasks.generation import generate_tasks
from backend.tasks.jobs import sweep_job
from backend.tasks.models import Task, TaskEvent
from backend.visits.models import Visit
from tests.followups.conftest import MEAL, count, fresh
from tests.visits.conftest import Phone


def test_a_caregiver_who_keeps_missing_visits_gets_one_worker_pattern_follow_up(
        city, manager, make_care_plan, clock):
    make_care_plan(city.elder_a1, city.provider, [("meal", MEAL, 20, city.caregiver)])
    generate_tasks(now=clock() - timedelta(days=12), horizon_days=12)  # 12 past visits, none made
    db.session.commit()
    assert sweep_job().missed == 12

    assert worker_pattern_job() == 1
    followup = db.session.execute(select(Followup).where(Followup.kind == "worker_pattern")).scalar_one()
    assert (followup.owner_id, followup.subject_user_id, followup.provider_id) == (
        manager.id, city.caregiver.id, city.provider.id)
    assert followup.details == {"window_days": 30, "ended": 12, "missed": 12, "unverified": 0,
                                "share": 1.0, "threshold": 0.2}
    assert followup.dedupe_key == f"worker_pattern:user:{city.caregiver.id}:2026-11-23"

    assert worker_pattern_job() == 0
    clock.advance(days=1)  # still unresolved the next day: no second one
    assert worker_pattern_job() == 0
    assert count(Followup, Followup.kind == "worker_pattern") == 1


def test_too_few_ended_tasks_make_no_pattern(city, manager, make_care_plan, clock):
    make_care_plan(city.elder_a1, city.provider, [("meal", MEAL, 20, city.caregiver)])
    generate_tasks(now=clock() - timedelta(days=5), horizon_days=5)
    db.session.commit()
    assert sweep_job().missed == 5
    assert worker_pattern_job() == 0


def _patrols(city, make_elder, make_patrol_plan, client, login, clock):
    elder = make_elder(city.community_a1, "孙桂芳", risk_tier="high", categories=["solitary"])
    make_patrol_plan(elder, city.worker_a, tier="high")
    generate_tasks(now=clock() - timedelta(days=1), horizon_days=14)
    db.session.commit()
    tasks = db.session.execute(select(Task).join(PatrolPlan, Task.patrol_plan_id == PatrolPlan.id)
                               .order_by(Task.window_start_at)).scalars().all()
    return elder, tasks, Phone(client, login(city.worker_a, device_id="phone-W"), "phone-W", clock)


def _report(phone, task, clock, **fields):
    response = phone.push([phone.item("patrol_report", task.id, clock(), mode="phone", **fields)])
    assert response.status_code == 200 and response.get_json()["results"][0]["status"] == "accepted", \
        response.get_json()
    db.session.expire_all()


def test_two_care_risk_events_within_30_days_open_one_reassessment(
        city, make_elder, make_patrol_plan, client, login, clock):
    elder, tasks, phone = _patrols(city, make_elder, make_patrol_plan, client, login, clock)
    seen = {"outcome": "seen_well", "observations": {"health": "膝盖擦伤，已处理"}}
    _report(phone, tasks[0], clock, care_risk_events=[{"kind": "fall", "note": "夜里起床摔倒"}], **seen)
    assert count(Followup, Followup.kind == "reassessment") == 0

    clock.advance(days=7)
    _report(phone, tasks[1], clock, care_risk_events=[{"kind": "fall"}], **seen)
    followup = db.session.execute(select(Followup).where(Followup.kind == "reassessment")).scalar_one()
    assert (followup.elder_id, followup.owner_id, followup.priority) == (elder.id, city.supervisor_a.id, "high")
    assert followup.details["events_30d"] == 2 and followup.details["standard"] == "GB/T 42195-2022"
    assert count(CareRiskEvent) == 2


def test_a_late_check_in_resolves_the_missed_visit_follow_up_and_history_keeps_both(
        missed, city, client, login, clock):
    task = db.session.get(Task, missed.task_id)
    plate = issue_plate(city.elder_a1, "static", by=None, at=clock() - timedelta(days=3))
    db.session.commit()
    phone = Phone(client, login(city.caregiver, device_id="phone-C"), "phone-C", clock)
    at_door = {"lat": city.elder_a1.lat, "lon": city.elder_a1.lon, "accuracy_m": 10}
    response = phone.push([phone.item("check_in", task.id, task.window_start_at + timedelta(minutes=5),
                                      qr=plate_payload(plate), location=at_door)])
    assert "after_missed" in response.get_json()["results"][0]["flags"]

    followup = fresh(Followup, missed.id)
    assert (followup.status, followup.resolution_code) == ("resolved", "visited_late_evidence")
    transitions = db.session.execute(select(TaskEvent.from_status, TaskEvent.to_status, TaskEvent.by_system)
                                     .where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)).all()
    assert transitions == [("scheduled", "missed", "sweep"), ("missed", "completed", "sync")]
    actions = db.session.execute(select(FollowupEvent.action).where(FollowupEvent.followup_id == missed.id)
                                 .order_by(FollowupEvent.id)).scalars().all()
    assert actions[-1] == "auto_resolved"


def _flagged_visits(city, make_care_plan, clock) -> list[Task]:
    """Ten past meal visits of the caregiver, each completed but flagged (no QR scan) for review."""
    make_care_plan(city.elder_a1, city.provider, [("meal", MEAL, 20, city.caregiver)])
    generate_tasks(now=clock() - timedelta(days=10), horizon_days=10)
    tasks = db.session.execute(select(Task).where(Task.window_start_at < clock()).order_by(Task.id)).scalars().all()
    for task in tasks:
        task.status = "completed"
        db.session.add(Visit(task_id=task.id, user_id=city.caregiver.id, started_at=task.window_start_at,
                             ended_at=task.window_start_at + timedelta(minutes=30), duration_seconds=1800,
                             is_verified=False, flags=["qr_missing"], needs_review=True))
    db.session.commit()
    return tasks


def test_flagged_visits_a_supervisor_approved_make_no_worker_pattern(city, manager, make_care_plan, clock):
    tasks = _flagged_visits(city, make_care_plan, clock)
    for task in tasks:
        decide(task, "approved", "device_problem_verified", None, by=city.supervisor_a, at=clock())
    db.session.commit()
    assert worker_pattern_job() == 0


def test_flagged_visits_rejected_or_awaiting_review_count_as_unverified(city, manager, make_care_plan, clock):
    tasks = _flagged_visits(city, make_care_plan, clock)
    for task in tasks[:4]:
        decide(task, "rejected", "no_presence_evidence", None, by=city.supervisor_a, at=clock())
    for task in tasks[4:]:
        decide(task, "explanation_requested", "missing_qr", None, by=city.supervisor_a, at=clock())
    db.session.commit()
    assert worker_pattern_job() == 1
    followup = db.session.execute(select(Followup).where(Followup.kind == "worker_pattern")).scalar_one()
    assert (followup.details["ended"], followup.details["unverified"]) == (len(tasks), len(tasks))
