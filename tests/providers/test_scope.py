"""A provider manager sees their own provider and nothing of another: every endpoint of the
access matrix, and the new ones, called as the managers of two providers.

city.provider serves elders a1 and b1 (the world's care plans, by city.caregiver); the other
provider serves elder a2 (by city.caregiver_other). Statuses: 2xx allowed, 403 forbidden by role,
404 outside the caller's scope.
"""

from datetime import timedelta

import pytest

from backend.extensions import db
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task
from tests.api.test_access_matrix import ENDPOINTS

EVENING = {"freq": "daily", "start": "18:00", "end": "19:00"}


# Statuses that differ from 403 (forbidden by role), for the manager of the provider serving the
# path's rows and for the other provider's manager.
ALLOWED = {
    ("GET", "/api/v1/regions"): (200, 200),
    ("GET", "/api/v1/regions/{w.community_a1.id}"): (404, 404),
    ("GET", "/api/v1/providers"): (200, 200),
    ("GET", "/api/v1/providers/{w.provider.id}"): (200, 404),
    ("GET", "/api/v1/users"): (200, 200),
    ("GET", "/api/v1/users/me"): (200, 200),
    ("GET", "/api/v1/users/{w.worker_a.id}"): (404, 404),
    ("GET", "/api/v1/elders"): (200, 200),
    ("GET", "/api/v1/elders/{w.elder_a1.id}"): (200, 404),
    ("GET", "/api/v1/elders/{w.elder_a1.id}/assessments"): (200, 404),
    ("GET", "/api/v1/elders/{w.elder_a1.id}/risk-tier"): (200, 404),
    # Settlement: the price schedule is read by everyone in the office; a provider's statements by its own
    # manager only, who confirms or disputes them.
    ("GET", "/api/v1/prices"): (200, 200),
    ("GET", "/api/v1/statements?provider_id={w.provider.id}&month=2026-10"): (200, 404),
    ("GET", "/api/v1/statements/issued"): (200, 200),
    ("GET", "/api/v1/statements/{w.statement.id}"): (200, 404),
    ("GET", "/api/v1/statements/{w.statement.id}.csv"): (200, 404),
    ("GET", "/api/v1/statements/{w.statement.id}.xlsx"): (200, 404),
    ("GET", "/api/v1/statements/{w.statement.id}.pdf"): (200, 404),
    ("POST", "/api/v1/statements/{w.statement.id}/confirm"): (200, 404),
    ("POST", "/api/v1/statements/{w.statement.id}/dispute"): (200, 404),
    ("GET", "/api/v1/statements?provider_id={w.other_provider.id}&month=2026-10"): (404, 200),
    ("GET", "/api/v1/statements/{w.street_a_statement.id}"): (404, 200),
    ("GET", "/api/v1/statements/{w.street_a_statement.id}.pdf"): (404, 200),
    ("GET", "/api/v1/service-types"): (200, 200),
    ("GET", "/api/v1/service-types/meal"): (200, 200),
    ("GET", "/api/v1/tasks"): (200, 200),
    ("GET", "/api/v1/tasks/{w.care_task_a.id}"): (200, 404),
    ("GET", "/api/v1/media/{w.media_sha256}"): (200, 404),
    ("GET", "/api/v1/status-reports"): (200, 200),
    ("GET", "/api/v1/status-reports/{w.report_a.id}"): (200, 404),
    ("GET", "/api/v1/providers/{w.provider.id}/workforce?month=2026-11"): (200, 404),
    ("POST", "/api/v1/tasks/{w.care_task_a.id}/reassign"): (200, 404),
    ("GET", "/api/v1/rectifications"): (200, 200),
    ("GET", "/api/v1/rectifications/{w.order.id}"): (200, 404),
    ("POST", "/api/v1/rectifications/{w.order.id}/respond"): (200, 404),
}


@pytest.fixture
def pm_world(matrix_world, managers, make_care_plan, clock):
    w = matrix_world
    w.mine, w.other = managers
    w.care_other = make_care_plan(w.elder_a2, w.other_provider, [("meal", EVENING, 20, w.caregiver_other)],
                                  revised_at=clock() - timedelta(days=1))
    generate_tasks(now=clock(), horizon_days=3)
    w.other_task = db.session.query(Task).filter_by(care_plan_id=w.care_other.id).order_by(Task.id).first()
    db.session.commit()
    return w


