"""Plans become tasks for a rolling horizon; re-running never duplicates; edits replace the future."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend.extensions import db
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task
from backend.tasks.services import cancel_future, future_unstarted, transition

DAILY_MEAL = {"freq": "daily", "start": "11:00", "end": "13:00"}
TUE_FRI = {"freq": "weekly", "weekdays": [2, 5], "start": "09:00", "end": "11:00"}


def _count(**where):
    query = select(func.count(Task.id))
    for key, value in where.items():
        query = query.where(getattr(Task, key) == value)
    return db.session.execute(query).scalar()


def test_a_daily_service_makes_one_task_a_day_over_the_horizon(city, make_care_plan, now):
    make_care_plan(city.elder_a1, city.provider, [("meal", DAILY_MEAL, 20, city.caregiver)])
    result = generate_tasks(now=now, horizon_days=14)
    db.session.commit()
    assert result.created == 14
    first = db.session.execute(select(Task).order_by(Task.window_start_at)).scalars().first()
    # 11:00 in Shanghai is 03:00 UTC.
    assert first.window_start_at == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    assert first.window_end_at == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    assert first.assignee_id == city.caregiver.id and first.status == "scheduled"
    assert first.window_start_local == "2026-11-23T11:00:00+08:00"


def test_weekly_services_fall_on_their_weekdays(city, make_care_plan, now):
    make_care_plan(city.elder_a1, city.provider, [("cleaning", TUE_FRI, 45, city.caregiver)])
    generate_tasks(now=now, horizon_days=14)
    db.session.commit()
    days = [t.window_start_at.astimezone(UTC).date().isoweekday() for t in db.session.execute(select(Task)).scalars()]
    assert sorted(days) == [2, 2, 5, 5]


def test_a_night_window_ends_the_next_morning(city, make_care_plan, now):
    night = {"freq": "daily", "start": "22:00", "end": "06:00"}
    make_care_plan(city.elder_a1, city.provider, [("companionship", night, 30, city.caregiver)])
    generate_tasks(now=now, horizon_days=1)
    task = db.session.execute(select(Task)).scalar_one()
    assert task.window_end_at - task.window_start_at == timedelta(hours=8)


def test_re_running_generation_creates_no_duplicates(city, make_care_plan, make_patrol_plan, now):
    make_care_plan(city.elder_a1, city.provider, [("meal", DAILY_MEAL, 20, city.caregiver),
                                                  ("cleaning", TUE_FRI, 45, city.caregiver)])
    make_patrol_plan(city.elder_a1, city.worker_a, tier="high")
    first = generate_tasks(now=now, horizon_days=14)
    db.session.commit()
    second = generate_tasks(now=now, horizon_days=14)
    db.session.commit()
    assert first.created > 0 and second.created == 0
    assert _count() == first.created


def test_uniqueness_of_a_plan_slot_is_enforced_by_the_database(city, make_care_plan, now):
    make_care_plan(city.elder_a1, city.provider, [("meal", DAILY_MEAL, 20, city.caregiver)])
    generate_tasks(now=now, horizon_days=1)
    db.session.commit()
    task = db.session.execute(select(Task)).scalar_one()
    db.session.add(Task(kind="service", service_type="meal", elder_id=task.elder_id, source_key=task.source_key,
                        window_start_at=task.window_start_at, window_end_at=task.window_end_at,
                        missed_after_at=task.missed_after_at))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_the_horizon_rolls_forward_with_the_clock(city, make_care_plan, now):
    make_care_plan(city.elder_a1, city.provider, [("meal", DAILY_MEAL, 20, city.caregiver)])
    generate_tasks(now=now, horizon_days=14)
    generate_tasks(now=now + timedelta(days=3), horizon_days=14)
    db.session.commit()
    assert _count() == 17


def test_a_plan_ending_stops_generation_at_its_end_date(city, make_care_plan, now):
    make_care_plan(city.elder_a1, city.provider, [("meal", DAILY_MEAL, 20, city.caregiver)],
                   ends_on=date(2026, 11, 25))
    generate_tasks(now=now, horizon_days=14)
    assert _count() == 3  # 23rd, 24th, 25th


@pytest.mark.parametrize("tier, expected", [("high", 2), ("key", 2), ("general", 1)])
def test_patrol_tasks_follow_the_risk_tier(city, make_patrol_plan, now, tier, expected):
    # 14 days from Monday 23 Nov: two ISO weeks, two months (Nov, Dec), one quarter (Q4).
    make_patrol_plan(city.elder_a1, city.worker_a, tier=tier)
    generate_tasks(now=now, horizon_days=14)
    tasks = db.session.execute(select(Task).order_by(Task.window_start_at)).scalars().all()
    assert len(tasks) == expected
    assert all(t.kind == "patrol" and t.assignee_id == city.worker_a.id for t in tasks)


def test_a_weekly_patrol_window_is_monday_to_monday_local_time(city, make_patrol_plan, now):
    make_patrol_plan(city.elder_a1, city.worker_a, tier="high")
    generate_tasks(now=now, horizon_days=7)
    task = db.session.execute(select(Task).order_by(Task.window_start_at)).scalars().first()
    assert task.window_start_local == "2026-11-23T00:00:00+08:00"
    assert task.window_end_local == "2026-11-30T00:00:00+08:00"


def test_a_plan_revision_replaces_future_tasks_but_not_started_or_finished_ones(city, make_care_plan, now):
    plan = make_care_plan(city.elder_a1, city.provider, [("meal", DAILY_MEAL, 20, city.caregiver)])
    generate_tasks(now=now, horizon_days=5)
    db.session.commit()
    tasks = db.session.execute(select(Task).order_by(Task.window_start_at)).scalars().all()
    transition(tasks[0], "in_progress", at=now, by_system="test")
    transition(tasks[1], "completed", at=now, by_system="test")
    db.session.commit()

    later = now + timedelta(days=1, hours=-1)  # 24 Nov, 09:00 local: before that day's window
    plan.revision += 1
    plan.revised_at = later
    plan.items[0].recurrence = {"freq": "daily", "start": "12:00", "end": "13:30"}
    cancel_future(future_unstarted(now=later, care_plan_id=plan.id), at=later, reason="plan_changed")
    generate_tasks(now=later, horizon_days=5)
    db.session.commit()

    assert tasks[0].status == "in_progress" and tasks[1].status == "completed"
    assert _count(status="cancelled") == 3
    new = db.session.execute(select(Task).where(Task.source_key.contains(":r2:"))
                             .order_by(Task.window_start_at)).scalars().all()
    # 24 Nov was already visited: the new schedule starts on the 25th, at its new time.
    assert [t.window_start_local[:16] for t in new] == [f"2026-11-{d}T12:00" for d in (25, 26, 27, 28)]


def test_generation_stamps_the_change_feed(city, make_care_plan, now):
    from backend.changefeed import current_seq

    make_care_plan(city.elder_a1, city.provider, [("meal", DAILY_MEAL, 20, city.caregiver)])
    before = current_seq(db.session)
    generate_tasks(now=now, horizon_days=2)
    db.session.commit()
    seqs = set(db.session.execute(select(Task.change_seq)).scalars())
    assert seqs == {current_seq(db.session)} and current_seq(db.session) > before
