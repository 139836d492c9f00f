"""Who may read which region's report, and what the query must look like."""

import pytest


@pytest.mark.parametrize("ext", ["", ".csv", ".xlsx", ".pdf"])
def test_caregivers_and_community_workers_are_forbidden_every_format(city, report, ext):
    assert report(city.caregiver, city.community_a1, ext=ext).status_code == 403
    assert report(city.worker_a, city.community_a1, ext=ext).status_code == 403


def test_a_supervisor_reads_regions_inside_their_subtree(world, report):
    assert report(world.supervisor_a, world.street_a).status_code == 200
    body = report(world.supervisor_a, world.community_a2).get_json()
    assert body["total"]["planned"] == 2


@pytest.mark.parametrize("ext", ["", ".pdf"])
def test_a_region_outside_the_supervisors_subtree_is_not_found(world, report, ext):
    for region in (world.district, world.street_b, world.community_b1):
        response = report(world.supervisor_a, region, ext=ext)
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"


def test_an_admin_reads_any_region_and_an_unknown_one_is_not_found(world, report, client, login):
    assert report(world.admin, world.street_b).status_code == 200
    response = client.get("/api/v1/reports/monthly", query_string={"region": 999_999, "month": "2026-11"},
                          headers=login(world.admin))
    assert response.status_code == 404


def test_anonymous_callers_must_log_in(client, city):
    response = client.get("/api/v1/reports/monthly", query_string={"region": city.district.id, "month": "2026-11"})
    assert response.status_code == 401


@pytest.mark.parametrize("query, field", [
    ({"month": "2026-11"}, "region"),
    ({"region": "abc", "month": "2026-11"}, "region"),
    ({"region": "{id}"}, "month"),
    ({"region": "{id}", "month": "2026-13"}, "month"),
    ({"region": "{id}", "month": "2026-1"}, "month"),
    ({"region": "{id}", "month": "november"}, "month"),
])
def test_a_malformed_query_answers_422_naming_the_field(client, city, login, query, field):
    query = {key: value.format(id=city.district.id) for key, value in query.items()}
    response = client.get("/api/v1/reports/monthly", query_string=query, headers=login(city.admin))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
