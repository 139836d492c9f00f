"""Escalation by time: owners first, the region supervisor when the due time passes, told once."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.followups.jobs import escalation_job
from backend.followups.models import Followup, FollowupEvent, Notification
from backend.plans.models import PatrolPlan
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task
from tests.followups.conftest import count, fresh
from tests.visits.conftest import Phone

CONTACTS = [{"name": "张伟", "relation": "儿子", "phone": "13800138000"}]


def _notified(event):
    return sorted(db.session.execute(select(Notification.user_id).where(Notification.event == event)).scalars())


def test_a_missed_service_visit_goes_to_the_provider_manager_then_to_the_region_supervisor(
        missed, city, manager, clock):
    assert missed.owner_id == manager.id and missed.escalation_level == 0
    assert _notified("assigned") == [manager.id]

    clock.set(missed.due_at - timedelta(minutes=1))
    assert escalation_job().escalated == 0

    clock.set(missed.due_at)
    assert escalation_job().escalated == 1
    followup = fresh(Followup, missed.id)
    assert followup.owner_id == city.supervisor_a.id and followup.escalation_level == 1
    assert followup.due_at == clock() + timedelta(hours=24)
    assert _notified("escalated") == [city.supervisor_a.id]
    assert _notified("overdue") == [manager.id]
    event = db.session.execute(select(FollowupEvent).where(FollowupEvent.action == "escalated")).scalar_one()
    assert event.data["from_owner_id"] == manager.id and event.data["to_owner_id"] == city.supervisor_a.id


def test_with_no_step_left_the_owner_is_told_it_is_overdue_once(missed, city, manager, clock):
    clock.set(missed.due_at)
    escalation_job()
    clock.set(fresh(Followup, missed.id).due_at + timedelta(minutes=5))
    result = escalation_job()
    assert (result.escalated, result.overdue) == (0, 1)
    assert fresh(Followup, missed.id).owner_id == city.supervisor_a.id
    assert _notified("overdue") == sorted([manager.id, city.supervisor_a.id])

    notifications = count(Notification)
    clock.advance(hours=6)
    assert (escalation_job().overdue, count(Notification)) == (0, notifications)


def test_running_escalation_again_at_the_same_time_changes_nothing(missed, clock):
    clock.set(missed.due_at)
    escalation_job()
    before = (count(Notification), count(FollowupEvent), fresh(Followup, missed.id).version)
    assert escalation_job().escalated == 0
    assert before == (count(Notification), count(FollowupEvent), fresh(Followup, missed.id).version)


def test_resolved_follow_ups_never_escalate(missed, manager, clock):
    from backend.followups.actions import resolve

    resolve(fresh(Followup, missed.id), "elder_in_hospital", None, by=manager, at=clock())
    db.session.commit()
    clock.set(missed.due_at + timedelta(days=3))
    assert (escalation_job().escalated, escalation_job().overdue) == (0, 0)


def test_escalation_steps_are_configurable(missed, city, clock, app, monkeypatch):
    rules = dict(app.config["FOLLOWUP_RULES"])
    rules["missed_visit"] = {"due_minutes": 60, "escalate": [{"to": "region_supervisor", "due_minutes": 30},
                                                             {"to": "admin", "due_minutes": 30}]}
    monkeypatch.setitem(app.config, "FOLLOWUP_RULES", rules)
    clock.set(missed.due_at)
    escalation_job()
    clock.advance(minutes=30)
    escalation_job()
    followup = fresh(Followup, missed.id)
    assert (followup.owner_id, followup.escalation_level) == (city.admin.id, 2)


@pytest.fixture
def welfare(city, make_elder, make_patrol_plan, client, login, clock):
    """A high-risk solitary elder whose door nobody answered on this week's patrol."""
    elder = make_elder(city.community_a1, "赵淑珍", risk_tier="high", categories=["solitary"],
                       emergency_contacts=CONTACTS)
    make_patrol_plan(elder, city.worker_a, tier="high")
    generate_tasks(now=clock() - timedelta(days=1), horizon_days=8)
    db.session.commit()
    task = db.session.execute(select(Task).join(PatrolPlan, Task.patrol_plan_id == PatrolPlan.id)
                              .where(Task.window_start_at <= clock()).order_by(Task.window_start_at.desc())
                              ).scalars().first()
    phone = Phone(client, login(city.worker_a, device_id="phone-W"), "phone-W", clock)
    response = phone.push([phone.item("patrol_report", task.id, clock() - timedelta(minutes=3),
                                      outcome="no_answer", mode="phone")])
    assert response.status_code == 200 and response.get_json()["results"][0]["status"] == "accepted"
    return db.session.execute(select(Followup).where(Followup.kind == "welfare_check")).scalar_one()


def test_a_welfare_check_for_a_high_risk_solitary_elder_is_urgent_and_the_community_workers(welfare, city, clock):
    assert welfare.priority == "urgent" and welfare.owner_id == city.worker_a.id
    assert welfare.due_at == clock() + timedelta(hours=2)
    assert _notified("assigned") == [city.worker_a.id]


def test_the_community_worker_sees_the_emergency_contacts(welfare, city, api):
    body = api(city.worker_a, "get", f"/followups/{welfare.id}").get_json()
    assert body["kind"] == "welfare_check" and body["emergency_contacts"] == CONTACTS
    assert [e["action"] for e in body["events"]] == ["opened"]


def test_an_overdue_welfare_check_goes_to_the_supervisor_with_the_contacts(welfare, city, clock, api):
    clock.advance(hours=2)
    assert escalation_job().escalated == 1
    followup = fresh(Followup, welfare.id)
    assert followup.owner_id == city.supervisor_a.id and followup.due_at == clock() + timedelta(minutes=60)
    escalated = db.session.execute(select(Notification).where(Notification.event == "escalated")).scalar_one()
    assert escalated.user_id == city.supervisor_a.id and "13800138000" in escalated.body
    body = api(city.supervisor_a, "get", f"/followups/{welfare.id}").get_json()
    assert body["emergency_contacts"] == CONTACTS and body["escalation_level"] == 1
    assert _notified("overdue") == [city.worker_a.id]
