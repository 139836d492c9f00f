"""Deciding on visits: reason codes that fit, a history that keeps everything, locks and unlocks."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.followups.models import Followup, Notification
from backend.reviews.models import Review
from backend.reviews.services import is_payable, payable_clause
from backend.tasks.models import Task


@pytest.fixture
def visit(make_visit):
    return make_visit(flags=["qr_missing"])


@pytest.fixture
def decide(api, visit):
    def do(user, decision, reason_code, comment=None, task_id=None):
        return api(user, "post", "/reviews", json={"task_id": task_id or visit.task_id, "decision": decision,
                                                   "reason_code": reason_code, "comment": comment})
    return do


def _history(api, user, task_id):
    response = api(user, "get", "/reviews", query_string={"task_id": task_id})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


@pytest.mark.parametrize(("decision", "reason_code"), [
    ("approved", "device_problem_verified"),
    ("rejected", "duration_too_short"),
    ("explanation_requested", "outside_geofence"),
])
def test_a_supervisor_decides_with_a_reason_code_of_that_decision(city, decide, visit, clock, decision, reason_code):
    response = decide(city.supervisor_a, decision, reason_code, comment="看过照片")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["decision"], body["reason_code"], body["comment"]) == (decision, reason_code, "看过照片")
    assert body["task_id"] == visit.task_id and body["visit_id"] == visit.id and body["seq"] == 1
    assert body["decided_by_id"] == city.supervisor_a.id and body["is_current"] and not body["is_locked"]
    assert body["locks_at"].startswith((clock() + timedelta(days=95)).date().isoformat())


def test_a_reason_code_of_another_decision_is_refused_naming_the_field(city, decide):
    response = decide(city.supervisor_a, "approved", "visit_did_not_happen")
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["reason_code"]
    assert decide(city.supervisor_a, "rejected", "no_such_code").status_code == 422
    assert db.session.execute(select(Review)).first() is None


def test_the_reason_other_needs_a_comment(city, decide):
    response = decide(city.supervisor_a, "rejected", "other", comment="  ")
    assert response.status_code == 422 and list(response.get_json()["errors"]) == ["comment"]
    assert decide(city.supervisor_a, "rejected", "other", comment="家属说当天没人来").status_code == 201


def test_the_history_keeps_every_decision(city, api, decide, visit, clock):
    decide(city.supervisor_a, "explanation_requested", "missing_qr")
    clock.advance(days=2)
    decide(city.supervisor_a, "rejected", "no_presence_evidence")
    clock.advance(days=1)
    decide(city.admin, "approved", "explained_acceptably", comment="门牌损坏，已更换")
    history = _history(api, city.supervisor_all, visit.task_id)
    assert [(r["seq"], r["decision"], r["is_current"]) for r in history] == [
        (1, "explanation_requested", False), (2, "rejected", False), (3, "approved", True)]
    assert [r["superseded_by_id"] for r in history] == [history[1]["id"], history[2]["id"], None]


def test_a_rejected_visit_does_not_count_and_is_not_payable(city, decide, visit):
    assert is_payable(visit.task_id)
    decide(city.supervisor_a, "rejected", "visit_did_not_happen")
    assert not is_payable(visit.task_id)
    payable = db.session.execute(select(Task.id).where(payable_clause(Task.id))).scalars().all()
    assert visit.task_id not in payable
    decide(city.supervisor_a, "approved", "confirmed_by_elder")  # a later approval makes it count again
    assert is_payable(visit.task_id)


def test_asking_for_an_explanation_notifies_the_providers_manager_and_opens_nothing(city, decide, manager):
    response = decide(city.supervisor_a, "explanation_requested", "clock_problem", comment="设备时间差3小时")
    assert response.status_code == 201
    notification = db.session.execute(select(Notification)).scalar_one()
    assert notification.user_id == manager.id and notification.event == "explanation_asked"
    assert notification.body == "时钟问题：设备时间差3小时"  # the reason in words, not its code
    assert db.session.execute(select(Followup)).first() is None


def test_approvals_and_rejections_notify_nobody(city, decide):
    decide(city.supervisor_a, "approved", "evidence_sufficient")
    decide(city.supervisor_a, "rejected", "duplicate_claim")
    assert db.session.execute(select(Notification)).first() is None


def test_a_visit_out_of_scope_cannot_be_decided_or_read(city, api, decide, visit):
    assert decide(city.supervisor_b, "approved", "evidence_sufficient").status_code == 404
    assert api(city.supervisor_b, "get", "/reviews", query_string={"task_id": visit.task_id}).status_code == 404


def test_a_task_without_a_visit_has_nothing_to_decide(city, decide, visit):
    task = db.session.get(Task, visit.task_id)
    other = Task(kind="service", elder_id=task.elder_id, care_plan_id=task.care_plan_id, source_key="manual:x",
                 window_start_at=task.window_start_at, window_end_at=task.window_end_at,
                 missed_after_at=task.missed_after_at)
    db.session.add(other)
    db.session.commit()
    assert decide(city.supervisor_a, "approved", "evidence_sufficient", task_id=other.id).status_code == 404


def test_a_decision_locks_95_days_after_it_was_taken(city, decide, clock):
    decide(city.supervisor_a, "approved", "evidence_sufficient")
    clock.advance(days=95)
    response = decide(city.supervisor_a, "rejected", "visit_did_not_happen")
    assert response.status_code == 409 and response.get_json()["code"] == "review_locked"
    response = decide(city.admin, "rejected", "visit_did_not_happen")
    assert response.status_code == 409 and response.get_json()["code"] == "review_locked"


def test_a_decision_is_open_until_its_window_ends(city, decide, clock):
    decide(city.supervisor_a, "approved", "evidence_sufficient")
    clock.advance(days=94, hours=23)
    assert decide(city.supervisor_a, "rejected", "visit_did_not_happen").status_code == 201


def test_the_lock_window_is_configurable(app, city, decide, clock):
    app.config["REVIEW_LOCK_DAYS"] = 10
    try:
        decide(city.supervisor_a, "approved", "evidence_sufficient")
        clock.advance(days=10)
        assert decide(city.supervisor_a, "rejected", "visit_did_not_happen").status_code == 409
    finally:
        app.config["REVIEW_LOCK_DAYS"] = 95


def test_an_admin_unlocks_with_a_reason_then_a_new_decision_works(city, api, decide, visit, clock):
    review_id = decide(city.supervisor_a, "approved", "evidence_sufficient").get_json()["id"]
    clock.advance(days=120)
    response = api(city.admin, "post", f"/reviews/{review_id}/unlock", json={"reason": "审计发现重复结算"})
    assert response.status_code == 200, response.get_json()
    unlocked = response.get_json()
    assert unlocked["unlocked_by_id"] == city.admin.id and unlocked["unlock_reason"] == "审计发现重复结算"
    assert not unlocked["is_locked"]
    assert decide(city.supervisor_a, "rejected", "duplicate_claim").status_code == 201
    history = _history(api, city.admin, visit.task_id)
    assert [(r["decision"], r["unlock_reason"]) for r in history] == [
        ("approved", "审计发现重复结算"), ("rejected", None)]


def test_a_supervisor_cannot_unlock(city, api, decide, clock):
    review_id = decide(city.supervisor_a, "approved", "evidence_sufficient").get_json()["id"]
    clock.advance(days=100)
    response = api(city.supervisor_a, "post", f"/reviews/{review_id}/unlock", json={"reason": "想改"})
    assert response.status_code == 403
    assert db.session.get(Review, review_id).unlocked_at is None


def test_an_unlock_needs_a_reason_and_a_locked_current_decision(city, api, decide, clock):
    first = decide(city.supervisor_a, "approved", "evidence_sufficient").get_json()["id"]
    unlock = f"/reviews/{first}/unlock"
    response = api(city.admin, "post", unlock, json={"reason": "尚未锁定"})
    assert response.status_code == 409 and response.get_json()["code"] == "review_not_locked"
    decide(city.supervisor_a, "rejected", "duplicate_claim")
    clock.advance(days=100)
    assert api(city.admin, "post", unlock, json={"reason": "旧的决定"}).status_code == 409  # superseded
    assert api(city.admin, "post", unlock, json={"reason": ""}).status_code == 422
    assert api(city.admin, "post", "/reviews/999999/unlock", json={"reason": "x"}).status_code == 404
