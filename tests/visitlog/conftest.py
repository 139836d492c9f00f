"""A log of visits in three communities of two streets, made by direct inserts, and audit clients.

`log` holds tasks named after what they test: street A (communities a1, a2) and street B (b1),
two providers, two caregivers, a patrol, missed and cancelled visits, flagged ones, two tasks
starting at the same instant, one whose local day differs from its UTC day, and a future task
that is not a visit yet. The push-API `field` fixture is shared with tests/visits.
"""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from backend.extensions import db
from backend.tasks.models import Task
from backend.visits.models import Visit
from tests.visits.conftest import Phone, field  # noqa: F401  (the push-API world, reused)

MEAL = {"freq": "daily", "start": "11:00", "end": "13:00"}


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def make_visit():
    """make(elder, start, assignee, …) → a task, and its visit unless it was missed or is to come (flushed)."""
    def make(elder, start, assignee, *, plan=None, kind="service", service_type="meal", status="completed",
             flags=(), satisfaction=None):
        task = Task(kind=kind, service_type=service_type if kind == "service" else None, elder_id=elder.id,
                    assignee_id=assignee.id, care_plan_id=plan.id if plan else None,
                    source_key=f"manual:{uuid.uuid4()}", window_start_at=start,
                    window_end_at=start + timedelta(hours=2), missed_after_at=start + timedelta(hours=4),
                    status=status, status_changed_at=start)
        db.session.add(task)
        db.session.flush()
        if status in ("completed", "in_progress"):
            db.session.add(Visit(task_id=task.id, user_id=assignee.id, started_at=start + timedelta(minutes=5),
                                 ended_at=start + timedelta(minutes=40), duration_seconds=35 * 60,
                                 is_verified=not flags, flags=sorted(flags), needs_review=bool(flags),
                                 is_late_sync="after_missed" in flags, satisfaction=satisfaction))
            db.session.flush()
        return task
    return make


@pytest.fixture
def log(city, make_care_plan, make_visit, clock):
    """Now is 2026-11-23 10:00 in Shanghai (02:00Z)."""
    class Log:
        pass

    w = Log()
    w.plan_a1 = make_care_plan(city.elder_a1, city.provider, [("meal", MEAL, 20, city.caregiver)])
    w.plan_a2 = make_care_plan(city.elder_a2, city.other_provider, [("bathing", MEAL, 30, city.caregiver_other)])
    w.plan_b1 = make_care_plan(city.elder_b1, city.provider, [("meal", MEAL, 20, city.caregiver)])
    # 2026-11-21 00:30 in Shanghai: its local day is the 21st, its UTC day the 20th.
    w.a1_after_midnight = make_visit(city.elder_a1, at(20, 16, 30), city.caregiver, plan=w.plan_a1,
                                     satisfaction=5)
    w.a1_missed = make_visit(city.elder_a1, at(21, 3), city.caregiver, plan=w.plan_a1, status="missed")
    w.a2_too_short = make_visit(city.elder_a2, at(21, 5), city.caregiver_other, plan=w.plan_a2,
                                service_type="bathing", flags=["too_short"])
    w.b1_outside = make_visit(city.elder_b1, at(22, 3), city.caregiver, plan=w.plan_b1,
                              flags=["outside_geofence", "qr_missing"])
    w.b1_cancelled = make_visit(city.elder_b1, at(22, 3), city.caregiver, plan=w.plan_b1, service_type="cleaning",
                                status="cancelled")
    w.a1_patrol = make_visit(city.elder_a1, at(22, 1), city.worker_a, kind="patrol", flags=["after_missed"])
    w.a1_due_now = make_visit(city.elder_a1, at(23, 1, 30), city.caregiver, plan=w.plan_a1, status="scheduled")
    w.a2_future = make_visit(city.elder_a2, at(24, 3), city.caregiver_other, plan=w.plan_a2,
                             service_type="bathing", status="scheduled")
    w.street_a = [w.a1_after_midnight, w.a1_missed, w.a2_too_short, w.a1_patrol, w.a1_due_now]
    w.street_b = [w.b1_outside, w.b1_cancelled]
    w.visits = w.street_a + w.street_b
    db.session.commit()
    return w


@pytest.fixture
def audit(client, login):
    """audit(user, path, **query) → the response of a GET as that user."""
    headers = {}

    def get(user, path="/api/v1/audit/visits", **query):
        if user.username not in headers:
            headers[user.username] = login(user)
        return client.get(path, query_string=query, headers=headers[user.username])
    return get


def ids(response):
    assert response.status_code == 200, response.get_json()
    return [row["id"] for row in response.get_json()["items"]]


def newest_first(tasks):
    return [t.id for t in sorted(tasks, key=lambda t: (t.window_start_at, t.id), reverse=True)]

