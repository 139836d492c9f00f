"""The demo city seeds once, with the promised accounts, and shows a caregiver only their tasks."""

from sqlalchemy import func, select

from backend.demo import DEMO_PASSWORD, seed_demo
from backend.elders.models import Elder
from backend.extensions import db
from backend.plates.models import DoorPlate
from backend.regions.models import Region
from backend.tasks.models import Task
from backend.users.models import User


def _count(model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def test_the_demo_city_has_what_the_readme_promises(app):
    assert seed_demo() is True
    assert _count(Region, Region.level == "street") == 3 and _count(Region, Region.level == "community") == 12
    assert _count(Elder) == 300 and _count(DoorPlate, DoorPlate.status == "active") == 300
    names = set(db.session.execute(select(User.username)).scalars())
    assert {"admin", "supervisor1", "supervisor2", "caregiver01", "caregiver30", "worker01", "worker10"} <= names
    assert len(names) == 43
    assert _count(Task) > 1000
    categories = db.session.execute(select(func.count(func.distinct(Elder.risk_tier)))).scalar()
    assert categories == 3
    assert seed_demo() is False  # harmless to run again


def test_a_demo_caregiver_sees_only_their_own_tasks(app, client):
    seed_demo()
    login = client.post("/api/v1/auth/login", json={"username": "caregiver01", "password": DEMO_PASSWORD,
                                                    "device_id": "demo"}).get_json()
    me = login["user"]["id"]
    body = client.get("/api/v1/tasks?per_page=500", headers={"Authorization": "Bearer " + login["access_token"]}
                      ).get_json()
    assert body["meta"]["total"] > 0
    assert {t["assignee_id"] for t in body["items"]} == {me}
    assert body["meta"]["total"] == _count(Task, Task.assignee_id == me)
