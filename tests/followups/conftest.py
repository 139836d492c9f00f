"""A provider with its own manager, a missed meal visit swept into a follow-up, and API helpers."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.followups.models import Followup
from backend.followups.services import open_followup
from backend.tasks.generation import generate_tasks
from backend.tasks.jobs import sweep_job
from backend.tasks.models import Task
from tests.visits.conftest import field  # noqa: F401  (a caregiver's phone pushing real visits)

MEAL = {"freq": "daily", "start": "11:00", "end": "13:00"}


def local(text: str) -> datetime:
    """'2026-11-23 13:30' in Shanghai → UTC."""
    return datetime.fromisoformat(text + "+08:00").astimezone(UTC)


def count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


@pytest.fixture
def manager(city, make_user):
    """The provider's manager: a supervisor account over the district, never the nearest
    supervisor of any community (the district supervisor was there first)."""
    user = make_user("mgr_yikang", "supervisor", region_id=city.district.id)
    city.provider.manager_id = user.id
    db.session.commit()
    return user


@pytest.fixture
def missed(city, manager, make_care_plan, clock):
    """Yesterday's meal visit at elder_a1: flagged late by a sweep during its window (yesterday
    11:31), then swept as missed at clock time (today 10:00 Shanghai)."""
    make_care_plan(city.elder_a1, city.provider, [("meal", MEAL, 20, city.caregiver)])
    generate_tasks(now=clock() - timedelta(days=1), horizon_days=2)
    db.session.commit()
    sweep_job(now=local("2026-11-22 11:31"))
    sweep_job()
    return db.session.execute(select(Followup).where(Followup.kind == "missed_visit")).scalar_one()


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
def make_followup(clock):
    """A follow-up opened directly (as a trigger would), for scoping and resolution tests."""
    counter = iter(range(1, 10_000))

    def make(kind, owner, elder=None, task=None, **fields):
        fields.setdefault("summary", f"{kind} #{next(counter)}")
        followup = open_followup(kind=kind, dedupe_key=f"test:{kind}:{next(counter)}",
                                 owner_id=owner.id if owner else None, at=clock(),
                                 elder_id=elder.id if elder else None, task_id=task.id if task else None,
                                 region_id=elder.community_id if elder else None, by_system="test", **fields)
        db.session.commit()
        return followup
    return make


def task_of(followup) -> Task:
    return db.session.get(Task, followup.task_id)
