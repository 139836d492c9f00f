"""GET /audit/visits: every task that came due with its evidence, filtered, sorted and keyset-paged."""

import base64

import pytest

from schemas.visitlog import VISIT_FLAGS
from sync import rules
from tests.visitlog.conftest import ids, newest_first


def test_the_log_lists_every_task_that_came_due_newest_first_and_none_to_come(log, city, audit):
    assert ids(audit(city.admin)) == newest_first(log.visits)


def test_a_missed_task_is_a_row_with_its_status_and_no_evidence(log, city, audit):
    row = next(r for r in audit(city.admin).get_json()["items"] if r["id"] == log.a1_missed.id)
    assert row["status"] == "missed"
    assert row["check_in_at"] is row["duration_seconds"] is row["is_verified"] is None
    assert row["flags"] == [] and row["followups"] == []


def test_a_row_names_the_elder_service_caregiver_provider_and_region(log, city, audit):
    row = next(r for r in audit(city.admin).get_json()["items"] if r["id"] == log.a2_too_short.id)
    assert (row["elder_name"], row["service_type"], row["service_name"]) == ("李桂兰", "bathing", "助浴")
    assert (row["caregiver_id"], row["caregiver_name"]) == (city.caregiver_other.id, "cg2")
    assert (row["provider_id"], row["provider_name"]) == (city.other_provider.id, "暖阳养老服务有限公司")
    assert (row["community_name"], row["street_name"]) == ("松柏社区", "长青街道")
    assert row["flags"] == ["too_short"] and row["is_verified"] is False and row["duration_seconds"] == 35 * 60


@pytest.mark.parametrize("query, expected", [
    ({"region": "street_a"}, "street_a"),
    ({"region": "community_b1"}, "street_b"),
    ({"region": "district"}, "visits"),
])
def test_the_region_filter_takes_the_whole_subtree(log, city, audit, query, expected):
    region = getattr(city, query["region"])
    assert ids(audit(city.admin, region_id=region.id)) == newest_first(getattr(log, expected))


def test_the_provider_filter_follows_the_care_plan_and_leaves_out_patrols(log, city, audit):
    assert ids(audit(city.admin, provider_id=city.other_provider.id)) == [log.a2_too_short.id]
    assert ids(audit(city.admin, provider_id=city.provider.id)) == newest_first(
        [log.a1_after_midnight, log.a1_missed, log.a1_due_now, log.b1_outside, log.b1_cancelled])


def test_caregiver_elder_service_type_and_kind_filters(log, city, audit):
    assert ids(audit(city.admin, caregiver_id=city.caregiver_other.id)) == [log.a2_too_short.id]
    assert ids(audit(city.admin, elder_id=city.elder_b1.id)) == newest_first(log.street_b)
    assert ids(audit(city.admin, service_type="cleaning")) == [log.b1_cancelled.id]
    assert ids(audit(city.admin, kind="patrol")) == [log.a1_patrol.id]


def test_the_status_filter_takes_several_statuses(log, city, audit):
    assert ids(audit(city.admin, status="missed")) == [log.a1_missed.id]
    assert ids(audit(city.admin, status=["missed", "cancelled"])) == newest_first([log.a1_missed, log.b1_cancelled])


def test_the_flag_filter_matches_one_flag_exactly_on_either_database(log, city, audit):
    assert ids(audit(city.admin, flag="too_short")) == [log.a2_too_short.id]
    assert ids(audit(city.admin, flag="qr_missing")) == [log.b1_outside.id]
    assert ids(audit(city.admin, flag="outside_geofence")) == [log.b1_outside.id]
    assert ids(audit(city.admin, flag="after_missed")) == [log.a1_patrol.id]
    assert audit(city.admin, flag="late_sync").status_code == 422  # split in two: late_upload, after_missed
    assert ids(audit(city.admin, flag="qr_invalid")) == []


