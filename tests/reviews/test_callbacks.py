"""Call-back sampling (电话回访): reproducible monthly draws per provider, and what the elder says."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.clock import local_today
from backend.extensions import db
from backend.followups.models import Followup
from backend.reviews.models import Callback, CallbackDraw
from backend.reviews.sampling import default_seed, draw_callbacks, population, sample
from tests.reviews.conftest import local


@pytest.fixture
def october(city, make_visit):
    """40 completed meal visits of city.provider in October 2026, and 3 of the other provider."""
    visits = [make_visit(city.elder_a1 if i % 2 else city.elder_b1, start=local("2026-10-01 11:00")
                         + timedelta(hours=16 * i), commit=False) for i in range(40)]
    others = [make_visit(city.elder_a2, city.other_provider, start=local("2026-10-05 11:00") + timedelta(days=i),
                         commit=False) for i in range(3)]
    db.session.commit()
    return visits, others


def _draw(api, user, **body):
    response = api(user, "post", "/callbacks/draws", json={"month": "2026-10", **body})
    assert response.status_code == 200, response.get_json()
    return {d["provider_id"]: d for d in response.get_json()["draws"]}


def _drawn(draw_id):
    return db.session.get(CallbackDraw, draw_id).drawn_task_ids


def test_the_sample_is_the_share_rounded_up_and_at_least_one():
    assert len(sample(list(range(1, 41)), 0.05, seed=1)) == 2
    assert len(sample(list(range(1, 42)), 0.05, seed=1)) == 3
    assert len(sample(list(range(1, 101)), 0.07, seed=1)) == 7  # 0.07 × 100 is 7.000000000000001 in floats
    assert len(sample([5], 0.05, seed=1)) == 1
    assert sample([], 0.05, seed=1) == []


def test_the_same_seed_draws_the_same_visits_whatever_the_order_given():
    ids = list(range(100, 160))
    assert sample(ids, 0.1, seed=42) == sample(list(reversed(ids)), 0.1, seed=42)
    assert sample(ids, 0.1, seed=42) != sample(ids, 0.1, seed=43)


def test_five_percent_of_40_visits_is_2_call_backs_logged_with_the_seed(city, api, october):
    draws = _draw(api, city.admin)
    mine = draws[city.provider.id]
    assert (mine["population"], mine["drawn"], mine["share"], mine["round"]) == (40, 2, 0.05, 1)
    assert mine["seed"] == default_seed("2026-10", city.provider.id)
    assert mine["drawn_by_id"] == city.admin.id
    assert draws[city.other_provider.id]["drawn"] == 1
    row = db.session.get(CallbackDraw, mine["id"])
    assert row.drawn_task_ids == sample(population("2026-10", city.provider.id), 0.05, row.seed)
    callbacks = db.session.execute(select(Callback).where(Callback.draw_id == row.id)).scalars().all()
    assert sorted(c.task_id for c in callbacks) == row.drawn_task_ids
    assert {c.status for c in callbacks} == {"pending"}


def test_drawing_twice_returns_the_same_draw(city, api, october):
    first = _draw(api, city.admin)
    again = _draw(api, city.supervisor_a)
    assert {p: d["id"] for p, d in again.items()} == {p: d["id"] for p, d in first.items()}
    assert db.session.execute(select(func.count()).select_from(Callback)).scalar() == 3


def test_a_redraw_with_the_same_seed_draws_the_same_visits(city, api, october):
    first = _draw(api, city.admin, seed=20261031)[city.provider.id]
    redrawn = _draw(api, city.admin, seed=20261031, redraw=True, reason="补录了离线上传的记录")[city.provider.id]
    assert redrawn["round"] == 2 and redrawn["id"] != first["id"] and redrawn["seed"] == 20261031
    assert _drawn(redrawn["id"]) == _drawn(first["id"])
    old = db.session.execute(select(Callback.status).where(Callback.draw_id == first["id"])).scalars().all()
    assert set(old) == {"cancelled"}


def test_a_default_redraw_draws_anew(city, october, clock):
    first = draw_callbacks("2026-10", share=0.25, by=None, at=clock())
    second = draw_callbacks("2026-10", share=0.25, by=None, at=clock(), redraw=True, reason="抽样范围有误")
    mine = {d.provider_id: d for d in second}[city.provider.id]
    assert mine.seed == default_seed("2026-10", city.provider.id, 2)
    assert mine.drawn_task_ids != {d.provider_id: d for d in first}[city.provider.id].drawn_task_ids


def test_another_month_draws_differently(city, make_visit, october, clock):
    for i in range(40):
        make_visit(start=local("2026-09-01 11:00") + timedelta(hours=16 * i), commit=False)
    september = {d.provider_id: d for d in draw_callbacks("2026-09", by=None, at=clock())}[city.provider.id]
    october_ = {d.provider_id: d for d in draw_callbacks("2026-10", by=None, at=clock())}[city.provider.id]
    assert september.seed != october_.seed
    assert set(september.drawn_task_ids).isdisjoint(october_.drawn_task_ids)
    assert september.population == october_.population == 40


def test_the_month_is_the_care_time_zones(city, make_visit):
    last = make_visit(start=local("2026-10-31 23:30"))
    first = make_visit(start=local("2026-11-01 00:30"))  # still October 31st in UTC
    make_visit(start=local("2026-10-20 11:00"), status="missed")
    assert population("2026-10", city.provider.id) == [last.task_id]
    assert population("2026-11", city.provider.id) == [first.task_id]


def test_only_an_ended_month_is_drawn(city, api, clock):
    this_month = local_today(clock())
    for month in (this_month, this_month + timedelta(days=40)):
        response = api(city.admin, "post", "/callbacks/draws", json={"month": month.strftime("%Y-%m")})
        assert response.status_code == 422 and list(response.get_json()["errors"]) == ["month"]
    assert api(city.admin, "post", "/callbacks/draws", json={"month": "2026-13"}).status_code == 422


def test_only_admins_choose_the_share_or_seed_or_redraw_and_a_redraw_needs_a_reason(city, api, october):
    for body in ({"share": 0.5}, {"seed": 7}, {"redraw": True, "reason": "再抽一次"}):
        assert api(city.supervisor_a, "post", "/callbacks/draws", json={"month": "2026-10", **body}).status_code == 403
    response = api(city.admin, "post", "/callbacks/draws", json={"month": "2026-10", "redraw": True})
    assert response.status_code == 422 and list(response.get_json()["errors"]) == ["reason"]


@pytest.fixture
def drawn(city, make_visit, manager, clock):
    """One September visit at elder_a1 rated 5 at check-out, drawn for a call-back."""
    visit = make_visit(start=local("2026-09-10 11:00"), satisfaction=5)
    draw_callbacks("2026-09", by=None, at=clock())
    db.session.commit()
    return db.session.execute(select(Callback)).scalar_one(), visit


def test_an_elder_denying_the_visit_opens_an_unverified_visit_followup(city, api, drawn, manager):
    callback, visit = drawn
    response = api(city.supervisor_a, "post", f"/callbacks/{callback.id}",
                   json={"confirmed": False, "satisfaction": 3, "note": "老人说那天没人来"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    followup = db.session.execute(select(Followup)).scalar_one()
    assert body["status"] == "done" and body["confirmed"] is False and body["followup_id"] == followup.id
    assert (followup.kind, followup.dedupe_key) == ("unverified_visit", f"unverified_visit:callback:{callback.id}")
    assert followup.owner_id == manager.id and followup.task_id == visit.task_id and followup.priority == "high"
    assert followup.details["disagreements"] == ["elder_denies_visit", "satisfaction_disagrees"]
    assert (followup.details["callback_satisfaction"], followup.details["visit_satisfaction"]) == (3, 5)


def test_a_confirmed_callback_opens_no_followup(city, api, drawn):
    callback, _ = drawn
    response = api(city.supervisor_a, "post", f"/callbacks/{callback.id}", json={"confirmed": True, "satisfaction": 4})
    assert response.status_code == 200 and response.get_json()["followup_id"] is None
    assert db.session.execute(select(Followup)).first() is None


def test_a_satisfaction_far_from_the_recorded_one_opens_a_followup(city, api, drawn):
    callback, _ = drawn
    api(city.supervisor_a, "post", f"/callbacks/{callback.id}", json={"confirmed": True, "satisfaction": 2})
    followup = db.session.execute(select(Followup)).scalar_one()
    assert followup.details["disagreements"] == ["satisfaction_disagrees"] and followup.priority == "normal"


def test_an_unreachable_elder_is_tried_again_and_a_recorded_call_is_final(city, api, drawn):
    callback, _ = drawn
    path = f"/callbacks/{callback.id}"
    assert api(city.supervisor_a, "post", path, json={"status": "unreachable"}).get_json()["status"] == "unreachable"
    response = api(city.supervisor_a, "post", path, json={"status": "done"})
    assert response.status_code == 422 and list(response.get_json()["errors"]) == ["confirmed"]
    body = api(city.supervisor_a, "post", path, json={"confirmed": True}).get_json()
    assert body["attempts"] == 2 and body["status"] == "done"
    assert api(city.supervisor_a, "post", path, json={"confirmed": False}).status_code == 409


def test_supervisors_see_only_call_backs_of_their_subtree(city, api, drawn):
    callback, _ = drawn  # elder_a1, street A
    listed = api(city.supervisor_a, "get", "/callbacks", query_string={"month": "2026-09"}).get_json()
    assert [c["id"] for c in listed["items"]] == [callback.id]
    assert listed["items"][0]["elder_name"] == city.elder_a1.name and listed["items"][0]["status"] == "pending"
    assert api(city.supervisor_b, "get", "/callbacks").get_json()["items"] == []
    assert api(city.supervisor_b, "post", f"/callbacks/{callback.id}", json={"confirmed": True}).status_code == 404
    assert api(city.admin, "get", "/callbacks", query_string={"status": "done"}).get_json()["items"] == []


def test_the_command_prints_each_providers_draw(app, city, october, clock):
    result = app.test_cli_runner().invoke(args=["callbacks", "draw", "--month", "2026-10", "--seed", "5"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2 and "2 of 40 visits drawn" in lines[0] and "seed 5" in lines[0]
    assert db.session.execute(select(CallbackDraw.drawn_by_id)).scalars().all() == [None, None]
    failed = app.test_cli_runner().invoke(args=["callbacks", "draw", "--month", "2026-11"])
    assert failed.exit_code != 0 and "该月尚未结束" in failed.output
