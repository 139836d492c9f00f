"""Users: admin account management, the caller's own profile, supervisors' read-only view."""

import pytest
from sqlalchemy import select

from backend.auth.models import RefreshToken
from backend.extensions import db
from tests.api.conftest import assert_problem
from tests.conftest import PASSWORD


def _create(client, headers, **body):
    return client.post("/api/v1/users", json={"password": "long-enough-1", **body}, headers=headers("admin"))


def test_admin_creates_a_caregiver_with_certificate_and_skill_level(client, city, headers):
    response = _create(client, headers, username="cg_new", role="caregiver", display_name="赵护理",
                       provider_id=city.provider.id, certificate_no="GZ-2024-0001", skill_level=3)
    assert response.status_code == 201, response.get_json()
    user = response.get_json()
    assert (user["role"], user["provider_id"], user["skill_level"]) == ("caregiver", city.provider.id, 3)
    assert "password" not in user and "password_hash" not in user


def test_each_role_needs_its_own_scope(client, city, headers):
    assert_problem(_create(client, headers, username="sup1", role="supervisor"), 422, "validation_failed", "region_id")
    assert_problem(_create(client, headers, username="cg9", role="caregiver"), 422, "validation_failed",
                   "provider_id")
    assert_problem(_create(client, headers, username="wk9", role="community_worker",
                           community_ids=[city.street_a.id]), 422, "validation_failed", "community_ids")
    assert_problem(_create(client, headers, username="sup2", role="supervisor", region_id=city.street_a.id,
                           skill_level=2), 422, "validation_failed", "skill_level")


def test_a_short_password_a_taken_username_and_a_bad_skill_level_are_refused(client, city, headers):
    short = client.post("/api/v1/users", json={"username": "x1y", "password": "short", "role": "admin"},
                        headers=headers("admin"))
    assert_problem(short, 422, "validation_failed", "password")
    assert_problem(_create(client, headers, username="admin", role="admin"), 409, "conflict")
    assert_problem(_create(client, headers, username="cg3", role="caregiver", provider_id=city.provider.id,
                           skill_level=6), 422, "validation_failed", "skill_level")


def test_every_user_reads_their_own_profile_with_scope(client, city, headers):
    me = client.get("/api/v1/users/me", headers=headers("community_worker")).get_json()
    assert (me["username"], me["role"], me["community_ids"]) == ("wk_a", "community_worker", [city.community_a1.id])
    me = client.get("/api/v1/users/me", headers=headers("supervisor_in_scope")).get_json()
    assert me["region_id"] == city.street_a.id and "password_hash" not in me


def test_a_role_change_reapplies_the_scope_of_the_new_role(client, city, headers):
    h = headers("admin")
    changed = client.patch(f"/api/v1/users/{city.worker_b.id}", json={"role": "supervisor",
                                                                      "region_id": city.street_b.id}, headers=h)
    assert changed.status_code == 200, changed.get_json()
    user = changed.get_json()
    assert (user["role"], user["region_id"], user["community_ids"]) == ("supervisor", city.street_b.id, [])
    missing = client.patch(f"/api/v1/users/{city.caregiver_other.id}", json={"role": "supervisor"}, headers=h)
    assert_problem(missing, 422, "validation_failed", "region_id")


def test_a_role_change_that_would_strand_plans_conflicts(client, world, headers):
    response = client.patch(f"/api/v1/users/{world.worker_a.id}",
                            json={"community_ids": [world.community_a2.id]}, headers=headers("admin"))
    assert_problem(response, 409, "conflict")


@pytest.mark.parametrize("account", ["caregiver", "worker_a"])
def test_disabling_someone_with_active_plans_conflicts_and_changes_nothing(client, world, headers, account):
    user = getattr(world, account)
    response = client.patch(f"/api/v1/users/{user.id}", json={"is_active": False}, headers=headers("admin"))
    body = assert_problem(response, 409, "conflict")
    assert "重新分派" in body["detail"]
    db.session.expire_all()
    assert db.session.get(type(user), user.id).is_active


def test_disabling_a_user_or_resetting_the_password_signs_them_out(client, city, headers, login):
    worker = login(city.worker_a)
    h = headers("admin")
    reset = client.patch(f"/api/v1/users/{city.worker_a.id}", json={"password": "a-new-password"}, headers=h)
    assert reset.status_code == 200
    assert db.session.execute(select(RefreshToken.revoked_at).where(RefreshToken.user_id == city.worker_a.id)) \
        .scalar_one() is not None
    old = client.post("/api/v1/auth/login", json={"username": "wk_a", "password": PASSWORD, "device_id": "d"})
    assert old.status_code == 401
    client.patch(f"/api/v1/users/{city.worker_a.id}", json={"is_active": False}, headers=h)
    assert_problem(client.get("/api/v1/users/me", headers=worker), 403, "account_disabled")


def test_admins_cannot_disable_or_demote_themselves(client, city, headers):
    h = headers("admin")
    assert_problem(client.patch(f"/api/v1/users/{city.admin.id}", json={"is_active": False}, headers=h),
                   422, "validation_failed", "is_active")
    assert_problem(client.patch(f"/api/v1/users/{city.admin.id}",
                                json={"role": "supervisor", "region_id": city.district.id}, headers=h),
                   422, "validation_failed", "role")


def test_a_stale_user_version_conflicts(client, city, headers):
    response = client.patch(f"/api/v1/users/{city.worker_a.id}", json={"phone": "1", "version": 99},
                            headers=headers("admin"))
    assert_problem(response, 409, "version_conflict")


def test_users_filter_by_role_and_active(client, city, headers):
    h = headers("admin")
    workers = client.get("/api/v1/users", query_string={"role": "community_worker"}, headers=h).get_json()
    assert {u["username"] for u in workers["items"]} == {"wk_a", "wk_b"}
    client.patch(f"/api/v1/users/{city.worker_b.id}", json={"is_active": False}, headers=h)
    active = client.get("/api/v1/users", query_string={"role": "community_worker", "is_active": "true"},
                        headers=h).get_json()
    assert {u["username"] for u in active["items"]} == {"wk_a"}


def test_a_supervisor_reads_the_staff_of_their_subtree_only(client, world, headers):
    items = client.get("/api/v1/users", headers=headers("supervisor_in_scope")).get_json()["items"]
    # Themselves, street A's worker, and the caregiver serving an elder of street A.
    assert {u["username"] for u in items} == {"sup_a", "wk_a", "cg1"}
    assert_problem(client.post("/api/v1/users", json={"username": "zz1", "password": "long-enough-1",
                                                      "role": "admin"}, headers=headers("supervisor_in_scope")),
                   403, "forbidden")
