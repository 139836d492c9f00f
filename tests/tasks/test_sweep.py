"""The sweep: late alerts, missed tasks and (through the job's second step) their follow-ups,
set-based and idempotent."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.followups.models import Followup, Notification
from backend.tasks.generation import generate_tasks
from backend.tasks.jobs import sweep_job
from backend.tasks.models import Task, TaskEvent
from backend.tasks.sweep import sweep

MEAL = {"freq": "daily", "start": "11:00", "end": "13:00"}
NIGHT = {"freq": "daily", "start": "22:00", "end": "01:00"}


@pytest.fixture
def meals(city, make_care_plan, now):
    city.provider.manager_id = city.supervisor_a.id
    make_care_plan(city.elder_a1, city.provider, [("meal", MEAL, 20, city.caregiver)])
    generate_tasks(now=now, horizon_days=3)
    db.session.commit()
    return db.session.execute(select(Task).order_by(Task.window_start_at)).scalars().all()


def _at(local: str) -> datetime:
    """'2026-11-23 13:30' in Shanghai → UTC."""
    return datetime.fromisoformat(local + "+08:00").astimezone(UTC)


def _status(task):
    db.session.expire_all()
    return db.session.get(Task, task.id).status


def test_a_window_open_past_its_alert_time_marks_the_task_late_not_missed(meals):
    result = sweep(now=_at("2026-11-23 11:31"))
    db.session.commit()
    assert (result.late, result.missed) == (1, 0)
    task = db.session.get(Task, meals[0].id)
    assert task.late_at is not None and task.status == "scheduled"
    notified = db.session.execute(select(Notification.user_id).where(Notification.event == "late_start")).scalars()
    assert sorted(notified) == sorted([meals[0].assignee_id, meals[0].elder.id and _manager(meals[0])])


def _manager(task):
    from backend.plans.models import CarePlan
    from backend.providers.models import Provider

    plan = db.session.get(CarePlan, task.care_plan_id)
    return db.session.get(Provider, plan.provider_id).manager_id


def test_a_task_already_past_its_missed_deadline_is_marked_missed_without_a_late_alert(meals):
    result = sweep(now=_at("2026-11-23 15:01"))  # the scheduler was down all through the window
    db.session.commit()
    assert (result.late, result.missed) == (0, 1)
    assert db.session.get(Task, meals[0].id).late_at is None
    assert db.session.execute(select(Notification).where(Notification.event == "late_start")).first() is None


def test_the_grace_period_is_honoured(meals):
    sweep(now=_at("2026-11-23 14:59"))  # window closed 13:00, grace 2 h
    assert _status(meals[0]) == "scheduled"
    sweep(now=_at("2026-11-23 15:00"))
    db.session.commit()
    assert _status(meals[0]) == "missed"


def test_a_missed_service_visit_opens_a_follow_up_for_the_providers_manager(meals, city):
    sweep_job(now=_at("2026-11-23 15:01"))
    followup = db.session.execute(select(Followup)).scalar_one()
    assert followup.kind == "missed_visit" and followup.task_id == meals[0].id
    assert followup.owner_id == city.supervisor_a.id and followup.status == "open"
    assert followup.due_at == _at("2026-11-24 15:01")
    event = db.session.execute(select(TaskEvent).where(TaskEvent.task_id == meals[0].id)).scalar_one()
    assert (event.from_status, event.to_status, event.by_system) == ("scheduled", "missed", "sweep")
    assigned = db.session.execute(select(Notification).where(Notification.event == "assigned")).scalar_one()
    assert assigned.user_id == city.supervisor_a.id and assigned.followup_id == followup.id


def test_without_a_manager_the_region_supervisor_owns_it(meals, city):
    city.provider.manager_id = None
    db.session.commit()
    sweep_job(now=_at("2026-11-23 15:01"))
    # elder_a1 lives in street A: sup_a is nearer than the district supervisor.
    assert db.session.execute(select(Followup.owner_id)).scalar_one() == city.supervisor_a.id


def test_sweeping_again_changes_nothing(meals):
    sweep_job(now=_at("2026-11-23 15:01"))
    counts = [db.session.execute(select(func.count()).select_from(m)).scalar()
              for m in (Followup, TaskEvent, Notification)]
    assert counts[0] == 1
    again = sweep_job(now=_at("2026-11-23 15:05"))
    assert (again.late, again.missed, again.followups) == (0, 0, 0)
    assert counts == [db.session.execute(select(func.count()).select_from(m)).scalar()
                      for m in (Followup, TaskEvent, Notification)]


def test_windows_across_midnight_in_shanghai(city, make_care_plan, now):
    make_care_plan(city.elder_a1, city.provider, [("companionship", NIGHT, 30, city.caregiver)])
    generate_tasks(now=now, horizon_days=1)
    db.session.commit()
    task = db.session.execute(select(Task)).scalar_one()
    assert task.window_start_local.startswith("2026-11-23T22:00") and task.window_end_local.startswith(
        "2026-11-24T01:00")
    sweep(now=_at("2026-11-24 02:59"))
    assert _status(task) == "scheduled"
    sweep(now=_at("2026-11-24 03:00"))
    assert _status(task) == "missed"


def test_a_checked_in_task_is_never_marked_missed(meals):
    from backend.tasks.services import transition

    transition(meals[0], "in_progress", at=_at("2026-11-23 11:10"), by_system="test")
    db.session.commit()
    sweep(now=_at("2026-11-23 18:00"))
    db.session.commit()
    assert _status(meals[0]) == "in_progress"


def test_the_sweep_is_visible_to_pulls(meals):
    from backend.changefeed import current_seq

    before = current_seq(db.session)
    sweep(now=_at("2026-11-23 15:01"))
    db.session.commit()
    assert db.session.get(Task, meals[0].id).change_seq > before


def test_two_sweeps_at_once_mark_each_task_exactly_once(meals, app):
    results = []

    def run():
        with app.app_context():
            results.append(sweep_job(now=_at("2026-11-25 18:00")))
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.missed for r in results) == 3
    events = db.session.execute(select(func.count()).select_from(TaskEvent)).scalar()
    assert events == 3 and db.session.execute(select(func.count()).select_from(Followup)).scalar() == 3
    assert timedelta(0) < timedelta(1)
