"""Review decisions and call-backs in the monthly report, on conftest's hand-worked November.

Before any decision (test_figures.py): district completed 8 (T1 T2 T3 T7 T8 T10 P1 P3), 7 on time,
6 verified, ratings 5 2 4 1 3; 颐康 completed T1 T2 T3, verified T1 T3, ratings 5 2 4 (3.67).
Rejecting T1 (颐康, verified, on time, rated 5) takes it out of every one of those figures.
"""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from backend.extensions import db
from backend.reviews import services as reviews
from backend.reviews.models import Callback, CallbackDraw

FIGURES = ("planned", "completed", "rejected", "completed_on_time", "verified", "verification_rate",
           "satisfaction_rated", "satisfaction_mean")


def pick(row: dict, names=FIGURES) -> tuple:
    return tuple(row[name] for name in names)


def provider_row(body: dict, provider) -> dict:
    return next(row for row in body["providers"] if row["provider_id"] == provider.id)


@pytest.fixture(autouse=True)
def _after_november(clock):
    """Decisions and call-backs made once November (and T9's first days of December) are over,
    so its report counts the whole month, not November to date."""
    clock.advance(days=14)


@pytest.fixture
def decide(world, clock):
    def decide_(task_name, decision, reason, *, at=None):
        review = reviews.decide(world.tasks[task_name], decision, reason, None, by=world.admin, at=at or clock())
        db.session.commit()
        return review
    return decide_


def test_a_rejected_visit_leaves_completed_and_enters_rejected(world, report, decide):
    before = report(world.admin, world.district).get_json()
    assert pick(before["total"]) == (11, 8, 0, 7, 6, 0.75, 5, 3.0)
    decide("T1", "rejected", "visit_did_not_happen")
    body = report(world.admin, world.district).get_json()
    # Still planned; no longer completed, on time, verified or rated: ratings 2 4 1 3.
    assert pick(body["total"]) == (11, 7, 1, 6, 5, 0.7143, 4, 2.5)
    assert pick(provider_row(body, world.provider)) == (5, 2, 1, 1, 1, 0.5, 2, 3.0)
    street_a = next(row for row in body["regions"] if row["region_id"] == world.street_a.id)
    assert (street_a["completed"], street_a["rejected"]) == (5, 1)
    caregiver = next(row for row in body["caregivers"] if row["user_id"] == world.caregiver.id)
    assert (caregiver["completed"], caregiver["rejected"]) == (2, 1)
    day = next(row for row in body["daily"] if row["date"] == "2026-11-03")
    assert (day["planned"], day["completed"]) == (1, 0)
    # Meal durations were 25 15 30 22 minutes; without T1's 25: 15 30 22.
    meal = next(row for row in body["service_types"] if row["service_type"] == "meal")
    assert (meal["completed"], meal["timed"], meal["mean_duration_minutes"], meal["short_visits"]) == (3, 3, 22.33, 1)


def test_an_approval_or_an_explanation_request_changes_no_count(world, report, decide):
    decide("T2", "approved", "explained_acceptably")
    decide("T3", "explanation_requested", "clock_problem")
    assert pick(report(world.admin, world.district).get_json()["total"]) == (11, 8, 0, 7, 6, 0.75, 5, 3.0)


def test_an_unlocked_decision_changed_later_moves_its_months_figures(world, report, decide, clock):
    approval = decide("T1", "approved", "evidence_sufficient")
    assert pick(report(world.admin, world.district).get_json()["total"])[1:3] == (8, 0)
    later = clock.advance(days=96)  # locked now: only an admin's unlock lets it change
    reviews.unlock(approval, "回访老人否认接受服务", by=world.admin, at=later)
    decide("T1", "rejected", "visit_did_not_happen", at=later + timedelta(minutes=1))
    body = report(world.admin, world.district).get_json()
    assert pick(body["total"])[1:3] == (7, 1)
    assert pick(provider_row(body, world.provider))[1:3] == (2, 1)


def test_rectification_counts_verification_over_completed_visits_not_rejected_ones(world, report, decide,
                                                                                     monkeypatch, app):
    monkeypatch.setitem(app.config, "RECTIFICATION_MIN_VISITS", 2)
    decide("T2", "rejected", "duration_too_short")  # 颐康: T1 T3 left, both verified
    body = report(world.admin, world.district).get_json()
    listed = {row["provider_id"]: row for row in body["rectification"]}
    # 颐康 passes verification now (2 of 2); its check-out ratings 5 4 (4.5) pass too.
    assert world.provider.id not in listed
    assert listed[world.other_provider.id]["failed"] == ["satisfaction"]


def test_the_csv_and_xlsx_put_rejected_beside_completed(world, report, decide):
    decide("T1", "rejected", "visit_did_not_happen")
    text = report(world.admin, world.district, ext=".csv").get_data().decode("utf-8-sig")
    block = text.split("# 服务机构")[1].split("\r\n\r\n")[0].strip().splitlines()
    rows = list(csv.DictReader(io.StringIO("\n".join(block))))
    yikang = next(row for row in rows if row["名称"] == world.provider.name)
    assert (yikang["完成"], yikang["审核不通过"]) == ("2", "1")
    book = load_workbook(io.BytesIO(report(world.admin, world.district, ext=".xlsx").get_data()))
    header, *body = list(book["分区域"].iter_rows(values_only=True))
    total = dict(zip(header, body[-1], strict=True))
    assert (total["完成"], total["审核不通过"]) == (7, 1)


