"""Plan edits at once: each answers 200 or a clear 4xx/503, never a 500 (issue 14, item 6)."""

import threading

from sqlalchemy import func, select

from backend.extensions import db
from backend.plans.models import CarePlan
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task


def test_eight_concurrent_edits_of_different_care_plans_all_land(app, city, make_elder, make_care_plan, clock,
                                                                 login):
    now = clock()
    elders = [make_elder(city.community_a1) for _ in range(8)]
    plans = [make_care_plan(elder, city.provider, [
        ("meal", {"freq": "daily", "start": "11:00", "end": "12:00"}, 20, city.caregiver),
        ("cleaning", {"freq": "weekly", "weekdays": [2, 5], "start": "09:00", "end": "11:00"}, 45, city.caregiver),
    ]) for elder in elders]
    generate_tasks(now=now)
    db.session.commit()
    headers = login(city.admin)
    plan_ids, caregiver_id = [plan.id for plan in plans], city.caregiver.id
    db.session.commit()
    start = threading.Barrier(len(plan_ids))
    answers = {}

    def edit(plan_id):
        body = {"items": [{"service_type": "meal", "recurrence": {"freq": "daily", "start": "11:30", "end": "12:30"},
                           "min_duration_minutes": 25, "assignee_id": caregiver_id}]}
        with app.test_client() as client:
            start.wait(timeout=30)
            answers[plan_id] = client.patch(f"/api/v1/plans/care/{plan_id}", json=body, headers=headers)

    threads = [threading.Thread(target=edit, args=(plan_id,)) for plan_id in plan_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    statuses = sorted(response.status_code for response in answers.values())
    assert statuses == [200] * len(plan_ids), [r.get_json() for r in answers.values() if r.status_code != 200]
    db.session.rollback()
    revised = db.session.execute(select(func.count()).select_from(CarePlan)
                                 .where(CarePlan.id.in_(plan_ids), CarePlan.version > 1)).scalar()
    new_slots = db.session.execute(select(func.count()).select_from(Task).where(
        Task.care_plan_id.in_(plan_ids), Task.status == "scheduled", Task.min_duration_minutes == 25)).scalar()
    assert revised == len(plan_ids) and new_slots > 0
