"""Visits made by direct inserts (a task and its visit, flagged or not), a provider manager, and an
API helper. tests/visits' `field` is here too, for the one visit pushed through the sync API."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from backend.extensions import db
from backend.plans.models import CarePlan
from backend.tasks.models import Task
from backend.visits.models import Visit
from tests.visits.conftest import field  # noqa: F401  (a caregiver's phone pushing real visits)


def local(text: str) -> datetime:
    """'2026-11-23 13:30' in Shanghai → UTC."""
    return datetime.fromisoformat(text + "+08:00").astimezone(UTC)


@pytest.fixture
def api(client, login):
    """api(user, "post", path, json=…) → response, logging each user in once."""
    headers = {}

    def call(user, method, path, **kwargs):
        if user.id not in headers:
            headers[user.id] = login(user)
        return getattr(client, method)("/api/v1" + path, headers=headers[user.id], **kwargs)
    return call


@pytest.fixture
def manager(city, make_user):
    """The manager of city.provider (a supervisor account over the district)."""
    user = make_user("mgr_yikang", "supervisor", region_id=city.district.id)
    city.provider.manager_id = user.id
    db.session.commit()
    return user


@pytest.fixture
def make_visit(city, clock):
    """make_visit(elder=…, provider=…, start=…, flags=[…], satisfaction=…) → a completed service
    visit of a 20-minute meal. With flags it is unverified and needs review; without, verified."""
    plans = {}

    def make(elder=None, provider=None, *, start=None, flags=(), satisfaction=4, status="completed", user=None,
             commit=True):
        elder, provider = elder or city.elder_a1, provider or city.provider
        start = start or clock() - timedelta(days=1)
        if (elder.id, provider.id) not in plans:
            plan = CarePlan(elder_id=elder.id, provider_id=provider.id, starts_on=start.date() - timedelta(days=60),
                            revised_at=start - timedelta(days=60))
            db.session.add(plan)
            db.session.flush()
            plans[elder.id, provider.id] = plan.id
        user = user or (city.caregiver if provider.id == city.provider.id else city.caregiver_other)
        task = Task(kind="service", service_type="meal", elder_id=elder.id, assignee_id=user.id,
                    care_plan_id=plans[elder.id, provider.id], source_key=f"test:{uuid.uuid4()}",
                    window_start_at=start, window_end_at=start + timedelta(hours=2), min_duration_minutes=20,
                    status=status, status_changed_at=start + timedelta(minutes=40),
                    missed_after_at=start + timedelta(hours=4))
        db.session.add(task)
        db.session.flush()
        visit = Visit(task_id=task.id, user_id=user.id, started_at=start + timedelta(minutes=10),
                      ended_at=start + timedelta(minutes=40), duration_seconds=30 * 60, is_verified=not flags,
                      flags=sorted(flags), needs_review=bool(flags), satisfaction=satisfaction)
        db.session.add(visit)
        if commit:
            db.session.commit()
        else:
            db.session.flush()
        return visit
    return make
