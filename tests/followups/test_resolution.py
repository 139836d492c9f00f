"""Claim, comment, resolve with a reason code (making up the visit in the same step), lock, reopen."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.followups.models import Followup, FollowupEvent, Notification
from backend.tasks.models import Task, TaskEvent
from schemas.followups import RESOLUTION_CODES
from tests.followups.conftest import count, fresh, local, task_of


def _ok(response, status=200):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _problem(response, status, code):
    body = response.get_json()
    assert (response.status_code, body["code"]) == (status, code), body
    return body


def test_the_owner_claims_a_follow_up(missed, manager, api):
    version = missed.version
    body = _ok(api(manager, "post", f"/followups/{missed.id}/claim", json={"version": version}))
    assert (body["status"], body["claimed_by_id"]) == ("claimed", manager.id)
    assert body["version"] == version + 1
    assert [e["action"] for e in body["events"]][-1] == "claimed"


def test_someone_elses_claim_is_a_conflict(missed, manager, city, api):
    _ok(api(manager, "post", f"/followups/{missed.id}/claim", json={"version": missed.version}))
    version = fresh(Followup, missed.id).version
    _problem(api(city.supervisor_a, "post", f"/followups/{missed.id}/claim", json={"version": version}),
             409, "already_claimed")


def test_a_stale_version_is_a_conflict(missed, manager, api):
    body = _problem(api(manager, "post", f"/followups/{missed.id}/resolve",
                        json={"version": missed.version + 5, "code": "false_alarm"}), 409, "version_conflict")
    assert body["current_version"] == missed.version


def test_comments_are_kept_in_the_history(missed, city, api):
    event = _ok(api(city.supervisor_a, "post", f"/followups/{missed.id}/comments",
                    json={"text": "已电话联系护理员"}), 201)
    assert (event["action"], event["note"], event["by_user_id"]) == ("commented", "已电话联系护理员",
                                                                     city.supervisor_a.id)


def test_every_other_code_resolves_without_more(city, make_followup, api):
    for code in RESOLUTION_CODES:
        if code in ("other", "rescheduled"):
            continue
        followup = make_followup("patrol_concern", city.supervisor_a, elder=city.elder_a1)
        body = _ok(api(city.supervisor_a, "post", f"/followups/{followup.id}/resolve",
                       json={"version": followup.version, "code": code}))
        assert (body["status"], body["resolution_code"], body["resolved_by_id"]) == (
            "resolved", code, city.supervisor_a.id)
        assert body["rescheduled_task_id"] is None and body["events"][-1]["action"] == "resolved"


def test_an_unknown_code_is_refused(missed, manager, api):
    body = _problem(api(manager, "post", f"/followups/{missed.id}/resolve",
                        json={"version": missed.version, "code": "lost_interest"}), 422, "validation_failed")
    assert "code" in body["errors"]


def test_other_needs_text(missed, manager, api):
    for note in (None, "   "):
        body = _problem(api(manager, "post", f"/followups/{missed.id}/resolve",
                            json={"version": missed.version, "code": "other", "note": note}), 422,
                        "validation_failed")
        assert list(body["errors"]) == ["note"]
    body = _ok(api(manager, "post", f"/followups/{missed.id}/resolve",
                   json={"version": missed.version, "code": "other", "note": "老人搬去女儿家住"}))
    assert body["resolution_note"] == "老人搬去女儿家住"


def test_rescheduled_needs_the_make_up_window(missed, manager, api):
    body = _problem(api(manager, "post", f"/followups/{missed.id}/resolve",
                        json={"version": missed.version, "code": "rescheduled"}), 422, "validation_failed")
    assert list(body["errors"]) == ["reschedule"]


def test_rescheduled_creates_the_make_up_task_in_the_same_step(missed, manager, city, api):
    start, end = local("2026-11-24 15:00"), local("2026-11-24 16:00")
    tasks = count(Task)
    body = _ok(api(manager, "post", f"/followups/{missed.id}/resolve", json={
        "version": missed.version, "code": "rescheduled", "note": "改到明天下午",
        "reschedule": {"window_start_at": start.isoformat(), "window_end_at": end.isoformat()}}))
    assert count(Task) == tasks + 1
    makeup = db.session.get(Task, body["rescheduled_task_id"])
    original = task_of(missed)
    assert makeup.source_key.startswith("manual:") and makeup.status == "scheduled"
    assert (makeup.kind, makeup.service_type, makeup.elder_id, makeup.assignee_id, makeup.min_duration_minutes) == (
        original.kind, original.service_type, original.elder_id, original.assignee_id, original.min_duration_minutes)
    assert (makeup.window_start_at, makeup.window_end_at) == (start, end)
    # meal: late alert 30 minutes after the window opens, missed 2 hours after it closes
    assert makeup.late_after_at == start + timedelta(minutes=30)
    assert makeup.missed_after_at == end + timedelta(hours=2)
    event = db.session.execute(select(TaskEvent).where(TaskEvent.task_id == makeup.id)).scalar_one()
    assert (event.to_status, event.by_user_id) == ("scheduled", manager.id)
    resolved = db.session.execute(select(FollowupEvent).where(FollowupEvent.action == "resolved")).scalar_one()
    assert resolved.data == {"resolution_code": "rescheduled", "rescheduled_task_id": makeup.id}


def test_a_make_up_window_in_the_past_or_for_a_field_worker_of_the_wrong_kind_is_refused(
        missed, manager, city, api, clock):
    def attempt(**reschedule):
        window = {"window_start_at": (clock() + timedelta(hours=1)).isoformat(),
                  "window_end_at": (clock() + timedelta(hours=2)).isoformat(), **reschedule}
        return api(manager, "post", f"/followups/{missed.id}/resolve",
                   json={"version": missed.version, "code": "rescheduled", "reschedule": window})

    past = _problem(attempt(window_start_at=(clock() - timedelta(hours=2)).isoformat(),
                            window_end_at=(clock() - timedelta(hours=1)).isoformat()), 422, "validation_failed")
    assert list(past["errors"]) == ["reschedule.window_end_at"]
    worker = _problem(attempt(assignee_id=city.worker_a.id), 422, "validation_failed")
    assert list(worker["errors"]) == ["reschedule.assignee_id"]
    assert fresh(Followup, missed.id).status == "open"


def test_a_resolved_follow_up_is_locked(missed, manager, api):
    body = _ok(api(manager, "post", f"/followups/{missed.id}/resolve",
                   json={"version": missed.version, "code": "elder_refused"}))
    version = body["version"]
    _problem(api(manager, "post", f"/followups/{missed.id}/claim", json={"version": version}), 409, "followup_locked")
    _problem(api(manager, "post", f"/followups/{missed.id}/comments", json={"text": "补充"}), 409, "followup_locked")
    _problem(api(manager, "post", f"/followups/{missed.id}/resolve", json={"version": version, "code": "other",
                                                                          "note": "改"}), 409, "followup_locked")
    assert fresh(Followup, missed.id).resolution_code == "elder_refused"


@pytest.fixture
def resolved_welfare(city, make_followup, api):
    followup = make_followup("welfare_check", city.worker_a, elder=city.elder_a1, priority="urgent")
    body = _ok(api(city.worker_a, "post", f"/followups/{followup.id}/resolve",
                   json={"version": followup.version, "code": "elder_not_at_home", "note": "邻居说去女儿家了"}))
    return body


def test_reopening_needs_a_supervisor_of_its_region(resolved_welfare, city, api):
    path, version = f"/followups/{resolved_welfare['id']}/reopen", resolved_welfare["version"]
    _problem(api(city.worker_a, "post", path, json={"version": version, "reason": "再确认"}), 403, "forbidden")
    _problem(api(city.supervisor_b, "post", path, json={"version": version, "reason": "再确认"}), 404, "not_found")
    _problem(api(city.caregiver, "post", path, json={"version": version, "reason": "再确认"}), 404, "not_found")


def test_reopening_needs_a_reason(resolved_welfare, city, api):
    body = _problem(api(city.supervisor_a, "post", f"/followups/{resolved_welfare['id']}/reopen",
                        json={"version": resolved_welfare["version"], "reason": ""}), 422, "validation_failed")
    assert list(body["errors"]) == ["reason"]


def test_a_supervisor_reopens_with_a_reason_and_the_owner_is_told(resolved_welfare, city, api, clock):
    body = _ok(api(city.supervisor_a, "post", f"/followups/{resolved_welfare['id']}/reopen",
                   json={"version": resolved_welfare["version"], "reason": "家属说老人并未去女儿家"}))
    assert body["status"] == "open" and body["resolution_code"] is None
    assert body["due_at"] == (clock() + timedelta(hours=2)).isoformat()
    reopened = body["events"][-1]
    assert reopened["action"] == "reopened" and reopened["data"]["previous"]["resolution_code"] == "elder_not_at_home"
    assert [e["action"] for e in body["events"]] == ["opened", "resolved", "reopened"]
    told = db.session.execute(select(Notification).where(Notification.event == "reopened")).scalar_one()
    assert told.user_id == city.worker_a.id and told.body == "家属说老人并未去女儿家"


def test_reopening_an_unresolved_follow_up_is_a_conflict(missed, city, api):
    _problem(api(city.supervisor_a, "post", f"/followups/{missed.id}/reopen",
                 json={"version": missed.version, "reason": "?"}), 409, "not_resolved")