# ------------------------------------------------------------------ call-backs


@pytest.fixture
def call(world, clock):
    """call(task name, status, confirmed, satisfaction) → a call-back made about that visit."""
    draws = {}

    def make(task_name, status="done", confirmed=True, satisfaction=None, round_=1):
        task = world.tasks[task_name]
        provider_id = task.provider_id
        if (provider_id, round_) not in draws:
            draw = CallbackDraw(month="2026-11", provider_id=provider_id, round=round_, seed=round_, share=1.0,
                                population=0, population_digest="0" * 64, drawn_task_ids=[],
                                drawn_at=datetime(2026, 12, 1, 2, tzinfo=UTC))
            db.session.add(draw)
            db.session.flush()
            draws[provider_id, round_] = draw.id
        db.session.add(Callback(draw_id=draws[provider_id, round_], task_id=task.id, status=status,
                                is_confirmed=confirmed if status == "done" else None, satisfaction=satisfaction,
                                attempts=1, called_by_id=world.admin.id, called_at=clock()))
        db.session.commit()
    return make


CALLBACKS = ("callbacks", "callbacks_unconfirmed", "callbacks_unconfirmed_share", "callback_satisfaction_rated",
             "callback_satisfaction_mean")


def test_call_back_satisfaction_and_unconfirmed_share_stand_beside_check_out(world, report, call):
    call("T1", satisfaction=5)
    call("T2", satisfaction=4)
    call("T3", status="unreachable")
    call("T7", confirmed=False, satisfaction=1)  # 暖阳: the elder denies the visit
    call("T10", status="pending")  # not made yet: no figure
    body = report(world.admin, world.district).get_json()
    yikang, warm = provider_row(body, world.provider), provider_row(body, world.other_provider)
    assert pick(yikang, CALLBACKS) == (3, 1, 0.3333, 2, 4.5)
    assert (yikang["satisfaction_rated"], yikang["satisfaction_mean"]) == (3, 3.67)  # check-out, unchanged
    assert pick(warm, CALLBACKS) == (1, 1, 1.0, 1, 1.0)
    assert pick(body["total"], CALLBACKS) == (4, 2, 0.5, 3, 3.33)


def test_a_call_back_of_another_month_counts_in_that_month(world, report, call):
    call("T9", satisfaction=1)  # T9 opened on 1 December
    assert report(world.admin, world.district).get_json()["total"]["callbacks"] == 0
    assert report(world.admin, world.district, month="2026-12").get_json()["total"]["callbacks"] == 1


def test_rectification_switches_to_call_backs_at_the_minimum_number(world, report, call, monkeypatch, app):
    monkeypatch.setitem(app.config, "RECTIFICATION_MIN_VISITS", 2)
    assert app.config["RECTIFICATION_MIN_CALLBACKS"] == 3
    call("T1", satisfaction=5)
    call("T2", satisfaction=4)
    call("T3", status="unreachable")
    body = report(world.admin, world.district).get_json()
    # Two rated call-backs: 颐康 is still judged on its check-out ratings (3.67) and fails.
    assert provider_row(body, world.provider)["satisfaction_source"] == "check_out"
    listed = {row["provider_id"]: row for row in body["rectification"]}
    assert listed[world.provider.id]["failed"] == ["satisfaction", "verification"]
    assert listed[world.provider.id]["satisfaction_source"] == "check_out"

    call("T3", satisfaction=5, round_=2)  # reached on a redraw: the third rated call-back (5 4 5)
    body = report(world.admin, world.district).get_json()
    assert provider_row(body, world.provider)["satisfaction_source"] == "callback"
    listed = {row["provider_id"]: row for row in body["rectification"]}
    assert listed[world.provider.id]["failed"] == ["verification"]
    assert (listed[world.provider.id]["satisfaction_source"], listed[world.provider.id]["callback_satisfaction_mean"]) \
        == ("callback", 4.67)
    # 暖阳 has no call-back: judged on check-out ratings (1 3, 2.0) as before.
    assert provider_row(body, world.other_provider)["satisfaction_source"] == "check_out"
    assert listed[world.other_provider.id]["failed"] == ["satisfaction"]


def test_low_call_back_satisfaction_lists_a_provider_its_check_out_ratings_would_not(world, report, call,
                                                                                     monkeypatch, app):
    monkeypatch.setitem(app.config, "RECTIFICATION_MIN_VISITS", 2)
    monkeypatch.setitem(app.config, "RECTIFICATION_MIN_SATISFACTION", 3.0)  # 颐康's check-out 3.67 passes
    for name in ("T1", "T2", "T3"):
        call(name, satisfaction=2)
    listed = {row["provider_id"]: row for row in report(world.admin, world.district).get_json()["rectification"]}
    assert listed[world.provider.id]["failed"] == ["satisfaction", "verification"]
    assert listed[world.provider.id]["satisfaction_source"] == "callback"


def test_the_minimum_of_call_backs_is_a_setting(world, report, call, monkeypatch, app):
    monkeypatch.setitem(app.config, "RECTIFICATION_MIN_CALLBACKS", 1)
    call("T1", satisfaction=5)
    body = report(world.admin, world.district).get_json()
    assert body["thresholds"]["min_callbacks"] == 1
    assert provider_row(body, world.provider)["satisfaction_source"] == "callback"
