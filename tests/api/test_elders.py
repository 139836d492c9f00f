"""Elders: registration, validation, ID-card masking, assessments, optimistic concurrency."""

from datetime import timedelta

import pytest

from tests.api.conftest import assert_problem

# The worked example of GB 11643-1999: born 1949-12-31, check character X.
ID_CARD = "11010519491231002X"


@pytest.fixture
def elder_body(city):
    return {
        "name": "刘淑珍", "gender": "female", "birth_on": "1949-12-31", "id_card_no": ID_CARD,
        "phone": "13800000001", "address": "长青社区3号楼2单元101", "lat": 41.81, "lon": 123.43,
        "community_id": city.community_a1.id, "categories": ["solitary", "advanced_age"], "risk_tier": "key",
        "care_notes": "高血压", "emergency_contacts": [{"name": "刘强", "relation": "儿子", "phone": "13900000002"}],
    }


def test_admin_registers_an_elder_and_sees_the_id_card_in_full(client, city, headers, elder_body):
    response = client.post("/api/v1/elders", json=elder_body, headers=headers("admin"))
    assert response.status_code == 201, response.get_json()
    elder = response.get_json()
    assert elder["id_card_no"] == ID_CARD
    # advanced_age is derived from the birth date: born 1949, she is not 80 yet, whatever was sent.
    assert elder["categories"] == ["solitary"] and elder["community_name"] == "长青社区"
    assert elder["id_document_type"] == "resident_id"
    assert elder["emergency_contacts"] == elder_body["emergency_contacts"]
    assert elder["latest_assessment"] is None and elder["version"] == 1


def test_a_supervisor_and_a_caregiver_see_the_id_card_masked(client, world, headers, elder_body):
    created = client.post("/api/v1/elders", json=elder_body, headers=headers("admin")).get_json()
    one = client.get(f"/api/v1/elders/{created['id']}", headers=headers("supervisor_in_scope")).get_json()
    assert one["id_card_no"] == "1101**********002X"
    listed = client.get("/api/v1/elders", headers=headers("supervisor_in_scope")).get_json()["items"]
    assert all(e["id_card_no"][4:14] == "*" * 10 for e in listed)
    mine = client.get(f"/api/v1/elders/{world.elder_a1.id}", headers=headers("caregiver")).get_json()
    assert mine["id_card_no"] == world.elder_a1.id_card_no[:4] + "*" * 10 + world.elder_a1.id_card_no[-4:]
    full = client.get("/api/v1/elders", headers=headers("admin")).get_json()["items"]
    assert ID_CARD in {e["id_card_no"] for e in full}


@pytest.mark.parametrize("change, field", [
    ({"nickname": "阿珍"}, "nickname"),                       # unknown field
    ({"community_id": "长青社区"}, "community_id"),             # wrong type
    ({"lat": 91.0}, "lat"),                                   # out of range
    ({"lon": -181}, "lon"),
    ({"id_card_no": "110105194912310021"}, "id_card_no"),     # wrong check digit
    ({"id_card_no": "11010519491331002X"}, "id_card_no"),     # month 13
    ({"id_card_no": "1101051949123100"}, "id_card_no"),       # too short
    ({"birth_on": "1950-01-01"}, "id_card_no"),               # the card says 1949-12-31
    ({"categories": ["rich"]}, "categories.0"),
    ({"gender": "unknown"}, "gender"),
    ({"emergency_contacts": [{"relation": "女儿", "phone": "139"}]}, "emergency_contacts.0.name"),
])
def test_invalid_elder_input_answers_422_naming_the_field(client, city, headers, elder_body, change, field):
    response = client.post("/api/v1/elders", json={**elder_body, **change}, headers=headers("admin"))
    body = assert_problem(response, 422, "validation_failed", field)
    assert body["detail"]


def test_an_elder_lives_in_a_community_not_a_street(client, city, headers, elder_body):
    response = client.post("/api/v1/elders", json={**elder_body, "community_id": city.street_a.id},
                           headers=headers("admin"))
    assert_problem(response, 422, "validation_failed", "community_id")


def test_an_id_card_number_registered_twice_conflicts(client, city, headers, elder_body):
    client.post("/api/v1/elders", json=elder_body, headers=headers("admin"))
    again = client.post("/api/v1/elders", json={**elder_body, "name": "刘淑贞"}, headers=headers("admin"))
    assert_problem(again, 409, "conflict")


def test_one_number_may_belong_to_two_kinds_of_document_but_not_twice_to_one(client, city, headers, elder_body):
    """A resident ID number is also a well-formed passport number: unique within its kind only."""
    resident = client.post("/api/v1/elders", json=elder_body, headers=headers("admin"))
    passport = {**elder_body, "name": "刘淑贞", "id_document_type": "passport"}
    first = client.post("/api/v1/elders", json=passport, headers=headers("admin"))
    assert (resident.status_code, first.status_code) == (201, 201), first.get_json()
    assert first.get_json()["id_card_no"] == ID_CARD and first.get_json()["id_document_type"] == "passport"
    assert_problem(client.post("/api/v1/elders", json={**passport, "name": "刘树珍"}, headers=headers("admin")),
                   409, "conflict")
    # Nor may an edit give one elder another's document: the number under the other's kind.
    moved = client.patch(f"/api/v1/elders/{first.get_json()['id']}",
                         json={"id_document_type": "resident_id", "version": first.get_json()["version"]},
                         headers=headers("admin"))
    assert_problem(moved, 409, "conflict")