def test_the_verification_filter_reads_the_visit_and_never_matches_a_missed_task(log, city, audit):
    assert ids(audit(city.admin, verification="verified")) == [log.a1_after_midnight.id]
    assert ids(audit(city.admin, verification="unverified")) == newest_first(
        [log.a2_too_short, log.b1_outside, log.a1_patrol])
    assert ids(audit(city.admin, verification="needs_review")) == newest_first(
        [log.a2_too_short, log.b1_outside, log.a1_patrol])


def test_the_date_range_counts_local_days_inclusive(log, city, audit):
    # a1_after_midnight starts 2026-11-20 16:30 UTC, which is the 21st in Shanghai.
    assert ids(audit(city.admin, date_from="2026-11-21", date_to="2026-11-21")) == newest_first(
        [log.a1_after_midnight, log.a1_missed, log.a2_too_short])
    assert ids(audit(city.admin, date_to="2026-11-20")) == []
    assert ids(audit(city.admin, date_from="2026-11-23")) == [log.a1_due_now.id]


def test_filters_combine(log, city, audit):
    assert ids(audit(city.admin, region_id=city.street_a.id, provider_id=city.provider.id, status="completed")) \
        == [log.a1_after_midnight.id]


def test_oldest_first_on_request(log, city, audit):
    assert ids(audit(city.admin, sort="window_start_at")) == newest_first(log.visits)[::-1]


@pytest.mark.parametrize("sort", ["window_start_at", "-window_start_at"])
def test_pages_follow_each_other_without_duplicates_or_gaps(log, city, audit, sort):
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, "sort": sort} | ({"cursor": cursor} if cursor else {})
        body = audit(city.admin, **query).get_json()
        seen += [row["id"] for row in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    expected = newest_first(log.visits)
    assert seen == (expected if sort.startswith("-") else expected[::-1])
    assert pages == 4  # 7 rows, 2 a page; the two rows starting at the same instant split by id


def test_a_page_that_ends_exactly_at_the_last_row_has_no_next_cursor(log, city, audit):
    body = audit(city.admin, limit=len(log.visits)).get_json()
    assert len(body["items"]) == len(log.visits) and body["next_cursor"] is None


def test_filters_apply_across_pages(log, city, audit):
    first = audit(city.admin, region_id=city.street_a.id, limit=3).get_json()
    second = audit(city.admin, region_id=city.street_a.id, limit=3, cursor=first["next_cursor"]).get_json()
    assert [r["id"] for r in first["items"] + second["items"]] == newest_first(log.street_a)
    assert second["next_cursor"] is None


@pytest.mark.parametrize("cursor", [
    "not a cursor!",
    base64.urlsafe_b64encode(b"{}").decode(),
    base64.urlsafe_b64encode(b'["2026-11-22T03:00:00", 5]').decode(),  # no time zone
    base64.urlsafe_b64encode(b'["2026-11-22T03:00:00+00:00", "5"]').decode(),
    base64.urlsafe_b64encode("\u00ff".encode("latin-1")).decode(),
])
def test_a_malformed_cursor_is_422_naming_cursor(city, audit, cursor):
    response = audit(city.admin, cursor=cursor)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["cursor"]


@pytest.mark.parametrize("query, field", [
    ({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"flag": "qr_verified"}, "flag"),
    ({"status": "lost"}, "status.0"), ({"sort": "id"}, "sort"), ({"verification": "maybe"}, "verification"),
    ({"kind": "visit"}, "kind"),
    ({"date_from": "2026-11-22", "date_to": "2026-11-21"}, "date_to"),
])
def test_bad_query_parameters_are_422_naming_the_parameter(city, audit, query, field):
    response = audit(city.admin, **query)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_an_unknown_region_is_404(city, audit):
    assert audit(city.admin, region_id=999_999).status_code == 404


def test_the_flag_vocabulary_is_the_one_visits_carry():
    assert set(VISIT_FLAGS) == set(rules.VISIT_FLAGS)
