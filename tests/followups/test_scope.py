"""Who sees which follow-ups: admins all, supervisors their region, field staff only their own."""


import pytest

from backend.extensions import db


@pytest.fixture
def spread(city, manager, make_followup):
    """One follow-up of each sort, across both streets."""
    city.provider.region_id = city.street_a.id
    db.session.commit()
    return {
        "missed_a1": make_followup("missed_visit", manager, elder=city.elder_a1, provider_id=city.provider.id),
        "concern_a2": make_followup("patrol_concern", city.supervisor_a, elder=city.elder_a2, priority="high"),
        "welfare_b1": make_followup("welfare_check", city.worker_b, elder=city.elder_b1, priority="urgent"),
        "welfare_a1": make_followup("welfare_check", city.worker_a, elder=city.elder_a1, priority="high"),
        "unverified_a1": make_followup("unverified_visit", city.caregiver, elder=city.elder_a1),
        "pattern": make_followup("worker_pattern", manager, subject_user_id=city.caregiver.id,
                                 provider_id=city.provider.id),
    }


def _seen(api, user, **query):
    response = api(user, "get", "/followups", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _names(spread, body):
    by_id = {f.id: name for name, f in spread.items()}
    return sorted(by_id[item["id"]] for item in body["items"])


VISIBLE = {
    "admin": ["concern_a2", "missed_a1", "pattern", "unverified_a1", "welfare_a1", "welfare_b1"],
    "supervisor_all": ["concern_a2", "missed_a1", "pattern", "unverified_a1", "welfare_a1", "welfare_b1"],
    "supervisor_a": ["concern_a2", "missed_a1", "pattern", "unverified_a1", "welfare_a1"],
    "supervisor_b": ["welfare_b1"],
    "worker_a": ["welfare_a1"],
    "worker_b": ["welfare_b1"],
    "caregiver": ["unverified_a1"],
    "caregiver_other": [],
}


def test_each_role_lists_only_its_scope(spread, city, api):
    seen = {role: _names(spread, _seen(api, getattr(city, role))) for role in VISIBLE}
    assert seen == VISIBLE


def test_a_follow_up_out_of_scope_is_not_found(spread, city, api):
    """For every role, each follow-up it cannot list answers 404 to reading and to acting alike."""
    for role, visible in VISIBLE.items():
        for name in set(spread) - set(visible):
            user, followup = getattr(city, role), spread[name]
            read = api(user, "get", f"/followups/{followup.id}")
            claim = api(user, "post", f"/followups/{followup.id}/claim", json={"version": followup.version})
            assert (role, name, read.status_code, claim.status_code) == (role, name, 404, 404)
            assert read.get_json()["code"] == "not_found"


def test_the_provider_manager_sees_what_they_own_outside_their_region(city, make_user, make_followup, api):
    manager = make_user("mgr_nuanyang", "supervisor", region_id=city.street_b.id)
    owned = make_followup("missed_visit", manager, elder=city.elder_a1)
    assert [item["id"] for item in _seen(api, manager)["items"]] == [owned.id]


def test_filters_by_kind_priority_status_and_owner(spread, city, api):
    assert _names(spread, _seen(api, city.admin, kind="welfare_check")) == ["welfare_a1", "welfare_b1"]
    assert _names(spread, _seen(api, city.admin, priority="urgent")) == ["welfare_b1"]
    assert _names(spread, _seen(api, city.supervisor_a, owner="me")) == ["concern_a2"]
    assert _seen(api, city.admin, status="resolved")["items"] == []
    page = _seen(api, city.admin, per_page=2, page=2)
    assert page["meta"]["total"] == 6 and len(page["items"]) == 2


def test_overdue_lists_only_unresolved_follow_ups_past_due(spread, city, api, clock):
    assert _seen(api, city.admin, overdue="true")["items"] == []
    clock.advance(hours=25)  # past the 24-hour rules, not the 72-hour or 7-day ones
    assert _names(spread, _seen(api, city.admin, overdue="true")) == [
        "concern_a2", "missed_a1", "welfare_a1", "welfare_b1"]


def test_an_unknown_filter_value_is_refused(city, api):
    response = api(city.admin, "get", "/followups", query_string={"kind": "gossip"})
    assert response.status_code == 422 and "kind" in response.get_json()["errors"]
