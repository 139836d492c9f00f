"""Providers listed for rectification (整改) when satisfaction or verification falls below the line.

颐康: 3 completed, 2 verified (0.6667), ratings 5 2 4 (3.67). 暖阳: 3 completed, all verified, ratings 1 3 (2.0).
"""

import pytest

from backend.reports.services import Thresholds, rectification_list


@pytest.fixture
def thresholds(app, monkeypatch):
    def set_(min_visits, min_satisfaction=4.0, min_verification=0.9):
        monkeypatch.setitem(app.config, "RECTIFICATION_MIN_VISITS", min_visits)
        monkeypatch.setitem(app.config, "RECTIFICATION_MIN_SATISFACTION", min_satisfaction)
        monkeypatch.setitem(app.config, "RECTIFICATION_MIN_VERIFICATION", min_verification)
    return set_


def test_providers_below_a_line_are_listed_with_the_lines_they_failed(world, report, thresholds):
    thresholds(min_visits=2)
    body = report(world.admin, world.district).get_json()
    assert body["thresholds"] == {"min_satisfaction": 4.0, "min_verification": 0.9, "min_visits": 2,
                                  "min_callbacks": 3}
    listed = {row["provider_id"]: row for row in body["rectification"]}
    assert listed[world.provider.id]["failed"] == ["satisfaction", "verification"]
    assert (listed[world.provider.id]["satisfaction_mean"], listed[world.provider.id]["verification_rate"]) == \
        (3.67, 0.6667)
    assert listed[world.other_provider.id]["failed"] == ["satisfaction"]


def test_a_rate_over_too_few_visits_lists_nobody(world, report, thresholds):
    thresholds(min_visits=3)  # 暖阳 has only two ratings
    listed = report(world.admin, world.district).get_json()["rectification"]
    assert [(row["provider_id"], row["failed"]) for row in listed] == \
        [(world.provider.id, ["satisfaction", "verification"])]


def test_the_default_minimum_of_ten_visits_lists_nobody_in_a_small_month(world, report):
    assert report(world.admin, world.district).get_json()["rectification"] == []


def test_the_lines_are_configurable(world, report, thresholds):
    thresholds(min_visits=1, min_satisfaction=2.0, min_verification=0.5)
    listed = report(world.admin, world.district).get_json()["rectification"]
    assert listed == []


def test_a_provider_exactly_at_the_line_is_not_listed():
    row = {"provider_id": 1, "name": "颐康", "completed": 10, "rejected": 0, "verification_rate": 0.9,
           "satisfaction_rated": 10, "satisfaction_mean": 4.0, "callback_satisfaction_rated": 0,
           "callback_satisfaction_mean": None}
    assert rectification_list([row], Thresholds(4.0, 0.9, 10)) == []
    assert rectification_list([{**row, "satisfaction_mean": 3.99}], Thresholds(4.0, 0.9, 10))[0]["failed"] == \
        ["satisfaction"]
    no_ratings = {**row, "satisfaction_rated": 0, "satisfaction_mean": None}
    assert rectification_list([no_ratings], Thresholds(4.0, 0.9, 0)) == []
