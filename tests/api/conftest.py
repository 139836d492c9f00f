"""The API tests' world: the city, a care plan and a patrol plan on each side of the district
with their tasks generated, the clock stopped, and headers for every role."""

from datetime import timedelta

import pytest

from backend.extensions import db
from backend.tasks.generation import generate_tasks

MORNING = {"freq": "daily", "start": "09:00", "end": "10:00"}
EVENING = {"freq": "daily", "start": "18:00", "end": "19:00"}

# The roles of the access matrix, and which account of the city plays each.
ROLE_ACCOUNTS = {
    "admin": "admin",
    "supervisor_in_scope": "supervisor_a",
    "supervisor_out_of_scope": "supervisor_b",
    "caregiver": "caregiver",
    "community_worker": "worker_a",
}


@pytest.fixture
def world(city, make_care_plan, make_patrol_plan, clock):
    """City plus plans: elder_a1 (street A) and elder_b1 (street B) each have a care plan served
    by city.caregiver and a patrol plan by their community's worker; tasks exist from today."""
    now = clock()
    city.now = now
    city.care_a = make_care_plan(city.elder_a1, city.provider, [("meal", EVENING, 20, city.caregiver)],
                                 revised_at=now - timedelta(days=1))
    city.care_b = make_care_plan(city.elder_b1, city.provider, [("cleaning", MORNING, 45, city.caregiver)],
                                 revised_at=now - timedelta(days=1))
    city.patrol_a = make_patrol_plan(city.elder_a1, city.worker_a, revised_at=now - timedelta(days=1))
    city.patrol_b = make_patrol_plan(city.elder_b1, city.worker_b, revised_at=now - timedelta(days=1))
    generate_tasks(now=now, horizon_days=3)
    db.session.commit()
    return city


@pytest.fixture
def headers(login, city):
    """headers(role) → Authorization headers for that matrix role ("anonymous" → none)."""
    cache = {}

    def get(role):
        if role == "anonymous":
            return {}
        if role not in cache:
            account = ROLE_ACCOUNTS.get(role, role)
            cache[role] = login(getattr(city, account))
        return cache[role]
    return get


def assert_problem(response, status, code, field=None):
    """The answer is problem+json with this status and code (and an error for `field`)."""
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == code, body
    if field is not None:
        assert field in body.get("errors", {}), body
    return body
