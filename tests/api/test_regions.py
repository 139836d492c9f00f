"""Regions: building the tree, and reading it within scope."""

from tests.api.conftest import assert_problem


def test_admin_builds_a_district_street_and_community_with_materialised_paths(client, city, headers):
    h = headers("admin")
    district = client.post("/api/v1/regions", json={"name": "白塔区", "level": "district", "code": "211003000000"},
                           headers=h)
    assert district.status_code == 201, district.get_json()
    d = district.get_json()
    assert d["path"] == f"/{d['id']}/" and d["parent_id"] is None and d["code"] == "211003000000"
    street = client.post("/api/v1/regions", json={"name": "站前街道", "level": "street", "parent_id": d["id"]},
                         headers=h).get_json()
    community = client.post("/api/v1/regions", json={"name": "站前社区", "level": "community",
                                                      "parent_id": street["id"]}, headers=h)
    assert community.status_code == 201
    assert community.get_json()["path"] == f"/{d['id']}/{street['id']}/{community.get_json()['id']}/"


def test_a_level_that_does_not_fit_its_parent_is_refused_naming_parent_id(client, city, headers):
    h = headers("admin")
    for body in ({"name": "x", "level": "community", "parent_id": city.district.id},
                 {"name": "x", "level": "street"},
                 {"name": "x", "level": "district", "parent_id": city.district.id},
                 {"name": "x", "level": "street", "parent_id": 99999}):
        assert_problem(client.post("/api/v1/regions", json=body, headers=h), 422, "validation_failed", "parent_id")


def test_a_name_taken_under_the_same_parent_conflicts(client, city, headers):
    response = client.post("/api/v1/regions", json={"name": city.community_a1.name, "level": "community",
                                                     "parent_id": city.street_a.id}, headers=headers("admin"))
    assert_problem(response, 409, "conflict")


def test_admin_renames_a_region_but_cannot_move_it(client, city, headers):
    h = headers("admin")
    response = client.patch(f"/api/v1/regions/{city.community_a1.id}", json={"name": "长青新村"}, headers=h)
    assert response.status_code == 200 and response.get_json()["name"] == "长青新村"
    moved = client.patch(f"/api/v1/regions/{city.community_a1.id}", json={"parent_id": city.street_b.id}, headers=h)
    assert_problem(moved, 422, "validation_failed", "parent_id")


def test_deleting_a_region_in_use_conflicts_and_an_empty_one_goes(client, city, headers, make_region):
    h = headers("admin")
    for region in (city.street_a, city.community_a1):  # children; elders and a worker
        assert_problem(client.delete(f"/api/v1/regions/{region.id}", headers=h), 409, "conflict")
    empty = make_region("新建社区", "community", city.street_b)
    assert client.delete(f"/api/v1/regions/{empty.id}", headers=h).status_code == 204
    assert client.get(f"/api/v1/regions/{empty.id}", headers=h).status_code == 404


def test_a_supervisor_lists_their_subtree_and_its_ancestors_only(client, city, headers):
    items = client.get("/api/v1/regions", headers=headers("supervisor_in_scope")).get_json()["items"]
    assert {r["id"] for r in items} == {city.district.id, city.street_a.id, city.community_a1.id,
                                        city.community_a2.id}


def test_regions_filter_by_level_and_parent(client, city, headers):
    h = headers("admin")
    streets = client.get("/api/v1/regions", query_string={"level": "street"}, headers=h).get_json()
    assert {r["id"] for r in streets["items"]} == {city.street_a.id, city.street_b.id}
    assert streets["meta"]["total"] == 2
    children = client.get("/api/v1/regions", query_string={"parent_id": city.street_a.id}, headers=h).get_json()
    assert {r["id"] for r in children["items"]} == {city.community_a1.id, city.community_a2.id}
