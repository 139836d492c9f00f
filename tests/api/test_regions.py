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


def test_admin_builds_a_city_over_districts_with_codes_extending_each_other(client, city, headers):
    h = headers("admin")
    benxi = client.post("/api/v1/regions", json={"name": "本溪市", "level": "city", "code": "210500000000"}, headers=h)
    assert benxi.status_code == 201, benxi.get_json()
    c = benxi.get_json()
    assert c["level"] == "city" and c["parent_id"] is None and c["path"] == f"/{c['id']}/"
    district = client.post("/api/v1/regions", json={"name": "平山区", "level": "district", "parent_id": c["id"],
                                                     "code": "210502000000"}, headers=h).get_json()
    assert district["path"] == f"/{c['id']}/{district['id']}/"
    street = client.post("/api/v1/regions", json={"name": "千金街道", "level": "street", "parent_id": district["id"],
                                                   "code": "210502001000"}, headers=h)
    assert street.status_code == 201
    for body in ({"name": "x", "level": "district", "parent_id": c["id"], "code": "210602000000"},  # another city
                 {"name": "x", "level": "street", "parent_id": district["id"], "code": "210502000000"},
                 {"name": "x", "level": "city", "code": "21050000000"}):
        assert_problem(client.post("/api/v1/regions", json=body, headers=h), 422, "validation_failed", "code")
    for body in ({"name": "x", "level": "city", "parent_id": c["id"]},
                 {"name": "x", "level": "street", "parent_id": c["id"]},
                 {"name": "x", "level": "district", "parent_id": street.get_json()["id"]}):
        assert_problem(client.post("/api/v1/regions", json=body, headers=h), 422, "validation_failed", "parent_id")
    # The city's code cannot change under its districts' codes.
    assert_problem(client.patch(f"/api/v1/regions/{c['id']}", json={"code": "210600000000"}, headers=h),
                   422, "validation_failed", "code")


def test_a_code_problem_is_named_in_chinese_by_default(client, city, headers):
    body = assert_problem(client.post("/api/v1/regions", json={"name": "本溪市", "level": "city",
                                                                 "code": "210502000000"}, headers=headers("admin")),
                          422, "validation_failed", "code")
    assert body["errors"]["code"] == ["该层级代码的第 5 至 12 位须为 0"]


def test_a_district_moves_under_a_city_with_its_subtree_and_its_supervisor_keeps_it(client, city, headers):
    h = headers("admin")
    benxi = client.post("/api/v1/regions", json={"name": "本溪市", "level": "city"}, headers=h).get_json()
    moved = client.patch(f"/api/v1/regions/{city.district.id}", json={"parent_id": benxi["id"]}, headers=h)
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["path"] == f"/{benxi['id']}/{city.district.id}/"
    community = client.get(f"/api/v1/regions/{city.community_a1.id}", headers=h).get_json()
    assert community["path"] == f"/{benxi['id']}/{city.district.id}/{city.street_a.id}/{city.community_a1.id}/"
    elders = client.get("/api/v1/elders?per_page=100", headers=headers("supervisor_all")).get_json()["items"]
    assert {e["id"] for e in elders} == {city.elder_a1.id, city.elder_a2.id, city.elder_b1.id}
    back = client.patch(f"/api/v1/regions/{city.district.id}", json={"parent_id": None}, headers=h)
    assert back.get_json()["path"] == f"/{city.district.id}/" and back.get_json()["parent_id"] is None
    assert client.get(f"/api/v1/regions/{city.community_a1.id}", headers=h).get_json()["path"] == \
        f"/{city.district.id}/{city.street_a.id}/{city.community_a1.id}/"


def test_a_code_problem_is_named_in_english_when_asked(client, city, headers):
    response = client.post("/api/v1/regions", json={"name": "Benxi", "level": "city", "code": "210502000000"},
                           headers={**headers("admin"), "Accept-Language": "en"})
    body = assert_problem(response, 422, "validation_failed", "code")
    assert body["errors"]["code"] == ["digits 5 to 12 must be zero at this level"]
