"""Service types, care plans and patrol plans, and how their edits move tasks."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task, TaskRemoval
from tests.api.conftest import assert_problem

LUNCH = {"freq": "daily", "start": "11:00", "end": "12:00"}


def _tasks(**where):
    query = select(Task).order_by(Task.window_start_at, Task.id)
    for name, value in where.items():
        query = query.where(getattr(Task, name) == value)
    return db.session.execute(query).scalars().all()


def _care_body(city, **change):
    return {"elder_id": city.elder_a1.id, "provider_id": city.provider.id, "starts_on": "2026-11-23",
            "items": [{"service_type": "meal", "recurrence": LUNCH, "assignee_id": city.caregiver.id}], **change}


# ------------------------------------------------------------------ service types

def test_everyone_reads_the_ten_builtin_service_types(client, city, headers):
    page = client.get("/api/v1/service-types", headers=headers("caregiver")).get_json()
    assert page["meta"]["total"] == 10 and page["items"][0]["is_builtin"] is True


def test_admin_adds_a_local_service_type_and_retires_it(client, city, headers):
    h = headers("admin")
    created = client.post("/api/v1/service-types", json={
        "code": "hair_cut", "name_zh": "助理发", "name_en": "Haircut", "default_min_minutes": 25,
        "late_start_minutes": 15, "missed_grace_minutes": 60}, headers=h)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["is_builtin"] is False
    retired = client.patch("/api/v1/service-types/hair_cut", json={"is_active": False}, headers=h)
    assert retired.get_json()["is_active"] is False
    unusable = client.post("/api/v1/plans/care", json=_care_body(city, items=[
        {"service_type": "hair_cut", "recurrence": LUNCH}]), headers=h)
    assert_problem(unusable, 422, "validation_failed", "items.0.service_type")


def test_a_service_type_code_is_lower_case_and_unique(client, city, headers):
    h = headers("admin")
    body = {"code": "Hair-Cut", "name_zh": "理发", "name_en": "Haircut"}
    assert_problem(client.post("/api/v1/service-types", json=body, headers=h), 422, "validation_failed", "code")
    assert_problem(client.post("/api/v1/service-types", json={**body, "code": "meal"}, headers=h), 409, "conflict")


# ------------------------------------------------------------------ care plans

def test_a_new_care_plan_has_its_tasks_at_once(client, city, headers, clock):
    response = client.post("/api/v1/plans/care", json=_care_body(city), headers=headers("admin"))
    assert response.status_code == 201, response.get_json()
    plan = response.get_json()
    assert plan["revision"] == 1 and plan["items"][0]["min_duration_minutes"] == 20  # the meal default
    tasks = _tasks(care_plan_id=plan["id"])
    assert len(tasks) == 14 and tasks[0].window_start_local == "2026-11-23T11:00:00+08:00"
    assert {t.assignee_id for t in tasks} == {city.caregiver.id}


@pytest.mark.parametrize("recurrence, field", [
    ({"freq": "weekly", "start": "09:00", "end": "10:00"}, "items.0.recurrence.weekdays"),
    ({"freq": "weekly", "weekdays": [0], "start": "09:00", "end": "10:00"}, "items.0.recurrence.weekdays.0"),
    ({"freq": "daily", "monthdays": [1], "start": "09:00", "end": "10:00"}, "items.0.recurrence.monthdays"),
    ({"freq": "monthly", "monthdays": [32], "start": "09:00", "end": "10:00"}, "items.0.recurrence.monthdays.0"),
    ({"freq": "hourly", "start": "09:00", "end": "10:00"}, "items.0.recurrence.freq"),
    ({"freq": "daily", "start": "9:00", "end": "10:00"}, "items.0.recurrence.start"),
    ({"freq": "daily", "start": "09:00", "end": "24:00"}, "items.0.recurrence.end"),
    ({"freq": "daily", "start": "09:00", "end": "09:00"}, "items.0.recurrence.end"),
    ({"freq": "daily", "start": "09:00", "end": "10:00", "every": 2}, "items.0.recurrence.every"),
])
def test_a_malformed_recurrence_answers_422_naming_its_field(client, city, headers, clock, recurrence, field):
    body = _care_body(city, items=[{"service_type": "meal", "recurrence": recurrence}])
    assert_problem(client.post("/api/v1/plans/care", json=body, headers=headers("admin")), 422,
                   "validation_failed", field)


def test_a_caregiver_of_another_provider_cannot_be_the_assignee(client, city, headers, clock):
    body = _care_body(city, items=[{"service_type": "meal", "recurrence": LUNCH,
                                    "assignee_id": city.caregiver_other.id}])
    assert_problem(client.post("/api/v1/plans/care", json=body, headers=headers("admin")), 422,
                   "validation_failed", "items.0.assignee_id")


def test_other_plan_rules_name_their_field(client, city, headers, clock):
    h = headers("admin")
    cases = [
        (_care_body(city, items=[{"service_type": "bathing", "recurrence": LUNCH, "min_duration_minutes": 90}]),
         "items.0.min_duration_minutes"),
        (_care_body(city, provider_id=99999), "provider_id"),
        (_care_body(city, elder_id=99999), "elder_id"),
        (_care_body(city, ends_on="2026-11-01"), "ends_on"),
        (_care_body(city, items=[]), "items"),
        (_care_body(city, elder_id="one"), "elder_id"),
        (_care_body(city, total=3), "total"),
    ]
    for body, field in cases:
        assert_problem(client.post("/api/v1/plans/care", json=body, headers=h), 422, "validation_failed", field)


@pytest.fixture
def busy_plan(city, make_care_plan, clock):
    """Two daily items generated from yesterday: yesterday's visits done, this morning's under way,
    and the 10:15 visit checked into early (the clock says 10:00)."""
    now = clock()
    plan = make_care_plan(city.elder_a1, city.provider, [
        ("meal", {"freq": "daily", "start": "09:30", "end": "10:30"}, 20, city.caregiver),
        ("cleaning", {"freq": "daily", "start": "10:15", "end": "11:15"}, 45, city.caregiver),
    ], revised_at=now - timedelta(days=2))
    generate_tasks(now=now - timedelta(days=1), horizon_days=5)
    today = datetime(2026, 11, 23, tzinfo=UTC)
    for task in _tasks(care_plan_id=plan.id):
        if task.window_start_at < today:
            task.status = "completed"
        elif task.window_start_at < now + timedelta(minutes=30):
            task.status = "in_progress"
    db.session.commit()
    return plan


def _open_slots(plan_id):
    rows = db.session.execute(
        select(Task.care_plan_item_id, Task.window_start_at, func.count()).where(
            Task.care_plan_id == plan_id, Task.status != "cancelled")
        .group_by(Task.care_plan_item_id, Task.window_start_at)).all()
    return {(item, start): n for item, start, n in rows}


def test_a_schedule_edit_replaces_future_unstarted_tasks_and_leaves_started_ones(
        client, city, headers, clock, busy_plan):
    before = {t.id: t.status for t in _tasks(care_plan_id=busy_plan.id)}
    started = {i for i, s in before.items() if s in ("completed", "in_progress")}
    meal, cleaning = busy_plan.items
    items = [{"id": meal.id, "service_type": "meal", "recurrence": meal.recurrence, "min_duration_minutes": 25,
              "assignee_id": city.caregiver.id},
             {"id": cleaning.id, "service_type": "cleaning", "recurrence": cleaning.recurrence,
              "min_duration_minutes": 45, "assignee_id": city.caregiver.id}]
    response = client.patch(f"/api/v1/plans/care/{busy_plan.id}", json={"items": items, "version": 1},
                            headers=headers("admin"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["revision"] == 2

    db.session.expire_all()
    after = {t.id: t for t in _tasks(care_plan_id=busy_plan.id)}
    assert all(after[i].status == before[i] for i in started)  # done and under way: untouched
    old_future = [after[i] for i in before if i not in started]
    assert old_future and all(t.status == "cancelled" and t.cancel_reason == "plan_changed" for t in old_future)
    fresh = [t for i, t in after.items() if i not in before]
    assert fresh and all(t.status == "scheduled" and t.window_start_at > clock() for t in fresh)
    assert {t.min_duration_minutes for t in fresh if t.service_type == "meal"} == {25}
    # Not even the visit checked into early got a twin, and generating again adds nothing.
    assert set(_open_slots(busy_plan.id).values()) == {1}
    assert generate_tasks(now=clock()).created == 0


def test_changing_only_an_assignee_reassigns_future_tasks_without_a_new_revision(
        client, city, headers, clock, busy_plan, make_user):
    colleague = make_user("cg3", "caregiver", provider_id=city.provider.id)
    meal, cleaning = busy_plan.items
    items = [{"id": meal.id, "service_type": "meal", "recurrence": meal.recurrence, "min_duration_minutes": 20,
              "assignee_id": colleague.id},
             {"id": cleaning.id, "service_type": "cleaning", "recurrence": cleaning.recurrence,
              "min_duration_minutes": 45, "assignee_id": city.caregiver.id}]
    response = client.patch(f"/api/v1/plans/care/{busy_plan.id}", json={"items": items}, headers=headers("admin"))
    assert response.status_code == 200 and response.get_json()["revision"] == 1
    db.session.expire_all()
    meals = _tasks(care_plan_item_id=meal.id)
    assert {t.assignee_id for t in meals if t.status == "scheduled"} == {colleague.id}
    assert {t.assignee_id for t in meals if t.status != "scheduled"} == {city.caregiver.id}
    assert {t.assignee_id for t in _tasks(care_plan_item_id=cleaning.id)} == {city.caregiver.id}
    removed = db.session.execute(select(TaskRemoval.task_id).where(TaskRemoval.user_id == city.caregiver.id))
    assert set(removed.scalars()) == {t.id for t in meals if t.status == "scheduled"}


def test_an_item_id_of_another_plan_is_refused(client, world, headers, busy_plan):
    other = world.care_b.items[0]
    items = [{"id": other.id, "service_type": "meal", "recurrence": LUNCH}]
    response = client.patch(f"/api/v1/plans/care/{busy_plan.id}", json={"items": items}, headers=headers("admin"))
    assert_problem(response, 422, "validation_failed", "items.0.id")


def test_a_stale_plan_version_conflicts(client, city, headers, busy_plan):
    response = client.patch(f"/api/v1/plans/care/{busy_plan.id}", json={"ends_on": "2026-12-31", "version": 7},
                            headers=headers("admin"))
    assert_problem(response, 409, "version_conflict")


def test_ending_a_care_plan_cancels_the_scheduled_tasks_after_its_last_day(client, city, headers, clock, busy_plan):
    h = headers("admin")
    response = client.post(f"/api/v1/plans/care/{busy_plan.id}/end", json={"ends_on": "2026-11-24"}, headers=h)
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["status"], response.get_json()["ends_on"]) == ("active", "2026-11-24")
    db.session.expire_all()
    for task in _tasks(care_plan_id=busy_plan.id):
        if task.window_start_at.date() > date(2026, 11, 24):
            assert (task.status, task.cancel_reason) == ("cancelled", "plan_ended")
        else:
            assert task.status != "cancelled"
    assert generate_tasks(now=clock()).created == 0
    # Ending it on a day already past makes it ended; ended plans take no more edits.
    ended = client.post(f"/api/v1/plans/care/{busy_plan.id}/end", json={"ends_on": "2026-11-22"}, headers=h)
    assert ended.get_json()["status"] == "ended"
    assert {t.status for t in _tasks(care_plan_id=busy_plan.id)} == {"completed", "in_progress", "cancelled"}
    assert_problem(client.patch(f"/api/v1/plans/care/{busy_plan.id}", json={"ends_on": "2026-12-01"}, headers=h),
                   409, "conflict")


# ------------------------------------------------------------------ patrol plans

def test_a_patrol_plan_follows_the_elder_risk_tier_and_gets_its_visit_at_once(client, city, headers, clock):
    body = {"elder_id": city.elder_a1.id, "worker_id": city.worker_a.id, "modes": ["phone"],
            "starts_on": "2026-11-23"}
    response = client.post("/api/v1/plans/patrol", json=body, headers=headers("admin"))
    assert response.status_code == 201, response.get_json()
    plan = response.get_json()
    assert (plan["tier"], plan["effective_tier"], plan["modes"]) == (None, "general", ["phone"])
    (task,) = _tasks(patrol_plan_id=plan["id"])  # one visit this quarter
    assert task.assignee_id == city.worker_a.id and task.window_end_local.startswith("2027-01-01")


@pytest.mark.parametrize("change, field", [
    ({"worker_id": "wk_b"}, "worker_id"),     # does not cover the elder's community
    ({"worker_id": "caregiver"}, "worker_id"),
    ({"modes": []}, "modes"),
    ({"modes": ["email"]}, "modes.0"),
    ({"tier": "urgent"}, "tier"),
])
def test_invalid_patrol_plans_answer_422_naming_the_field(client, city, headers, clock, change, field):
    body = {"elder_id": city.elder_a1.id, "worker_id": city.worker_a.id, "starts_on": "2026-11-23"}
    if "worker_id" in change:
        change = {"worker_id": {"wk_b": city.worker_b, "caregiver": city.caregiver}[change["worker_id"]].id}
    response = client.post("/api/v1/plans/patrol", json={**body, **change}, headers=headers("admin"))
    assert_problem(response, 422, "validation_failed", field)


def test_a_new_worker_takes_over_the_open_patrol_visit(client, world, headers, make_user):
    colleague = make_user("wk_a2", "community_worker", community_ids=[world.community_a1.id])
    response = client.patch(f"/api/v1/plans/patrol/{world.patrol_a.id}", json={"worker_id": colleague.id},
                            headers=headers("admin"))
    assert response.status_code == 200 and response.get_json()["revision"] == 1
    db.session.expire_all()
    (task,) = _tasks(patrol_plan_id=world.patrol_a.id)
    assert task.assignee_id == colleague.id and task.status == "scheduled"


def test_a_higher_tier_starts_a_revision_with_weekly_visits_from_next_week(client, world, headers):
    response = client.patch(f"/api/v1/plans/patrol/{world.patrol_a.id}", json={"tier": "high"},
                            headers=headers("admin"))
    assert response.get_json()["revision"] == 2 and response.get_json()["effective_tier"] == "high"
    db.session.expire_all()
    tasks = _tasks(patrol_plan_id=world.patrol_a.id)
    assert tasks[0].status == "scheduled"  # this quarter's open visit stays
    weekly = [t.window_start_local[:10] for t in tasks[1:]]
    assert weekly == ["2026-11-30"]  # the 14-day horizon holds one more week


def test_a_risk_tier_change_on_the_elder_reschedules_the_patrol_plans_that_follow_it(client, world, headers):
    response = client.patch(f"/api/v1/elders/{world.elder_a1.id}", json={"risk_tier": "high", "version": 1},
                            headers=headers("admin"))
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    plan = client.get(f"/api/v1/plans/patrol/{world.patrol_a.id}", headers=headers("admin")).get_json()
    assert (plan["revision"], plan["effective_tier"]) == (2, "high")
    assert len(_tasks(patrol_plan_id=world.patrol_a.id)) > 1


def test_ending_a_patrol_plan_today_keeps_it_active_until_the_day_is_over(client, world, headers):
    response = client.post(f"/api/v1/plans/patrol/{world.patrol_a.id}/end", json={"ends_on": "2026-11-23"},
                           headers=headers("admin"))
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["ends_on"]) == ("active", "2026-11-23")


def test_the_daily_job_ends_plans_once_their_last_day_is_past(client, world, headers, clock):
    from backend.plans.jobs import close_ended_plans_job

    ended = client.post(f"/api/v1/plans/patrol/{world.patrol_a.id}/end", json={"ends_on": "2026-11-23"},
                        headers=headers("admin"))
    assert ended.get_json()["status"] == "active"
    assert close_ended_plans_job(now=clock()) == 0          # its last day is today (2026-11-23)
    clock.advance(hours=13)                                  # 23:00 in Shanghai
    assert close_ended_plans_job(now=clock()) == 0
    clock.advance(hours=2)                                   # 01:00 on the 24th
    assert close_ended_plans_job(now=clock()) == 1
    assert close_ended_plans_job(now=clock()) == 0          # safe to run again
    plan = client.get(f"/api/v1/plans/patrol/{world.patrol_a.id}", headers=headers("admin")).get_json()
    assert plan["status"] == "ended"
    care = client.get(f"/api/v1/plans/care/{world.care_a.id}", headers=headers("admin")).get_json()
    assert care["status"] == "active"
