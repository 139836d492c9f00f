"""Pushing check-ins: exactly once, item by item, nothing dropped, presence checked."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.plates.services import issue_plate, plate_payload
from backend.tasks.models import Task
from backend.tasks.services import cancel, reassign
from backend.visits.models import QuarantinedItem, Visit, VisitItem


def _count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def _results(response):
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]


def test_a_check_in_and_out_at_the_door_completes_the_task_verified(field):
    f = field
    f.clock.set(f.start + timedelta(minutes=26))
    results = _results(f.phone.push([
        f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door),
        f.phone.item("check_out", f.task.id, f.start + timedelta(minutes=25), qr=f.qr, location=f.at_door,
                     services=[{"service_type": "meal", "outcome": "done"}], satisfaction=5),
    ], device_time=f.clock()))
    assert [r["status"] for r in results] == ["accepted", "accepted"]
    assert results[0]["flags"] == ["qr_verified"]
    db.session.expire_all()
    assert db.session.get(Task, f.task.id).status == "completed"
    visit = db.session.execute(select(Visit)).scalar_one()
    assert visit.duration_seconds == 25 * 60 and visit.is_verified and visit.satisfaction == 5
    assert not visit.needs_review


def test_a_resent_batch_answers_duplicate_and_writes_nothing(field):
    f = field
    items = [f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door)]
    first = _results(f.phone.push(items))
    before = (_count(VisitItem), db.session.get(Task, f.task.id).version)
    second = _results(f.phone.push(items))  # the response was lost; the phone resends
    db.session.expire_all()
    assert second[0]["status"] == "duplicate" and second[0]["flags"] == first[0]["flags"]
    assert (_count(VisitItem), db.session.get(Task, f.task.id).version) == before


def test_a_uuid_reused_with_another_payload_is_refused(field):
    f = field
    item = f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door)
    _results(f.phone.push([item]))
    forged = dict(item, captured_at=(f.start - timedelta(hours=1)).isoformat())
    result = _results(f.phone.push([forged]))[0]
    assert result["status"] == "rejected" and result["code"] == "uuid_reused"
    assert _count(QuarantinedItem) == 1


def test_one_bad_item_does_not_block_the_others(field):
    f = field
    bad = f.phone.item("check_in", f.task.id, f.start, location={"lat": 123, "lon": 0, "accuracy_m": 5})
    good = f.phone.item("check_in", f.tasks[2].id, f.start + timedelta(days=1), qr=f.qr, location=f.at_door)
    results = _results(f.phone.push([bad, good]))
    assert [r["status"] for r in results] == ["rejected", "accepted"]
    assert results[0]["code"] == "invalid_item" and "location.lat" in results[0]["message"]
    assert _count(VisitItem) == 1 and _count(QuarantinedItem) == 1


def test_a_task_never_assigned_to_the_user_is_rejected_and_quarantined(field, city, make_care_plan):
    from backend.tasks.generation import generate_tasks

    make_care_plan(city.elder_b1, city.other_provider, [("meal", {"freq": "daily", "start": "11:00", "end": "13:00"},
                                                         20, city.caregiver_other)])
    generate_tasks(now=field.now, horizon_days=1)
    db.session.commit()
    other = db.session.execute(select(Task).where(Task.assignee_id == city.caregiver_other.id)).scalars().first()
    result = _results(field.phone.push([field.phone.item("check_in", other.id, field.start, qr=field.qr)]))[0]
    assert result["code"] == "not_assigned" and _count(QuarantinedItem) == 1
    unknown = _results(field.phone.push([field.phone.item("check_in", 999999, field.start)]))[0]
    assert unknown["code"] == "unknown_task"
    assert result["message"] == f"任务 {other.id} 从未分派给您" and unknown["message"] == "任务 999999 不存在"


def test_a_device_other_than_the_signed_in_one_is_not_bound(field):
    f = field
    result = _results(f.phone.push([f.phone.item("check_in", f.task.id, f.start, qr=f.qr)], device_id="stolen"))[0]
    assert result["status"] == "rejected" and result["code"] == "device_not_bound"


@pytest.mark.parametrize("qr_kind, flag", [
    ("forged", "qr_invalid"), ("garbage", "qr_invalid"), ("revoked", "qr_revoked"),
    ("other_elder", "qr_wrong_elder"), ("none", "qr_missing"),
])
def test_presence_that_does_not_verify_is_kept_and_flagged(field, city, qr_kind, flag):
    f = field
    if qr_kind == "forged":
        qr = f.qr[:-4] + ("AAAA" if not f.qr.endswith("AAAA") else "BBBB")
    elif qr_kind == "garbage":
        qr = "https://example.com/not-a-plate"
    elif qr_kind == "revoked":
        qr = f.qr
        issue_plate(city.elder_a1, "static", by=None, at=f.now)  # reissue: the old plate stops counting
        db.session.commit()
    elif qr_kind == "other_elder":
        qr = plate_payload(issue_plate(city.elder_b1, "static", by=None, at=f.now))
        db.session.commit()
    else:
        qr = None
    result = _results(f.phone.push([f.phone.item("check_in", f.task.id, f.start, qr=qr, location=f.at_door)]))[0]
    assert result["status"] == "accepted" and flag in result["flags"]
    assert db.session.execute(select(Visit)).scalar_one().needs_review


def test_a_fix_far_from_home_is_outside_the_geofence(field, city):
    f = field
    away = {"lat": city.elder_a1.lat + 0.01, "lon": city.elder_a1.lon, "accuracy_m": 20}  # ~1.1 km north
    result = _results(f.phone.push([f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=away)]))[0]
    assert "outside_geofence" in result["flags"]


def test_a_check_in_for_a_task_cancelled_offline_is_kept_and_flagged(field):
    f = field
    cancel(f.task, at=f.now, reason="plan_changed", by_system="test")
    db.session.commit()
    result = _results(f.phone.push([f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door)]))[0]
    assert result["status"] == "accepted" and "task_cancelled" in result["flags"]
    db.session.expire_all()
    assert db.session.get(Task, f.task.id).status == "cancelled"


def test_a_check_in_for_a_task_reassigned_offline_is_kept_and_flagged(field, city):
    f = field
    reassign(f.task, city.caregiver_other, at=f.now, by_system="test")
    db.session.commit()
    result = _results(f.phone.push([f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door)]))[0]
    assert result["status"] == "accepted" and "task_reassigned" in result["flags"]


def test_a_check_out_before_its_check_in_across_two_batches(field):
    f = field
    check_in = f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door)
    check_out = f.phone.item("check_out", f.task.id, f.start + timedelta(minutes=5), qr=f.qr, location=f.at_door,
                             services=[{"service_type": "meal", "outcome": "done"}])
    first = _results(f.phone.push([check_out]))[0]
    assert "check_out_without_check_in" in first["flags"]
    second = _results(f.phone.push([check_in]))[0]
    assert second["status"] == "accepted"
    visit = db.session.execute(select(Visit)).scalar_one()
    db.session.refresh(visit)
    assert visit.duration_seconds == 300
    assert "check_out_without_check_in" not in visit.flags and "too_short" in visit.flags  # 5 < 20 minutes


@pytest.mark.parametrize("skew", [timedelta(days=3), -timedelta(days=3)])
def test_a_device_clock_days_off_is_corrected_and_flagged(field, skew):
    f = field
    # The phone's clock is `skew` off: it stamps its captures and its push on that clock.
    device_start = f.start + skew
    result = _results(f.phone.push([f.phone.item("check_in", f.task.id, device_start, qr=f.qr, location=f.at_door)],
                                   device_time=f.now + skew))[0]
    assert "clock_skew" in result["flags"]
    item = db.session.execute(select(VisitItem)).scalar_one()
    assert abs(item.captured_at_corrected - f.start) < timedelta(seconds=30)
    assert item.captured_at == device_start


def test_a_gap_in_sequence_numbers_is_reported(field):
    f = field
    items = [f.phone.item("note", f.task.id, f.start, text=f"note {i}") for i in range(6)]
    response = f.phone.push([items[0], items[1], items[2], items[5], items[6 - 1]])
    assert response.get_json()["missing_seqs"] == [3, 4]
    assert f.phone.push([items[3], items[4]]).get_json()["missing_seqs"] == []


def test_an_oversized_batch_is_413_and_writes_nothing(field):
    f = field
    items = [f.phone.item("note", f.task.id, f.start, text="x") for _ in range(501)]
    response = f.phone.push(items)
    assert response.status_code == 413 and response.get_json()["code"] == "payload_too_large"
    assert _count(VisitItem) == 0 and _count(QuarantinedItem) == 0


def test_a_check_in_for_a_missed_task_completes_it_after_missed(field):
    from backend.tasks.services import transition

    f = field
    transition(f.task, "missed", at=f.now, by_system="sweep")
    db.session.commit()
    result = _results(f.phone.push([f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door)]))[0]
    assert "after_missed" in result["flags"]
    db.session.expire_all()
    assert db.session.get(Task, f.task.id).status == "completed"
    assert db.session.execute(select(Visit)).scalar_one().is_late_sync


def test_field_roles_only(field, city, client, login):
    response = client.post("/api/v1/sync/push", json={"device_id": "x", "device_time": f"{field.now.isoformat()}",
                                                      "items": []}, headers=login(city.supervisor_a))
    assert response.status_code == 403


def test_the_same_batch_posted_twice_at_once_is_stored_once(field, app):
    f = field
    items = [f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door),
             f.phone.item("note", f.task.id, f.start, text="hello")]
    answers = []

    def post():
        with app.test_client() as c:
            envelope = {"device_id": f.phone.device_id, "device_time": f.now.isoformat(), "items": items}
            answers.append(c.post("/api/v1/sync/push", json=envelope, headers=f.phone.headers).get_json())

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r["status"] for answer in answers for r in answer["results"])
    assert statuses == ["accepted", "accepted", "duplicate", "duplicate"]
    assert _count(VisitItem) == 2


def test_a_dynamic_code_verifies_at_its_time_and_a_photo_of_it_replayed_an_hour_later_does_not(field, city):
    from backend.plates.services import dynamic_code

    f = field
    plate = issue_plate(city.elder_a1, "dynamic", by=None, at=f.now)
    db.session.commit()
    shown = dynamic_code(plate, f.start).payload  # what the in-home device displayed at the visit
    live = _results(f.phone.push([f.phone.item("check_in", f.task.id, f.start, qr=shown, location=f.at_door)]))[0]
    assert "dynamic_code_verified" in live["flags"]
    replay_task = f.tasks[2]
    f.clock.set(replay_task.window_start_at + timedelta(hours=1, minutes=5))
    an_hour_later = replay_task.window_start_at + timedelta(hours=1)
    replayed = _results(f.phone.push([f.phone.item(
        "check_in", replay_task.id, an_hour_later, qr=shown, location=f.at_door)]))[0]
    assert replayed["status"] == "accepted" and "qr_invalid" in replayed["flags"]


def test_a_capture_before_the_task_existed_is_flagged(field):
    f = field
    early = f.task.created_at - timedelta(hours=2)
    result = _results(f.phone.push([f.phone.item("note", f.task.id, early, text="early")]))[0]
    assert "before_task_created" in result["flags"]


def test_an_id_stored_by_another_push_after_the_batch_read_is_answered_from_the_stored_row(field, monkeypatch):
    from backend.visits import store

    f = field
    check_in = f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door)
    first = _results(f.phone.push([check_in]))[0]
    version = db.session.get(Task, f.task.id).version
    read, calls = store.held_items, []

    def blind_to_the_first_read(ids):  # as if another push committed the item just after this read
        calls.append(1)
        return {} if len(calls) == 1 else read(ids)

    monkeypatch.setattr(store, "held_items", blind_to_the_first_read)
    note = f.phone.item("note", f.task.id, f.start, text="hello")
    results = _results(f.phone.push([check_in, note]))
    assert [r["status"] for r in results] == ["duplicate", "accepted"]
    assert results[0]["flags"] == first["flags"]
    db.session.expire_all()
    assert _count(VisitItem) == 2 and db.session.get(Task, f.task.id).version == version
    assert "duplicate_check_in" not in db.session.execute(select(Visit)).scalar_one().flags


def test_gaps_are_kept_per_device_and_found_in_history_from_before_the_device_row(field):
    from backend.visits.models import DeviceSeqState

    f = field
    items = [f.phone.item("note", f.task.id, f.start, text=f"note {i}") for i in range(8)]
    assert f.phone.push(items[:3]).get_json()["missing_seqs"] == []
    assert db.session.get(DeviceSeqState, "phone-A").runs == [[0, 2]]
    db.session.execute(DeviceSeqState.__table__.delete())  # as on a device that pushed before the row existed
    db.session.commit()
    assert f.phone.push([items[5]]).get_json()["missing_seqs"] == [3, 4]
    assert f.phone.push([items[7], items[3]]).get_json()["missing_seqs"] == [4, 6]
    db.session.expire_all()
    assert db.session.get(DeviceSeqState, "phone-A").runs == [[0, 3], [5, 5], [7, 7]]


def test_the_response_is_built_exactly_as_the_schema_dumps_it(field, city):
    """The push answers without a marshmallow dump for speed; schemas/sync.py stays the contract."""
    import json

    from schemas.sync import PushResponseSchema

    f = field
    plate = issue_plate(city.elder_b1, "static", by=None, at=f.now)
    db.session.commit()
    items = [f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door),
             f.phone.item("check_in", f.tasks[2].id, f.start + timedelta(days=1), qr=plate_payload(plate)),
             f.phone.item("check_in", f.task.id, f.start, location={"lat": 123, "lon": 0, "accuracy_m": 5})]
    f.phone.seq += 3  # a gap
    items.append(f.phone.item("note", f.task.id, f.start, text="门口放着药"))
    first = f.phone.push(items)
    second = f.phone.push(items[:1])
    schema = PushResponseSchema()
    for response in (first, second):
        body = response.get_json()
        assert {r["status"] for r in body["results"]} <= {"accepted", "duplicate", "rejected"}
        assert json.dumps(body, ensure_ascii=False) == json.dumps(schema.dump(schema.load(body)), ensure_ascii=False)
    body = first.get_json()
    assert [r["status"] for r in body["results"]] == ["accepted", "accepted", "rejected", "accepted"]
    assert body["results"][2]["message"] and body["results"][1]["message"] is None
    assert body["missing_seqs"] and body["server_time"].endswith("+00:00")


def test_a_payload_holding_a_nul_character_is_quarantined_as_sent(field):
    """No text column holds NUL, so the item is refused; its payload is kept verbatim in quarantine
    (the JSON column keeps \\u0000: the set-based insert must not trip over it)."""
    f = field
    note = f.phone.item("note", f.task.id, f.start, text="门\x00口")
    check_in = f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door)
    results = _results(f.phone.push([note, check_in]))
    assert [(r["status"], r["code"]) for r in results] == [("rejected", "invalid_item"), ("accepted", "accepted")]
    db.session.expire_all()
    assert db.session.execute(select(QuarantinedItem)).scalar_one().payload["text"] == "门\x00口"


def test_a_task_id_past_the_integer_range_is_an_unknown_task(field):
    f = field
    results = _results(f.phone.push([f.phone.item("check_in", 2**40, f.start, qr=f.qr, location=f.at_door),
                                     f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door)]))
    assert [(r["status"], r["code"]) for r in results] == [("rejected", "unknown_task"), ("accepted", "accepted")]
    assert _count(QuarantinedItem) == 1


def test_a_push_leaves_one_audit_entry_naming_its_items_visit_and_task(field, city):
    from backend.audit.models import AuditEntry
    from backend.audit.trail import verify_chain

    f = field
    f.clock.set(f.start + timedelta(minutes=26))
    items = [f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door),
             f.phone.item("check_out", f.task.id, f.start + timedelta(minutes=25), qr=f.qr, location=f.at_door,
                          services=[{"service_type": "meal", "outcome": "done"}], satisfaction=5)]
    _results(f.phone.push(items, device_time=f.clock()))
    entry = db.session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
    assert entry.actor == f"user:{city.caregiver.id}" and entry.source == "POST /api/v1/sync/push"
    changes = {(c["table"], c["action"]): c for c in entry.changes}
    assert changes[("visit_items", "push_insert")]["ids"] == sorted(item["id"] for item in items)
    assert changes[("visits", "push_insert")]["task_ids"] == [f.task.id]
    assert changes[("tasks", "push_update")]["transitions"] == [[f.task.id, "scheduled", "completed"]]
    assert ("push_receipts", "insert") in changes and ("device_seq_states", "push_insert") in changes
    assert verify_chain(db.session).ok


def test_a_visit_stays_with_the_caregiver_who_began_it_when_the_task_is_reassigned(field, city, client, login):
    from tests.visits.conftest import Phone

    f = field
    _results(f.phone.push([f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door)]))
    reassign(db.session.get(Task, f.task.id), city.caregiver_other, at=f.now, by_system="test")
    db.session.commit()
    other = Phone(client, login(city.caregiver_other, device_id="phone-B"), "phone-B", f.clock)
    f.clock.set(f.start + timedelta(minutes=26))
    result = _results(other.push([other.item("check_out", f.task.id, f.start + timedelta(minutes=25), qr=f.qr,
                                             location=f.at_door,
                                             services=[{"service_type": "meal", "outcome": "done"}])]))[0]
    assert result["status"] == "accepted"
    db.session.expire_all()
    visit = db.session.execute(select(Visit)).scalar_one()
    assert visit.check_out_item_id == result["id"] and visit.duration_seconds == 25 * 60
    assert visit.user_id == city.caregiver.id
