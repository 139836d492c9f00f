"""Providers: registered and changed by admins, read by admins and supervisors."""

from tests.api.conftest import assert_problem


def test_admin_registers_a_provider_and_disables_it(client, city, headers):
    h = headers("admin")
    created = client.post("/api/v1/providers", json={
        "name": "福寿居家养老服务站", "credit_code": "91210100MA0XXXXX1Y", "contact_name": "周敏",
        "contact_phone": "024-88886666", "region_id": city.street_a.id}, headers=h)
    assert created.status_code == 201, created.get_json()
    provider = created.get_json()
    assert provider["is_active"] is True and provider["region_id"] == city.street_a.id
    disabled = client.patch(f"/api/v1/providers/{provider['id']}", json={"is_active": False}, headers=h)
    assert disabled.status_code == 200 and disabled.get_json()["is_active"] is False
    active = client.get("/api/v1/providers", query_string={"is_active": "true"}, headers=h).get_json()
    assert provider["id"] not in {p["id"] for p in active["items"]}


def test_a_provider_name_taken_conflicts(client, city, headers):
    response = client.post("/api/v1/providers", json={"name": city.provider.name}, headers=headers("admin"))
    assert_problem(response, 409, "conflict")


def test_a_malformed_credit_code_and_an_unknown_region_are_refused_by_field(client, city, headers):
    h = headers("admin")
    bad_code = client.post("/api/v1/providers", json={"name": "甲", "credit_code": "12345"}, headers=h)
    assert_problem(bad_code, 422, "validation_failed", "credit_code")
    bad_region = client.post("/api/v1/providers", json={"name": "乙", "region_id": 99999}, headers=h)
    assert_problem(bad_region, 422, "validation_failed", "region_id")


def test_supervisors_read_providers_and_field_staff_may_not(client, city, headers):
    assert client.get("/api/v1/providers", headers=headers("supervisor_in_scope")).get_json()["meta"]["total"] == 2
    for role in ("caregiver", "community_worker"):
        assert_problem(client.get("/api/v1/providers", headers=headers(role)), 403, "forbidden")


def test_a_providers_manager_must_be_an_active_provider_manager_of_it(client, city, headers, make_user):
    h = headers("admin")
    url = f"/api/v1/providers/{city.provider.id}"
    elsewhere = make_user("mgr_other", "provider_manager", provider_id=city.other_provider.id)
    for wrong in (city.caregiver, city.supervisor_a, elsewhere):  # a supervisor no longer manages a provider
        assert_problem(client.patch(url, json={"manager_id": wrong.id}, headers=h), 422, "validation_failed",
                       "manager_id")
    manager = make_user("mgr_own", "provider_manager", provider_id=city.provider.id)
    response = client.patch(url, json={"manager_id": manager.id}, headers=h)
    assert response.status_code == 200 and response.get_json()["manager_id"] == manager.id
