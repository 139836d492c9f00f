"""Every figure of November's district report against values worked out by hand from conftest.

In November (by window start, Shanghai): T1–T8, T10 and patrols P1–P3; T9 (1 December 00:10) and
T11 (31 October 23:50) lie outside it.
"""

from datetime import date

import pytest

VISITS = ("planned", "completed", "completed_on_time", "late_synced", "missed", "cancelled", "verified",
          "verification_rate", "satisfaction_rated", "satisfaction_mean", "satisfaction_low",
          "satisfaction_low_share")
FOLLOWUPS = ("followups_opened", "followups_resolved", "followups_overdue")
COVERAGE = ("in_scope_elders", "in_scope_elders_visited", "patrol_coverage")


def pick(row: dict, names) -> tuple:
    return tuple(row[name] for name in names)


@pytest.fixture
def district(world, report):
    response = report(world.admin, world.district)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_district_total_matches_hand_counts(district):
    total = district["total"]
    # planned 12 − T5; completed T1 T2 T3 T7 T8 T10 P1 P3; late start only T2; verified T1 T3 T7 T8 T10 P1;
    # ratings 5 2 4 1 3.
    assert pick(total, VISITS) == (11, 8, 7, 1, 2, 1, 6, 0.75, 5, 3.0, 2, 0.4)
    # opened F1 F2 F4 F6; resolved F1 F3; overdue at the end F2 F6 (F6 was resolved in December).
    assert pick(total, FOLLOWUPS) == (4, 2, 2)
    # in scope a1 a2 b1 b1e (not the inactive or the low-income elder); patrolled a1 b1e.
    assert pick(total, COVERAGE) == (4, 2, 0.5)
    assert district["patrol_coverage_target"] == 1.0


def test_each_street_of_the_district_has_its_own_row(district, world):
    street_b, street_a = district["regions"]  # 东湖 sorts before 长青
    assert (street_a["region_id"], street_b["region_id"]) == (world.street_a.id, world.street_b.id)
    assert pick(street_a, VISITS) == (8, 6, 5, 1, 1, 1, 5, 0.8333, 4, 3.0, 2, 0.5)
    assert pick(street_a, FOLLOWUPS + COVERAGE) == (3, 1, 1, 2, 1, 0.5)
    assert pick(street_b, VISITS) == (3, 2, 2, 0, 1, 0, 1, 0.5, 1, 3.0, 0, 0.0)
    assert pick(street_b, FOLLOWUPS + COVERAGE) == (1, 1, 1, 2, 1, 0.5)


def test_providers_carry_service_tasks_and_their_followups_but_no_patrols(district, world):
    warm, yikang = district["providers"]
    assert (yikang["provider_id"], warm["provider_id"]) == (world.provider.id, world.other_provider.id)
    assert pick(yikang, VISITS + FOLLOWUPS) == (5, 3, 2, 1, 1, 1, 2, 0.6667, 3, 3.67, 1, 0.3333, 2, 1, 1)
    assert pick(warm, VISITS + FOLLOWUPS) == (3, 3, 3, 0, 0, 0, 3, 1.0, 2, 2.0, 1, 0.5, 1, 1, 1)


def test_service_types_compare_mean_duration_with_the_minimum(district):
    rows = {row["service_type"]: row for row in district["service_types"]}
    assert set(rows) == {"meal", "bathing"}
    # meal: 25 15 30 22 minutes against 20 each; bathing: 40 and 20 against 30 each.
    assert pick(rows["meal"], ("name", "completed", "timed", "mean_duration_minutes", "mean_min_duration_minutes",
                               "short_visits")) == ("助餐", 4, 4, 23.0, 20.0, 1)
    assert pick(rows["bathing"], ("completed", "timed", "mean_duration_minutes", "mean_min_duration_minutes",
                                  "short_visits")) == (2, 2, 30.0, 30.0, 1)


def test_every_assignee_has_figures(district, world):
    rows = {row["user_id"]: row for row in district["caregivers"]}
    names = ("planned", "completed", "completed_on_time", "late_synced", "missed", "verified", "verification_rate",
             "satisfaction_rated", "satisfaction_mean", "satisfaction_low_share")
    assert pick(rows[world.caregiver.id], names) == (5, 3, 2, 1, 1, 2, 0.6667, 3, 3.67, 0.3333)
    assert pick(rows[world.caregiver_other.id], names) == (3, 3, 3, 0, 0, 3, 1.0, 2, 2.0, 0.5)
    assert pick(rows[world.worker_a.id], names) == (1, 1, 1, 0, 0, 1, 1.0, 0, None, None)
    assert pick(rows[world.worker_b.id], names) == (2, 1, 1, 0, 1, 0, 0.0, 0, None, None)
    assert rows[world.caregiver.id]["provider_id"] == world.provider.id
    assert rows[world.worker_b.id]["role"] == "community_worker"


