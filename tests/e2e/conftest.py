"""End-to-end fixtures: the reference phone client (sync.client) against the real app.

The client's transport is swapped for one over Flask's test client, so every request runs the
real routing, token gate, schemas, push and pull code and commits to the test database, with no
sockets. Network faults are switched on per test.
"""

import random
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.clock import local_midnight, local_today
from backend.extensions import db
from backend.plates.services import issue_plate, plate_payload
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task
from sync.client import HttpRequest, HttpResponse, NetworkError, PhoneClient, Store

PUSH, PULL, REFRESH = "/api/v1/sync/push", "/api/v1/sync/pull", "/api/v1/auth/refresh"
DAILY_MEAL = {"freq": "daily", "start": "11:00", "end": "13:00"}


@dataclass
class Exchange:
    request: HttpRequest
    status: int
    code: str | None  # the problem+json code of an error answer


class FlaskTransport:
    """The client's transport interface (HttpRequest → HttpResponse) on top of app.test_client().

    `offline`: every request fails before it leaves the phone. `lose_answers`: the server handles
    the next n requests (and commits), then their answers are lost on the way back.
    """

    def __init__(self, client):
        self.client = client
        self.offline = False
        self.lose_answers = 0
        self.log: list[Exchange] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.offline:
            raise NetworkError("no network")
        query = {key: value for key, value in request.query.items() if value is not None}
        response = self.client.open(request.path, method=request.method, query_string=query,
                                    headers=dict(request.headers), json=request.body)
        body = response.get_json(silent=True)
        self.log.append(Exchange(request, response.status_code,
                                 body.get("code") if response.status_code >= 400 and body else None))
        if self.lose_answers:
            self.lose_answers -= 1
            raise NetworkError("connection reset after the server answered")
        return HttpResponse(response.status_code, body, dict(response.headers))

    def sent(self, path: str) -> list[Exchange]:
        return [exchange for exchange in self.log if exchange.request.path == path]


@pytest.fixture
def transport(client) -> FlaskTransport:
    return FlaskTransport(client)


@pytest.fixture
def make_phone(transport, clock):
    """make_phone(store=None, **options) → a PhoneClient on the test server whose device clock is
    the server's test clock; backoff waits are collected in make_phone.sleeps, never slept."""
    sleeps: list[float] = []

    def make(store: Store | None = None, **options) -> PhoneClient:
        options.setdefault("device_id", "phone-under-test")
        return PhoneClient(store or Store(), transport, clock=clock, sleep=sleeps.append, rng=random.Random(7),
                           **options)

    make.sleeps = sleeps
    return make


@dataclass
class Stop:
    """One home on a round: today's task there, the plate at its door and a GPS fix on the doorstep."""

    task: Task
    qr: str
    at_door: dict


@pytest.fixture
def round_of_visits(city, make_care_plan, clock):
    """city.caregiver has a daily meal visit (11:00–13:00, at least 20 minutes) at three homes,
    each with a door plate; tasks exist from yesterday on. The clock stands at 10:00 today."""
    stops = []
    for elder in (city.elder_a1, city.elder_a2, city.elder_b1):
        make_care_plan(elder, city.provider, [("meal", DAILY_MEAL, 20, city.caregiver)])
    generate_tasks(now=clock() - timedelta(days=1), horizon_days=3)
    midnight = local_midnight(local_today(clock()))
    for elder in (city.elder_a1, city.elder_a2, city.elder_b1):
        qr = plate_payload(issue_plate(elder, "static", by=None, at=clock()))
        task = db.session.execute(select(Task).where(Task.elder_id == elder.id, Task.window_start_at >= midnight,
                                                     Task.window_start_at < midnight + timedelta(days=1))
                                  ).scalar_one()
        stops.append(Stop(task, qr, {"lat": elder.lat, "lon": elder.lon, "accuracy_m": 8.0}))
    db.session.commit()
    return stops


def count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def visit_once(phone: PhoneClient, stop: Stop, clock, minutes: int = 25) -> list[str]:
    """Check in at the door, stay `minutes`, check out: two items in the outbox."""
    ids = [phone.record_check_in(stop.task.id, qr=stop.qr, location=stop.at_door)]
    clock.advance(minutes=minutes)
    ids.append(phone.record_check_out(stop.task.id, services=[{"service_type": "meal", "outcome": "done"}],
                                      satisfaction=5, qr=stop.qr, location=stop.at_door))
    return ids
