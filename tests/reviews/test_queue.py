"""The review queue: flagged visits awaiting a decision, oldest first, in the supervisor's scope."""

from datetime import timedelta

import pytest

from tests.reviews.conftest import local


def _queue(api, user, **query):
    response = api(user, "get", "/reviews/queue", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _task_ids(page):
    return [item["task_id"] for item in page["items"]]


def test_the_queue_holds_flagged_visits_only_oldest_first(city, api, make_visit, clock):
    make_visit(flags=[])
    newer = make_visit(flags=["qr_missing"], start=clock() - timedelta(days=1))
    older = make_visit(flags=["too_short"], start=clock() - timedelta(days=3))
    page = _queue(api, city.admin)
    assert _task_ids(page) == [older.task_id, newer.task_id]
    first = page["items"][0]
    assert first["flags"] == ["too_short"] and first["provider_id"] == city.provider.id
    assert first["elder_name"] == city.elder_a1.name and first["awaiting_explanation"] is False
    assert first["current_review"] is None and page["meta"]["total"] == 2


def test_a_visit_pushed_without_a_qr_scan_lands_in_the_queue(field, city, api):
    f = field
    response = f.phone.push([f.phone.item("check_in", f.task.id, f.start, qr=None, location=f.at_door)])
    assert response.status_code == 200, response.get_json()
    item = _queue(api, city.supervisor_a)["items"][0]
    assert item["task_id"] == f.task.id and "qr_missing" in item["flags"]


def test_a_supervisor_never_sees_another_regions_queue(city, api, make_visit):
    in_a = make_visit(city.elder_a1, flags=["qr_missing"])
    in_b = make_visit(city.elder_b1, flags=["qr_missing"])
    assert _task_ids(_queue(api, city.supervisor_a)) == [in_a.task_id]
    assert _task_ids(_queue(api, city.supervisor_b)) == [in_b.task_id]
    assert sorted(_task_ids(_queue(api, city.supervisor_all))) == sorted([in_a.task_id, in_b.task_id])


@pytest.mark.parametrize("who", ["caregiver", "worker_a"])
def test_caregivers_and_community_workers_are_refused(city, api, make_visit, who):
    visit = make_visit(flags=["qr_missing"])
    user = getattr(city, who)
    assert api(user, "get", "/reviews/queue").status_code == 403
    assert api(user, "get", "/reviews", query_string={"task_id": visit.task_id}).status_code == 403
    assert api(user, "post", "/reviews", json={"task_id": visit.task_id, "decision": "approved",
                                               "reason_code": "evidence_sufficient"}).status_code == 403
    assert api(user, "post", "/callbacks/draws", json={"month": "2026-10"}).status_code == 403
    assert api(user, "get", "/callbacks").status_code == 403


def test_the_queue_filters_by_provider_flag_and_local_date(city, api, make_visit):
    mine = make_visit(flags=["qr_missing"], start=local("2026-11-20 11:00"))
    other = make_visit(provider=city.other_provider, flags=["outside_geofence", "too_short"],
                       start=local("2026-11-21 00:30"))
    assert _task_ids(_queue(api, city.admin, provider_id=city.provider.id)) == [mine.task_id]
    assert _task_ids(_queue(api, city.admin, flag="too_short")) == [other.task_id]
    assert _task_ids(_queue(api, city.admin, flag="too")) == []
    # 00:30 on the 21st in Shanghai is still the 20th in UTC: the day is the care time zone's.
    assert _task_ids(_queue(api, city.admin, date_from="2026-11-21")) == [other.task_id]
    assert _task_ids(_queue(api, city.admin, date_to="2026-11-20")) == [mine.task_id]


def test_decided_visits_leave_the_queue_and_one_awaiting_an_explanation_stays_marked(city, api, make_visit):
    approved, rejected, asked = (make_visit(flags=["qr_missing"]) for _ in range(3))
    for visit, decision, code in ((approved, "approved", "evidence_sufficient"),
                                  (rejected, "rejected", "no_presence_evidence"),
                                  (asked, "explanation_requested", "missing_qr")):
        response = api(city.supervisor_a, "post", "/reviews",
                       json={"task_id": visit.task_id, "decision": decision, "reason_code": code})
        assert response.status_code == 201, response.get_json()
    page = _queue(api, city.supervisor_a)
    assert _task_ids(page) == [asked.task_id]
    item = page["items"][0]
    assert item["awaiting_explanation"] is True
    assert item["current_review"]["decision"] == "explanation_requested"


def test_the_queue_is_paginated(city, api, make_visit, clock):
    visits = [make_visit(flags=["qr_missing"], start=clock() - timedelta(days=10 - i)) for i in range(5)]
    page = _queue(api, city.admin, page=2, per_page=2)
    assert _task_ids(page) == [v.task_id for v in visits[2:4]]
    assert page["meta"] == {"page": 2, "per_page": 2, "total": 5, "pages": 3}
