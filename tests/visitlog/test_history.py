"""GET /audit/visits/{id}: a visit's row and everything that touched it, in time order, with who did it."""

from datetime import timedelta

from backend.extensions import db
from backend.followups.models import Followup, FollowupEvent
from backend.reviews.models import Review
from backend.tasks.jobs import sweep_job
from backend.visits.models import Visit


def _history(audit, user, task):
    response = audit(user, f"/api/v1/audit/visits/{task.id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _visit_with_a_duplicate_and_a_quarantined_item(f):
    check_in = f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door)
    check_out = f.phone.item("check_out", f.task.id, f.start + timedelta(minutes=25), qr=f.qr, location=f.at_door,
                             services=[{"service_type": "meal", "outcome": "done"}], satisfaction=4)
    f.clock.set(f.start + timedelta(minutes=26))
    # The phone's clock runs three minutes behind the server's.
    assert f.phone.push([check_in, check_out], device_time=f.clock() - timedelta(minutes=3)).status_code == 200
    f.clock.advance(minutes=5)
    bad = f.phone.item("note", f.task.id, f.start, location={"lat": 123, "lon": 0, "accuracy_m": 5})
    assert f.phone.push([check_out, bad]).status_code == 200  # the answer was lost: resent, plus a bad item
    return check_in, check_out, bad


def test_the_history_shows_items_a_duplicate_a_quarantined_item_and_state_changes_with_who(field, city, audit):
    check_in, check_out, bad = _visit_with_a_duplicate_and_a_quarantined_item(field)
    history = _history(audit, city.supervisor_a, field.task)["history"]
    # Both items came in one push: at one instant, the items read before the changes they caused.
    assert [entry["kind"] for entry in history] == [
        "task_created", "item_accepted", "item_accepted", "state_changed", "state_changed", "item_quarantined",
        "duplicate_received"]
    created, accepted_in, accepted_out, started, completed, quarantined, duplicate = history
    assert created["who"] == {"user_id": None, "username": None, "system": "generator"}
    assert accepted_in["details"]["id"] == check_in["id"] and accepted_in["details"]["flags"] == ["qr_verified"]
    assert accepted_in["details"]["payload"]["type"] == "check_in"
    assert accepted_in["who"] == {"user_id": city.caregiver.id, "username": "cg1", "system": None}
    assert (started["details"]["from_status"], started["details"]["to_status"]) == ("scheduled", "in_progress")
    assert (completed["details"]["from_status"], completed["details"]["to_status"]) == ("in_progress", "completed")
    assert completed["who"] == {"user_id": city.caregiver.id, "username": "cg1", "system": "sync"}
    assert quarantined["details"]["code"] == "invalid_item" and quarantined["details"]["item_id"] == bad["id"]
    assert duplicate["details"]["item_ids"] == [check_out["id"]] and duplicate["who"]["username"] == "cg1"
    assert [entry["at"] for entry in history] == sorted(entry["at"] for entry in history)


def test_the_row_keeps_device_and_corrected_times_and_the_evidence(field, city, audit):
    _visit_with_a_duplicate_and_a_quarantined_item(field)
    row = _history(audit, city.admin, field.task)["visit"]
    start = field.start
    assert row["check_in_at"] == start.isoformat()
    assert row["check_in_at_corrected"] == (start + timedelta(minutes=3)).isoformat()
    assert row["check_out_at"] == (start + timedelta(minutes=25)).isoformat()
    assert (row["duration_seconds"], row["status"], row["satisfaction"]) == (25 * 60, "completed", 4)
    assert row["is_verified"] is True and row["check_in_qr"] == row["check_out_qr"] == "qr_verified"
    assert row["distance_m"] == 0 and row["flags"] == [] and row["is_late_sync"] is False
    assert (row["provider_name"], row["community_name"], row["performed_by_id"]) == (
        "颐康居家养老服务中心", "长青社区", city.caregiver.id)


def test_a_missed_visit_synced_late_shows_the_sweep_then_the_caregiver(field, city, audit):
    f = field
    yesterday = f.tasks[0]
    f.clock.set(yesterday.missed_after_at + timedelta(minutes=1))
    sweep_job()
    f.clock.set(yesterday.window_start_at + timedelta(hours=20))  # the next morning: missed, yet no late_upload
    late = f.phone.item("check_in", yesterday.id, yesterday.window_start_at + timedelta(minutes=5), qr=f.qr,
                        location=f.at_door)
    assert f.phone.push([late]).status_code == 200
    body = _history(audit, city.admin, yesterday)
    changes = [(e["details"]["to_status"], e["who"]["username"], e["who"]["system"])
               for e in body["history"] if e["kind"] == "state_changed"]
    assert changes == [("missed", None, "sweep"), ("completed", "cg1", "sync")]
    assert "after_missed" in body["visit"]["flags"] and body["visit"]["is_late_sync"] is True
    assert [f["kind"] for f in body["visit"]["followups"]] == ["missed_visit"]
    steps = [e["details"]["action"] for e in body["history"] if e["kind"] == "followup_event"]
    assert steps[-1] == "auto_resolved"


def test_follow_up_steps_appear_in_the_history_and_the_row(field, city, audit):
    f = field
    followup = Followup(kind="unverified_visit", dedupe_key=f"test:{f.task.id}", task_id=f.task.id,
                        elder_id=city.elder_a1.id, due_at=f.now + timedelta(days=1), summary="核实", opened_at=f.now)
    db.session.add(followup)
    db.session.flush()
    db.session.add_all([FollowupEvent(followup_id=followup.id, at=f.now, action="opened", by_system="sync"),
                        FollowupEvent(followup_id=followup.id, at=f.now + timedelta(hours=1), action="resolved",
                                      by_user_id=city.supervisor_a.id, note="家属确认")])
    db.session.commit()
    body = _history(audit, city.admin, f.task)
    assert body["visit"]["followups"] == [{"id": followup.id, "kind": "unverified_visit", "status": "open"}]
    steps = [(e["details"]["action"], e["who"]["username"], e["who"]["system"])
             for e in body["history"] if e["kind"] == "followup_event"]
    assert steps == [("opened", None, "sync"), ("resolved", "sup_a", None)]


def test_review_decisions_appear_in_the_history(field, city, audit):
    f = field
    _visit_with_a_duplicate_and_a_quarantined_item(f)
    visit = db.session.query(Visit).one()
    db.session.add(Review(task_id=f.task.id, visit_id=visit.id, seq=1, decision="approved",
                          reason_code="evidence_sufficient", comment="证据充分",
                          decided_by_id=city.supervisor_a.id, decided_at=f.clock() + timedelta(hours=1)))
    db.session.commit()
    last = _history(audit, city.admin, f.task)["history"][-1]
    assert last["kind"] == "review" and last["who"]["username"] == "sup_a"
    assert (last["details"]["decision"], last["details"]["reason_code"]) == ("approved", "evidence_sufficient")


def test_an_unknown_visit_is_404(city, audit):
    assert audit(city.admin, "/api/v1/audit/visits/999999").status_code == 404
