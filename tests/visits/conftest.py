"""A caregiver with today's tasks, a door plate on the elder's home, and a push helper."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.plates.services import issue_plate, plate_payload
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task

DAILY_MEAL = {"freq": "daily", "start": "11:00", "end": "13:00"}


class Phone:
    """A scripted phone: builds items with increasing seqs and pushes them through the API."""

    def __init__(self, client, headers, device_id, clock):
        self.client, self.headers, self.device_id, self.clock = client, headers, device_id, clock
        self.seq = 0

    def item(self, type_, task_id, captured_at, qr=None, location=None, **extra):
        body = {"id": str(uuid.uuid4()), "seq": self.seq, "type": type_, "task_id": task_id,
                "captured_at": captured_at.isoformat(), "qr": qr, "location": location, **extra}
        self.seq += 1
        return body

    def push(self, items, device_time=None, device_id=None):
        envelope = {"device_id": device_id or self.device_id,
                    "device_time": (device_time or self.clock()).isoformat(), "items": items}
        return self.client.post("/api/v1/sync/push", json=envelope, headers=self.headers)

    def pull(self, cursor=None, limit=500):
        query = {"device_id": self.device_id, "limit": limit}
        if cursor:
            query["cursor"] = cursor
        return self.client.get("/api/v1/sync/pull", query_string=query, headers=self.headers)


@pytest.fixture
def field(city, make_care_plan, client, login, clock):
    """Tasks from yesterday on for city.caregiver at elder_a1, whose door carries a plate; a phone
    for them; the server clock stands 30 minutes into today's visit window."""
    class Field:
        pass

    f = Field()
    f.now = clock()
    f.plan = make_care_plan(city.elder_a1, city.provider, [("meal", DAILY_MEAL, 20, city.caregiver)],
                            revised_at=f.now - timedelta(days=2))
    generate_tasks(now=f.now - timedelta(days=1), horizon_days=5)
    f.plate = issue_plate(city.elder_a1, "static", by=None, at=f.now)
    db.session.commit()
    f.qr = plate_payload(f.plate)
    f.tasks = db.session.execute(select(Task).order_by(Task.window_start_at)).scalars().all()
    f.task = f.tasks[1]  # today's
    f.at_door = {"lat": city.elder_a1.lat, "lon": city.elder_a1.lon, "accuracy_m": 10}
    f.phone = Phone(client, login(city.caregiver, device_id="phone-A"), "phone-A", clock)
    f.start = f.task.window_start_at + timedelta(minutes=10)
    clock.set(f.task.window_start_at + timedelta(minutes=30))
    f.now = clock()
    f.clock = clock
    return f
