"""Tasks carry their elder's community and their care plan's provider, however they are made."""

import uuid
from datetime import timedelta

from sqlalchemy import select

from backend.extensions import db
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task

MEAL = {"freq": "daily", "start": "11:00", "end": "13:00"}


def test_generated_tasks_carry_community_and_provider_and_patrols_no_provider(city, make_care_plan,
                                                                              make_patrol_plan, now):
    make_care_plan(city.elder_b1, city.other_provider, [("meal", MEAL, 20, city.caregiver_other)])
    make_patrol_plan(city.elder_a2, city.worker_a, tier="high")
    generate_tasks(now=now, horizon_days=2)
    db.session.commit()
    tasks = db.session.execute(select(Task)).scalars().all()
    assert {(t.kind, t.community_id, t.provider_id) for t in tasks} == {
        ("service", city.community_b1.id, city.other_provider.id), ("patrol", city.community_a2.id, None)}


def test_a_task_added_one_by_one_gets_them_from_its_elder_and_plan(city, make_care_plan, now):
    plan = make_care_plan(city.elder_a1, city.provider, [("meal", MEAL, 20, city.caregiver)])
    task = Task(kind="service", service_type="meal", elder_id=city.elder_a1.id, care_plan_id=plan.id,
                source_key=f"manual:{uuid.uuid4()}", window_start_at=now, window_end_at=now + timedelta(hours=1),
                missed_after_at=now + timedelta(hours=2))
    db.session.add(task)
    db.session.commit()
    assert (task.community_id, task.provider_id) == (city.community_a1.id, city.provider.id)