def test_daily_figures_count_by_local_window_start(district):
    days = {row["date"]: (row["planned"], row["completed"]) for row in district["daily"]}
    assert len(days) == 30
    busy = {day: counts for day, counts in days.items() if counts != (0, 0)}
    assert busy == {"2026-11-03": (1, 1), "2026-11-04": (1, 1), "2026-11-05": (1, 1), "2026-11-06": (1, 0),
                    "2026-11-08": (1, 0), "2026-11-10": (1, 1), "2026-11-12": (1, 1), "2026-11-15": (1, 1),
                    "2026-11-20": (1, 0), "2026-11-25": (1, 1), "2026-11-30": (1, 1)}


def test_report_states_its_period_and_definitions(district, world):
    assert district["region"] == {"id": world.district.id, "name": "清河区", "level": "district"}
    assert district["month"] == "2026-11"
    assert district["period"] == {"start_at": "2026-10-31T16:00:00+00:00", "end_at": "2026-11-30T16:00:00+00:00",
                                  "time_zone": "Asia/Shanghai"}
    assert {"planned", "completed_on_time", "verification_rate", "patrol_coverage",
            "rectification"} <= set(district["definitions"])


def test_a_visit_at_2330_on_30_november_is_november_and_one_at_0010_on_1_december_is_december(world, report):
    december = report(world.admin, world.district, "2026-12").get_json()
    assert pick(december["total"], ("planned", "completed", "satisfaction_mean")) == (1, 1, 5.0)
    assert december["daily"][0] == {"date": "2026-12-01", "planned": 1, "completed": 1}
    assert len(december["daily"]) == 31
    october = report(world.admin, world.district, "2026-10").get_json()
    assert pick(october["total"], ("planned", "missed")) == (1, 1)
    assert october["daily"][-1] == {"date": "2026-10-31", "planned": 1, "completed": 0}


def test_a_street_report_has_a_row_per_community(world, report):
    body = report(world.admin, world.street_a).get_json()
    a2, a1 = body["regions"]  # 松柏 sorts before 长青
    assert (a1["region_id"], a2["region_id"]) == (world.community_a1.id, world.community_a2.id)
    assert pick(a1, ("planned", "completed", "in_scope_elders", "in_scope_elders_visited")) == (6, 4, 1, 1)
    assert pick(a2, ("planned", "completed", "in_scope_elders", "in_scope_elders_visited")) == (2, 2, 1, 0)
    assert body["total"]["planned"] == 8
    assert [p["provider_id"] for p in body["providers"]] == [world.other_provider.id, world.provider.id]


def test_a_community_report_has_only_its_total(world, report):
    body = report(world.admin, world.community_b1).get_json()
    assert body["regions"] == []
    assert pick(body["total"], ("planned", "completed", "missed", "followups_opened", "in_scope_elders")) == \
        (3, 2, 1, 1, 2)


def test_a_month_without_visits_has_no_rates_but_still_counts_what_is_overdue(world, report):
    body = report(world.admin, world.district, "2027-03").get_json()
    assert pick(body["total"], ("planned", "completed", "verification_rate", "satisfaction_mean",
                                "patrol_coverage", "followups_opened", "followups_overdue")) == \
        (0, 0, None, None, 0.0, 0, 2)
    assert [row["planned"] for row in body["regions"]] == [0, 0]
    # F2 and F4, never resolved, are still overdue; F2 keeps 颐康 in the provider table.
    [yikang] = body["providers"]
    assert pick(yikang, ("provider_id", "planned", "verification_rate", "followups_overdue")) == \
        (world.provider.id, 0, None, 1)
    assert body["caregivers"] == body["service_types"] == body["rectification"] == []


def test_the_month_is_bounded_by_local_midnights(app):
    from backend.reports.services import month_period

    with app.app_context():
        period = month_period(date(2026, 2, 1))
    assert period.start.isoformat() == "2026-01-31T16:00:00+00:00"
    assert period.end.isoformat() == "2026-02-28T16:00:00+00:00"
    assert len(period.day_starts) == 29


def test_visits_count_where_they_were_made_when_an_elder_moves_later(world, report):
    from backend.extensions import db

    before = report(world.admin, world.district).get_json()
    world.elder_b1.community_id = world.community_a1.id  # b1's tasks were made in street B
    db.session.commit()
    body = report(world.admin, world.district).get_json()
    street_b, street_a = body["regions"]
    # T10 (completed) and P2 (missed) stay with street B, beside P3: the month does not change.
    assert pick(street_a, ("planned", "completed", "missed")) == (8, 6, 1)
    assert pick(street_b, ("planned", "completed", "missed")) == (3, 2, 1)
    assert pick(body["total"], ("planned", "completed")) == (11, 8)
    assert [r["planned"] for r in body["regions"]] == [r["planned"] for r in before["regions"]]
