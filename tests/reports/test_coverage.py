"""Patrol coverage (月探访率) and the month in progress, on conftest's hand-worked November.

In scope by default (solitary, empty-nest, left-behind, special family): a1 a2 b1 (solitary) and b1e
(empty-nest), all risk tier general, so patrolled quarterly; not the inactive or the low-income
elder. Seen: a1 at the door (P1, 12 Nov) and b1e by phone (P3, 25 Nov); b1's patrol P2 was missed.
"""

import csv
import io

import pytest
from openpyxl import load_workbook

from backend.extensions import db
from backend.reviews import services as reviews
from tests.console.conftest import ConsoleClient
from tests.poppler import pdf_text

COVERAGE = ("in_scope_elders", "in_scope_elders_visited", "patrol_coverage")
PATROLS = ("patrols_seen_door", "patrols_seen_phone", "patrols_door_share", "patrols_phone_share",
           "patrols_attempted")
CATEGORIES_ZH = "独居、空巢、留守、计划生育特殊家庭"


def pick(row: dict, names) -> tuple:
    return tuple(row[name] for name in names)


@pytest.fixture
def after_november(clock):
    """The report made once November is over: its figures are the whole month's."""
    clock.advance(days=14)
    return clock


def district(report, world, month="2026-11"):
    response = report(world.admin, world.district, month)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def patrol(world, name, elder, worker, start, seen_at, outcome="seen_well", mode="door"):
    task = world.task(name, elder, worker, start, end=start[:11] + "17:00", kind="patrol", started=seen_at,
                      outcome=outcome, mode=mode)
    db.session.commit()
    return task


def test_door_and_phone_patrols_that_saw_the_elder_are_counted_side_by_side(world, report, after_november):
    body = district(report, world)
    assert pick(body["total"], COVERAGE) == (4, 2, 0.5)
    assert pick(body["total"], PATROLS) == (1, 1, 0.5, 0.5, 0)


def test_a_no_answer_patrol_completes_its_task_but_is_not_coverage(world, report, after_november):
    # a2's worker knocked on a closed door: the task is done as attempted, a2 is still not covered.
    patrol(world, "P4", world.elder_a2, world.worker_a, "2026-11-14 09:00", "2026-11-14 09:40", outcome="no_answer")
    body = district(report, world)
    assert pick(body["total"], ("planned", "completed")) == (12, 9)
    assert pick(body["total"], COVERAGE) == (4, 2, 0.5)
    assert pick(body["total"], PATROLS) == (1, 1, 0.5, 0.5, 1)
    street_a = next(row for row in body["regions"] if row["region_id"] == world.street_a.id)
    assert pick(street_a, COVERAGE + ("patrols_attempted",)) == (2, 1, 0.5, 1)


@pytest.mark.parametrize("outcome", ["not_at_home", "in_hospital", "moved", "deceased"])
def test_no_outcome_but_seeing_the_elder_covers_them(world, report, after_november, outcome):
    patrol(world, "P4", world.elder_a2, world.worker_a, "2026-11-14 09:00", "2026-11-14 09:40", outcome=outcome)
    assert pick(district(report, world)["total"], COVERAGE + ("patrols_attempted",)) == (4, 2, 0.5, 1)


def test_a_patrol_seeing_the_elder_who_needs_help_covers_them(world, report, after_november):
    patrol(world, "P4", world.elder_a2, world.worker_a, "2026-11-14 09:00", "2026-11-14 09:40",
           outcome="seen_needs_help", mode="phone")
    assert pick(district(report, world)["total"], COVERAGE + PATROLS) == (4, 3, 0.75, 1, 2, 0.3333, 0.6667, 0)


def test_a_patrol_rejected_on_review_is_not_coverage(world, report, after_november):
    reviews.decide(world.tasks["P1"], "rejected", "visit_did_not_happen", None, by=world.admin, at=after_november())
    db.session.commit()
    body = district(report, world)
    assert pick(body["total"], COVERAGE) == (4, 1, 0.25)
    assert pick(body["total"], ("patrols_seen_door", "patrols_seen_phone", "rejected")) == (0, 1, 1)


def test_special_family_elders_are_in_scope_by_default_and_the_setting_decides(
        app, world, report, after_november, make_elder, monkeypatch):
    special = make_elder(world.community_a1, "周玉兰", categories=["special_family"])
    patrol(world, "P4", special, world.worker_a, "2026-11-14 09:00", "2026-11-14 09:40")
    body = district(report, world)
    assert body["coverage"]["categories"] == ["solitary", "empty_nest", "left_behind", "special_family"]
    assert pick(body["total"], COVERAGE) == (5, 3, 0.6)
    monkeypatch.setitem(app.config, "COVERAGE_CATEGORIES", ("solitary",))
    body = district(report, world)
    assert body["coverage"]["categories"] == ["solitary"]
    assert pick(body["total"], COVERAGE) == (3, 1, 0.3333)  # a1 a2 b1; seen a1


def test_an_elder_due_quarterly_seen_in_the_quarter_is_covered(world, report, after_november):
    # a2 (general: quarterly) seen on 10 October covers November (Q4), not January (Q1).
    patrol(world, "P0", world.elder_a2, world.worker_a, "2026-10-10 09:00", "2026-10-10 09:30")
    body = district(report, world)
    assert body["coverage"] == {"categories": ["solitary", "empty_nest", "left_behind", "special_family"],
                                "quarterly_tiers": ["general"], "rule": "quarter_for_quarterly_tiers"}
    assert pick(body["total"], COVERAGE + ("in_scope_elders_quarterly",)) == (4, 3, 0.75, 4)
    assert pick(district(report, world, "2027-01")["total"], COVERAGE) == (4, 0, 0.0)