def test_a_supervisor_records_an_assessment_and_the_server_computes_the_level(client, city, headers):
    url = f"/api/v1/elders/{city.elder_a1.id}/assessments"
    scores = {"assessed_on": "2026-11-20", "self_care": 20, "motion": 10, "mental": 20, "perception": 10,
              "has_dementia": True}
    response = client.post(url, json=scores, headers=headers("supervisor_in_scope"))
    assert response.status_code == 201, response.get_json()
    assessment = response.get_json()
    # 60 is moderate (2); dementia makes it one level worse.
    assert (assessment["total"], assessment["level"], assessment["level_name"]) == (60, 3, "重度失能")
    elder = client.get(f"/api/v1/elders/{city.elder_a1.id}", headers=headers("admin")).get_json()
    assert elder["latest_assessment"]["level"] == 3 and elder["latest_assessment"]["assessed_on"] == "2026-11-20"
    history = client.get(url, headers=headers("community_worker")).get_json()
    assert [a["total"] for a in history["items"]] == [60]


def test_an_assessment_may_not_carry_its_own_total_or_level(client, city, headers):
    url = f"/api/v1/elders/{city.elder_a1.id}/assessments"
    body = {"assessed_on": "2026-11-20", "self_care": 32, "motion": 15, "mental": 28, "perception": 15}
    for forged in ({"total": 10}, {"level": 4}):
        assert_problem(client.post(url, json={**body, **forged}, headers=headers("admin")), 422,
                       "validation_failed", next(iter(forged)))
    assert_problem(client.post(url, json={**body, "motion": 16}, headers=headers("admin")), 422,
                   "validation_failed", "motion")


def test_an_assessment_dated_in_the_future_is_refused(client, city, headers, clock):
    body = {"assessed_on": "2026-11-24", "self_care": 32, "motion": 15, "mental": 28, "perception": 15}
    response = client.post(f"/api/v1/elders/{city.elder_a1.id}/assessments", json=body, headers=headers("admin"))
    assert_problem(response, 422, "validation_failed", "assessed_on")


def test_an_edit_against_a_stale_version_answers_409(client, city, headers):
    url = f"/api/v1/elders/{city.elder_a1.id}"
    h = headers("admin")
    first = client.patch(url, json={"phone": "13700000000", "version": 1}, headers=h)
    assert first.status_code == 200 and first.get_json()["version"] == 2
    stale = client.patch(url, json={"care_notes": "糖尿病", "version": 1}, headers=h)
    body = assert_problem(stale, 409, "version_conflict")
    assert body["current_version"] == 2
    assert_problem(client.patch(url, json={"phone": "1"}, headers=h), 422, "validation_failed", "version")


def test_changing_only_categories_still_bumps_the_version(client, city, headers):
    response = client.patch(f"/api/v1/elders/{city.elder_a1.id}", json={"categories": ["empty_nest"], "version": 1},
                            headers=headers("admin"))
    # Born in 1940: advanced_age comes back by itself.
    assert response.get_json()["categories"] == ["advanced_age", "empty_nest"] and response.get_json()["version"] == 2


def test_elders_filter_by_community_category_risk_tier_and_name(client, city, headers, make_elder):
    make_elder(city.community_a1, "张建国", categories=["disabled"], risk_tier="high")
    h = headers("admin")

    def names(**query):
        return {e["name"] for e in client.get("/api/v1/elders", query_string=query, headers=h).get_json()["items"]}

    assert names(community_id=city.community_a1.id) == {"张秀英", "张建国"}
    assert names(category="disabled") == {"张建国"}
    assert names(risk_tier="high") == {"张建国"}
    assert names(q="张") == {"张秀英", "张建国"}


def test_an_elder_outside_the_scope_answers_404(client, city, headers):
    response = client.get(f"/api/v1/elders/{city.elder_b1.id}", headers=headers("supervisor_in_scope"))
    assert_problem(response, 404, "not_found")


def test_an_elder_cannot_move_away_from_their_patrol_worker(client, world, headers):
    response = client.patch(f"/api/v1/elders/{world.elder_a1.id}",
                            json={"community_id": world.community_a2.id, "version": 1}, headers=headers("admin"))
    assert_problem(response, 422, "validation_failed", "community_id")


def test_an_elder_moving_takes_unstarted_visits_along_and_leaves_made_ones(
        client, city, headers, make_elder, make_care_plan, clock):
    from sqlalchemy import select

    from backend.extensions import db
    from backend.tasks.generation import generate_tasks
    from backend.tasks.models import Task
    from tests.api.conftest import MORNING

    elder = make_elder(city.community_a1, "赵玉兰")
    make_care_plan(elder, city.provider, [("meal", MORNING, 20, city.caregiver)],
                   revised_at=clock() - timedelta(days=1))
    generate_tasks(now=clock(), horizon_days=3)
    tasks = db.session.execute(
        select(Task).where(Task.elder_id == elder.id).order_by(Task.window_start_at)).scalars().all()
    assert len(tasks) >= 3
    tasks[0].status = "completed"
    db.session.commit()

    response = client.patch(f"/api/v1/elders/{elder.id}", json={"community_id": city.community_a2.id, "version": 1},
                            headers=headers("admin"))
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    moved = {t.status: set() for t in tasks}
    for t in db.session.execute(select(Task).where(Task.elder_id == elder.id)).scalars():
        moved[t.status].add(t.community_id)
    assert moved["completed"] == {city.community_a1.id}
    assert moved["scheduled"] == {city.community_a2.id}