def _sweep(client, login, w, user):
    statuses, lists = {}, {}
    headers = login(user)
    for method, path, body, _expected in ENDPOINTS:
        response = client.open(path.format(w=w), method=method, json=body(w) if body else None, headers=headers)
        response.close()
        statuses[(method, path)] = response.status_code
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json", (path, response.data)
        elif method == "GET" and "items" in (response.get_json() or {}):
            lists[path] = response.get_json()["items"]
    return statuses, lists


@pytest.mark.parametrize("who", ["mine", "other"])
def test_every_endpoint_answers_a_provider_manager_by_their_provider(client, login, pm_world, who):
    w = pm_world
    statuses, lists = _sweep(client, login, w, getattr(w, who))
    column = 0 if who == "mine" else 1
    expected = {(m, p): ALLOWED.get((m, p), (403, 403))[column] for m, p, _, _ in ENDPOINTS}
    assert {k: v for k, v in statuses.items() if v != expected[k]} == {}

    provider = w.provider if who == "mine" else w.other_provider
    elders = {w.elder_a1.id, w.elder_b1.id} if who == "mine" else {w.elder_a2.id}
    people = {w.caregiver.id, w.mine.id} if who == "mine" else {w.caregiver_other.id, w.other.id}
    assert {e["id"] for e in lists["/api/v1/elders"]} == elders
    assert lists["/api/v1/tasks"] and {t["elder_id"] for t in lists["/api/v1/tasks"]} <= elders
    assert {u["id"] for u in lists["/api/v1/users"]} == people
    assert [p["id"] for p in lists["/api/v1/providers"]] == [provider.id]
    assert lists["/api/v1/regions"] == []
    assert {r["elder_id"] for r in lists["/api/v1/status-reports"]} <= elders
    assert {r["provider_id"] for r in lists["/api/v1/rectifications"]} <= {provider.id}
    assert {s["provider_id"] for s in lists["/api/v1/statements/issued"]} <= {provider.id}


def test_a_manager_hands_a_task_only_to_their_own_caregivers(api, pm_world, make_user):
    w = pm_world
    spare = make_user("cg_spare", "caregiver", provider_id=w.provider.id)
    url = f"/tasks/{w.care_task_a.id}/reassign"
    assert api(w.mine, "post", url, json={"assignee_id": w.caregiver_other.id}).status_code == 422
    moved = api(w.mine, "post", url, json={"assignee_id": spare.id})
    assert moved.status_code == 200 and moved.get_json()["assignee_id"] == spare.id
    assert api(w.other, "post", url, json={"assignee_id": w.caregiver_other.id}).status_code == 404
    assert api(w.mine, "post", f"/tasks/{w.other_task.id}/reassign", json={"assignee_id": spare.id}).status_code \
        == 404


def test_the_visit_log_api_gives_a_manager_their_providers_visits_only(api, city, managers, make_visit):
    mine, other = managers
    own = make_visit()
    foreign = make_visit(city.elder_a2, city.other_provider)
    rows = api(mine, "get", "/audit/visits").get_json()["items"]
    assert {row["id"] for row in rows} == {own.task_id}
    assert api(mine, "get", f"/audit/visits/{foreign.task_id}").status_code == 404
    assert api(other, "get", f"/audit/visits/{foreign.task_id}").status_code == 200


def test_a_manager_sees_their_providers_follow_ups_and_no_others(api, city, managers, make_followup):
    mine, other = managers
    theirs = make_followup("missed_visit", city.supervisor_a, elder=city.elder_a1, provider_id=city.provider.id)
    owned = make_followup("worker_pattern", mine, subject_user_id=city.caregiver.id)
    foreign = make_followup("missed_visit", other, elder=city.elder_a2, provider_id=city.other_provider.id)
    unrelated = make_followup("welfare_check", city.supervisor_a, elder=city.elder_a1)
    seen = {f["id"] for f in api(mine, "get", "/followups").get_json()["items"]}
    assert seen == {theirs.id, owned.id}
    assert api(mine, "get", f"/followups/{foreign.id}").status_code == 404
    assert api(mine, "get", f"/followups/{unrelated.id}").status_code == 404
