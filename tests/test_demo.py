"""The demo city seeds once, with the promised accounts, and shows a caregiver only their tasks."""

from datetime import timedelta

from sqlalchemy import func, select

from backend.demo import DEMO_PASSWORD, seed_demo
from backend.elders.models import Elder
from backend.extensions import db
from backend.plates.models import DoorPlate
from backend.regions.models import Region
from backend.reviews.sampling import month_bounds
from backend.tasks.models import Task
from backend.users.models import User


def _count(model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def test_the_demo_city_has_what_the_readme_promises(app):
    assert seed_demo() is True
    assert _count(Region, Region.level == "city") == 1 and _count(Region, Region.level == "district") == 2
    assert _count(Region, Region.level == "street") == 4 and _count(Region, Region.level == "community") == 14
    assert _count(Elder) == 340 and _count(DoorPlate, DoorPlate.status == "active") == 340
    names = set(db.session.execute(select(User.username)).scalars())
    assert {"admin", "city_supervisor", "supervisor1", "supervisor2", "supervisor3", "caregiver01", "caregiver34",
            "worker01", "worker12", "manager1", "manager2"} <= names
    assert len(names) == 53
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


def test_the_demo_has_a_finished_month_to_draw_call_backs_from_and_review(app, clock):
    from backend.clock import local_today
    from backend.reviews.models import Review
    from backend.reviews.sampling import draw_callbacks
    from backend.visits.models import Visit

    seed_demo(now=clock())
    month = (local_today(clock()).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    start, end = month_bounds(month)
    in_month = (Task.window_start_at >= start, Task.window_start_at < end)
    completed = _count(Task, Task.status == "completed", Task.kind == "service", *in_month)
    assert completed > 1000 and _count(Task, Task.status == "missed", *in_month) < completed / 50
    flagged = db.session.execute(select(Visit.task_id).join(Task, Task.id == Visit.task_id)
                                 .where(Visit.needs_review, *in_month)).scalars().all()
    reviewed = set(db.session.execute(select(Review.task_id)).scalars())
    assert flagged and reviewed < set(flagged)  # most reviewed, some still in the queue
    assert {r for (r,) in db.session.execute(select(Review.decision))} == {"approved", "rejected"}
    draws = draw_callbacks(month, by=None, at=clock())
    assert len(draws) == 2 and all(d.population > 100 and d.drawn_task_ids for d in draws)


def test_the_demo_city_supervisor_reads_a_row_per_district_and_a_district_supervisor_only_theirs(app, client, clock):
    seed_demo(now=clock())
    month = (clock().date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    city = db.session.execute(select(Region).where(Region.level == "city")).scalar_one()

    def get(username, region_id):
        login = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD,
                                                        "device_id": "demo"}).get_json()
        return client.get("/api/v1/reports/monthly", query_string={"region": region_id, "month": month},
                          headers={"Authorization": "Bearer " + login["access_token"]})

    body = get("city_supervisor", city.id).get_json()
    assert [row["name"] for row in body["regions"]] == ["清河区", "白山区"]
    assert all(row["completed"] > 0 for row in body["regions"])
    assert body["total"]["completed"] == sum(row["completed"] for row in body["regions"])
    assert get("supervisor1", city.id).status_code == 404
    baishan = next(row["region_id"] for row in body["regions"] if row["name"] == "白山区")
    assert get("supervisor1", baishan).status_code == 404 and get("supervisor3", baishan).status_code == 200


def test_the_demo_shows_quarterly_elders_phone_patrols_and_a_closed_door(app, client, clock):
    from backend.visits.models import Visit

    seed_demo(now=clock())
    quarterly = db.session.execute(select(Elder).where(Elder.risk_tier == "general",
                                                       Elder.risk_tier_reason.is_not(None))).scalars().all()
    assert quarterly and all(e.risk_tier_set_by_id is not None for e in quarterly)
    assert _count(Visit, Visit.patrol_outcome.in_(("no_answer", "not_at_home"))) > 0
    month = (clock().date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    district = db.session.execute(select(Region).where(Region.name == "清河区")).scalar_one()
    login = client.post("/api/v1/auth/login", json={"username": "supervisor1", "password": DEMO_PASSWORD,
                                                    "device_id": "demo"}).get_json()
    body = client.get("/api/v1/reports/monthly", query_string={"region": district.id, "month": month},
                      headers={"Authorization": "Bearer " + login["access_token"]}).get_json()
    total = body["total"]
    assert body["month_in_progress"] is False and "special_family" in body["coverage"]["categories"]
    assert total["in_scope_elders_quarterly"] > 0 and total["patrols_seen_door"] > total["patrols_seen_phone"] > 0
    assert 0 < total["patrol_coverage"] <= 1


def test_the_demo_has_two_overlapping_visits_flagged_on_the_later_one(app, clock):
    from backend.visits.models import Visit

    seed_demo(now=clock())
    flagged = db.session.execute(select(Visit).where(Visit.needs_review)).scalars().all()
    overlapping = [v for v in flagged if "overlapping_visit" in v.flags]
    assert len(overlapping) == 1
    later = overlapping[0]
    earlier = db.session.execute(select(Visit).where(
        Visit.user_id == later.user_id, Visit.started_at < later.started_at, Visit.ended_at > later.started_at)
    ).scalar_one()
    assert "overlapping_visit" not in earlier.flags
    # Everyone else's days are one visit after the other.
    assert _count(Visit, Visit.crosschecked_at.is_(None), Visit.started_at.is_not(None)) <= 1
