"""A browser-like console client that reads the CSRF token from each form it is shown, and a ward:
the city's visits of yesterday (2026-11-22 in Shanghai) and a few around it, in both streets.

`ward` inserts tasks and visits directly (fast); a pushed visit with real evidence comes from
tests/visits' `field` fixture where a test needs one.
"""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from backend.elders.models import Assessment
from backend.extensions import db
from backend.followups.models import Followup, FollowupEvent
from backend.plans.models import CarePlan
from backend.plates.services import issue_plate
from backend.tasks.models import Task
from backend.visits.models import Visit
from tests.conftest import PASSWORD
from tests.visits.conftest import field  # noqa: F401  (a caregiver's phone pushing real visits)

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class ConsoleClient:
    def __init__(self, client):
        self.client = client
        self.token = None

    def get(self, path, **kwargs):
        response = self.client.get(path, **kwargs)
        found = TOKEN.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if found:
            self.token = found.group(1)
        return response

    def post(self, path, data=None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token)
        return self.client.post(path, data=data, **kwargs)

    def sign_in(self, user, password=PASSWORD):
        self.get("/console/login")
        return self.post("/console/login", {"username": user.username, "password": password})

    def text(self, path, status=200, **kwargs):
        response = self.get(path, **kwargs)
        assert response.status_code == status, response.get_data(as_text=True)[:2000]
        return response.get_data(as_text=True)


@pytest.fixture
def console(app):
    return ConsoleClient(app.test_client())


@pytest.fixture
def as_user(app):
    """as_user(user) → a ConsoleClient signed in as that user."""
    def sign_in(user):
        client = ConsoleClient(app.test_client())
        assert client.sign_in(user).status_code == 302
        return client
    return sign_in


def local(text: str) -> datetime:
    """'2026-11-22 11:00' in Shanghai → UTC."""
    return datetime.fromisoformat(text + "+08:00").astimezone(UTC)


class Ward:
    def __init__(self, city):
        self.__dict__.update(city.__dict__)
        self._plans = {}

    def visit(self, elder, provider, start, *, flags=(), status="completed", satisfaction=4, service_type="meal",
              minutes=30):
        """A 20-minute-minimum service task whose window opens at local `start`, and its visit
        unless it was missed or is still to come."""
        key = (elder.id, provider.id)
        if key not in self._plans:
            plan = CarePlan(elder_id=elder.id, provider_id=provider.id, starts_on=local(start).date() - timedelta(60),
                            revised_at=local(start) - timedelta(days=60))
            db.session.add(plan)
            db.session.flush()
            self._plans[key] = plan.id
        caregiver = self.caregiver if provider.id == self.provider.id else self.caregiver_other
        begins = local(start)
        task = Task(kind="service", service_type=service_type, elder_id=elder.id, assignee_id=caregiver.id,
                    care_plan_id=self._plans[key], source_key=f"test:{uuid.uuid4()}", window_start_at=begins,
                    window_end_at=begins + timedelta(hours=2), min_duration_minutes=20, status=status,
                    status_changed_at=begins + timedelta(minutes=40), missed_after_at=begins + timedelta(hours=4))
        db.session.add(task)
        db.session.flush()
        if status == "completed":
            db.session.add(Visit(task_id=task.id, user_id=caregiver.id, started_at=begins + timedelta(minutes=10),
                                 ended_at=begins + timedelta(minutes=10 + minutes), duration_seconds=minutes * 60,
                                 is_verified=not flags, flags=sorted(flags), needs_review=bool(flags),
                                 satisfaction=satisfaction))
        db.session.flush()
        return task

    def followup(self, task, *, kind="missed_visit", owner=None, opened="2026-11-22 15:00", status="open"):
        followup = Followup(kind=kind, dedupe_key=f"test:{uuid.uuid4()}", task_id=task.id, elder_id=task.elder_id,
                            region_id=task.elder.community_id, owner_id=owner.id if owner else None,
                            opened_at=local(opened), due_at=local(opened) + timedelta(hours=24), status=status,
                            summary=f"{task.elder.name} 漏访", provider_id=self.provider.id)
        db.session.add(followup)
        db.session.flush()
        db.session.add(FollowupEvent(followup_id=followup.id, at=local(opened), action="opened", by_system="sweep"))
        db.session.flush()
        return followup


@pytest.fixture
def ward(city, clock):
    """Now: 2026-11-23 10:00 in Shanghai. Yesterday in street A: one unverified visit of elder a1
    (no QR), one verified, and a missed visit of a2 with its follow-up; in street B an unverified
    visit of b1 (outside the geofence) and its follow-up. Two days ago a verified visit of a1;
    in October a completed visit in each street, for call-backs."""
    w = Ward(city)
    w.a1_unverified = w.visit(city.elder_a1, city.provider, "2026-11-22 11:00", flags=["qr_missing"])
    w.a1_verified = w.visit(city.elder_a1, city.provider, "2026-11-22 15:00", satisfaction=5)
    w.a2_missed = w.visit(city.elder_a2, city.other_provider, "2026-11-22 09:00", status="missed")
    w.b1_unverified = w.visit(city.elder_b1, city.provider, "2026-11-22 11:00", flags=["outside_geofence"])
    w.a1_earlier = w.visit(city.elder_a1, city.provider, "2026-11-21 11:00")
    w.a1_october = w.visit(city.elder_a1, city.provider, "2026-10-15 11:00")
    w.b1_october = w.visit(city.elder_b1, city.provider, "2026-10-15 11:00")
    w.a2_followup = w.followup(w.a2_missed, owner=city.supervisor_a)
    w.b1_followup = w.followup(w.b1_unverified, kind="unverified_visit", owner=city.supervisor_b)
    w.plate = issue_plate(city.elder_a1, "static", by=None, at=clock())
    db.session.add(Assessment(elder_id=city.elder_a1.id, assessed_on=datetime(2026, 10, 1).date(), self_care=20,
                              motion=10, mental=20, perception=10, total=60, level=2, created_at=clock()))
    db.session.commit()
    return w