def test_an_elder_due_monthly_is_judged_on_the_month_alone(world, report, after_november):
    world.elder_a2.risk_tier = "key"  # key group: monthly
    patrol(world, "P0", world.elder_a2, world.worker_a, "2026-10-10 09:00", "2026-10-10 09:30")
    body = district(report, world)
    assert pick(body["total"], COVERAGE + ("in_scope_elders_quarterly",)) == (4, 2, 0.5, 3)
    assert pick(district(report, world, "2026-10")["total"], COVERAGE) == (4, 1, 0.25)


def test_with_every_tier_monthly_the_report_says_so(app, world, report, after_november, monkeypatch):
    monkeypatch.setitem(app.config, "PATROL_FREQUENCY", {"high": "week", "key": "month", "general": "month"})
    patrol(world, "P0", world.elder_a2, world.worker_a, "2026-10-10 09:00", "2026-10-10 09:30")
    body = district(report, world)
    assert (body["coverage"]["rule"], body["coverage"]["quarterly_tiers"]) == ("month", [])
    assert pick(body["total"], COVERAGE) == (4, 2, 0.5)


def test_a_month_in_progress_is_counted_to_its_report_time(world, report, clock):
    # Made on 23 November at 10:00 (the clock's now).
    body = district(report, world)
    assert body["month_in_progress"] is True
    assert body["figures_until"] == clock.now.isoformat()
    # Windows opened by then: T1 T2 T3 T4 T6 T7 T10 P1 P2 (T5 cancelled); not T8 (30th) or P3 (25th).
    # Missed T4 and P2.
    assert pick(body["total"], ("planned", "completed", "missed", "cancelled")) == (9, 6, 2, 1)
    # F2 (due the 21st) is overdue; F4 (due 2 December) is not, F6 (opened the 28th) not yet opened.
    assert pick(body["total"], ("followups_opened", "followups_overdue")) == (2, 1)
    # b1e's phone patrol on the 25th has not happened yet.
    assert pick(body["total"], COVERAGE) == (4, 1, 0.25)
    assert [day["planned"] for day in body["daily"][22:]] == [0] * 8


def test_a_month_ended_is_counted_whole(world, report, after_november):
    body = district(report, world)
    assert body["month_in_progress"] is False
    assert body["figures_until"] == body["period"]["end_at"]
    assert pick(body["total"], ("planned", "followups_overdue")) == (11, 2)


def _csv_summary(response) -> dict:
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    return dict(row for row in rows[:rows.index(["# 分区域"])] if len(row) == 2)


def test_every_format_prints_the_population_the_rule_and_the_to_date_note_in_chinese(app, world, report, tmp_path,
                                                                                      clock):
    summary = _csv_summary(report(world.admin, world.district, ext=".csv"))
    assert summary["覆盖人群"] == CATEGORIES_ZH
    assert "按季度巡访" in summary["覆盖判定规则"] and "一般" in summary["覆盖判定规则"]
    assert summary["本月进行中"] == "本月尚未结束：数据截至 2026-11-23 10:00。"

    book = load_workbook(io.BytesIO(report(world.admin, world.district, ext=".xlsx").data), read_only=True)
    cells = dict(row for row in book["汇总"].iter_rows(min_row=2, values_only=True))
    book.close()
    assert cells["覆盖人群"] == CATEGORIES_ZH and cells["本月进行中"].startswith("本月尚未结束：数据截至")

    text = pdf_text(report(world.admin, world.district, ext=".pdf").data, tmp_path).replace(" ", "")
    assert "本月尚未结束：数据截至" in text and "计划生育特殊家庭" in text and "上门占比" in text

    console = ConsoleClient(app.test_client())
    assert console.sign_in(world.admin).status_code == 302
    html = console.text(f"/console/reports/monthly?region={world.district.id}&month=2026-11")
    assert "本月尚未结束：数据截至 2026-11-23 10:00。" in html
    assert CATEGORIES_ZH in html and "巡访未见到本人" in html and "电话探访见到" in html


def test_a_month_ended_prints_no_to_date_note(world, report, after_november):
    summary = _csv_summary(report(world.admin, world.district, ext=".csv"))
    assert "本月进行中" not in summary and summary["覆盖人群"] == CATEGORIES_ZH


def test_the_next_months_report_is_to_date_too(world, report, clock):
    clock.advance(days=8, hours=14)  # 2 December 00:00 local, from 23 November 10:00
    body = district(report, world, "2026-12")
    assert body["month_in_progress"] is True
    assert body["total"]["planned"] == 1  # T9, 1 December 00:10


def test_a_patrol_plan_naming_its_own_tier_sets_the_frequency(world, report, after_november, make_patrol_plan):
    world.elder_a2.risk_tier = "key"  # monthly by tier, but its plan is quarterly
    make_patrol_plan(world.elder_a2, world.worker_a, tier="general")
    patrol(world, "P0", world.elder_a2, world.worker_a, "2026-10-10 09:00", "2026-10-10 09:30")
    assert pick(district(report, world)["total"], COVERAGE + ("in_scope_elders_quarterly",)) == (4, 3, 0.75, 4)


def test_a_month_not_begun_says_so(world, report, clock):
    summary = _csv_summary(report(world.admin, world.district, month="2027-01", ext=".csv"))
    assert summary["本月进行中"] == "本月尚未开始：暂无统计数据。"
