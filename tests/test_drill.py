"""The missed-visit drill on the demo city: a day passes, some phones never sync, one syncs late."""

import uuid
from datetime import timedelta

from sqlalchemy import select

from backend.clock import local_midnight, local_today
from backend.demo import DEMO_PASSWORD, seed_demo
from backend.extensions import db
from backend.followups.models import Followup
from backend.plans.models import CarePlan
from backend.plates.services import active_plate, plate_payload
from backend.providers.models import Provider
from backend.tasks.jobs import sweep_job
from backend.tasks.models import Task
from backend.users.models import User


def test_a_day_without_sync_makes_missed_visits_and_evidence_after_missed_resolves_them(app, client, clock):
    clock.set(clock.now.replace(hour=0))  # Monday 08:00 in Shanghai
    seed_demo(now=clock())
    today = local_today(clock())
    end_of_day = local_midnight(today + timedelta(days=1))

    late = sweep_job(now=local_midnight(today) + timedelta(hours=11, minutes=31))  # lunch windows open at 11:00
    assert late.late > 0 and late.missed == 0

    result = sweep_job(now=end_of_day + timedelta(hours=3))  # nobody synced all day
    assert result.missed > 0 and result.followups == result.missed
    missed = db.session.execute(select(Task).where(Task.status == "missed", Task.kind == "service")).scalars().all()
    managed = db.session.execute(select(Provider).where(Provider.manager_id.is_not(None))).scalar_one()
    for task in missed:
        followup = db.session.execute(select(Followup).where(Followup.task_id == task.id)).scalar_one()
        plan = db.session.get(CarePlan, task.care_plan_id)
        if plan.provider_id == managed.id:
            assert followup.owner_id == managed.manager_id  # the provider's manager first
        else:
            owner = db.session.get(User, followup.owner_id)
            assert owner.role == "supervisor"  # the supervisor of the elder's region

    # caregiver01's phone comes back online the next morning with yesterday's visit on it.
    task = next(t for t in missed if t.assignee.username == "caregiver01")
    qr = plate_payload(active_plate(task.elder))
    elder_home = {"lat": task.elder.lat, "lon": task.elder.lon, "accuracy_m": 8}
    clock.set(end_of_day + timedelta(hours=4))
    login = client.post("/api/v1/auth/login", json={"username": "caregiver01", "password": DEMO_PASSWORD,
                                                    "device_id": "cg01-phone"}).get_json()
    start = task.window_start_at + timedelta(minutes=15)
    items = [{"id": str(uuid.uuid4()), "seq": 0, "type": "check_in", "task_id": task.id,
              "captured_at": start.isoformat(), "qr": qr, "location": elder_home},
             {"id": str(uuid.uuid4()), "seq": 1, "type": "check_out", "task_id": task.id,
              "captured_at": (start + timedelta(minutes=40)).isoformat(), "qr": qr, "location": elder_home,
              "services": [{"service_type": task.service_type, "outcome": "done"}], "satisfaction": 5}]
    response = client.post("/api/v1/sync/push", json={"device_id": "cg01-phone", "device_time": clock().isoformat(),
                                                      "items": items},
                           headers={"Authorization": "Bearer " + login["access_token"]})
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["accepted", "accepted"] and "after_missed" in results[0]["flags"]
    db.session.expire_all()
    assert db.session.get(Task, task.id).status == "completed"
    followup = db.session.execute(select(Followup).where(Followup.task_id == task.id,
                                                         Followup.kind == "missed_visit")).scalar_one()
    assert followup.status == "resolved" and followup.resolution_code == "visited_late_evidence"
    assert [e.action for e in followup.events] == ["opened", "auto_resolved"]
