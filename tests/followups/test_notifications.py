"""Notifications: one per person per event, read through the API with read state, delivered by a sender."""

import logging

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.followups.delivery import deliver_pending
from backend.followups.jobs import delivery_job, escalation_job
from backend.followups.models import Followup, Notification
from backend.tasks.jobs import sweep_job
from tests.followups.conftest import count, fresh


def _ok(response, status=200):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _keys():
    return sorted(db.session.execute(select(Notification.dedupe_key)).scalars())


def test_re_running_the_jobs_notifies_nobody_twice(missed, clock):
    sweep_job()
    clock.set(missed.due_at)
    escalation_job()
    keys = _keys()
    escalation_job()
    clock.advance(minutes=5)
    escalation_job()
    assert _keys() == keys
    # a sweep in yesterday's window flagged the visit late: a late start for the caregiver and the
    # manager; then the follow-up's assignment, escalation and overdue notice
    assert sorted(k.split(":")[0] for k in keys) == ["assigned", "escalated", "late_start", "late_start", "overdue"]


def test_each_person_reads_only_their_own_notifications(missed, manager, city, api):
    mine = _ok(api(manager, "get", "/notifications"))["items"]
    assert sorted((n["event"], n["followup_id"] or 0, n["is_read"]) for n in mine) == [
        ("assigned", missed.id, False), ("late_start", 0, False)]
    assert _ok(api(city.supervisor_a, "get", "/notifications"))["items"] == []
    response = api(city.supervisor_a, "post", f"/notifications/{mine[0]['id']}/read")
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"
    assert db.session.get(Notification, mine[0]["id"]).read_at is None


def test_reading_a_notification_keeps_its_read_state(missed, manager, api, clock):
    first, second = _ok(api(manager, "get", "/notifications"))["items"]
    read = _ok(api(manager, "post", f"/notifications/{first['id']}/read"))
    assert read["is_read"] and read["read_at"] == clock().isoformat()
    clock.advance(minutes=10)
    again = _ok(api(manager, "post", f"/notifications/{first['id']}/read"))
    assert again["read_at"] == read["read_at"]
    unread = _ok(api(manager, "get", "/notifications", query_string={"unread": "true"}))["items"]
    assert [n["id"] for n in unread] == [second["id"]]
    read_ones = _ok(api(manager, "get", "/notifications", query_string={"unread": "false"}))["items"]
    assert [n["id"] for n in read_ones] == [first["id"]]


def test_read_all_marks_every_unread_one_and_phones_see_it(missed, manager, clock, api):
    clock.set(missed.due_at)
    escalation_job()  # the manager is now told it is overdue, too
    before = max(db.session.execute(select(Notification.change_seq)).scalars())
    assert _ok(api(manager, "post", "/notifications/read-all")) == {"marked": 3}
    assert _ok(api(manager, "post", "/notifications/read-all")) == {"marked": 0}
    db.session.expire_all()
    rows = db.session.execute(select(Notification).where(Notification.user_id == manager.id)).scalars().all()
    assert all(n.read_at is not None and n.change_seq > before for n in rows)


def test_the_logging_sender_delivers_and_marks_each_notification(missed, clock, caplog):
    clock.set(missed.due_at)
    escalation_job()
    pending = count(Notification, Notification.delivered_at.is_(None))
    seqs = dict(db.session.execute(select(Notification.id, Notification.change_seq)).all())
    with caplog.at_level(logging.INFO, logger="backend.followups.delivery"):
        assert delivery_job() == pending == 5
    lines = [r.getMessage() for r in caplog.records if r.name == "backend.followups.delivery"]
    assert len(lines) == 5 and any("mgr_yikang: assigned" in line for line in lines)
    db.session.expire_all()
    rows = db.session.execute(select(Notification)).scalars().all()
    assert all(n.delivered_at == clock() and n.delivered_via == "log" for n in rows)
    assert seqs == {n.id: n.change_seq for n in rows}  # delivery is no news for phones
    assert delivery_job() == 0


def test_a_failing_sender_leaves_the_notification_for_the_next_run(missed):
    class Down:
        name = "down"

        def send(self, notification):
            raise ConnectionError("gateway unreachable")

    assert deliver_pending(sender=Down()) == 0
    db.session.commit()
    assert count(Notification, Notification.delivered_at.is_(None)) == 3
    assert delivery_job() == 3


def test_an_unknown_sender_is_a_configuration_error(missed, app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFICATION_SENDER", "carrier_pigeon")
    with pytest.raises(ValueError, match="carrier_pigeon"):
        delivery_job()


def test_a_resolved_follow_ups_notifications_stay_readable(missed, manager, api):
    _ok(api(manager, "post", f"/followups/{missed.id}/resolve", json={"version": missed.version,
                                                                      "code": "caregiver_absent"}))
    assert fresh(Followup, missed.id).status == "resolved"
    events = sorted(n["event"] for n in _ok(api(manager, "get", "/notifications"))["items"])
    assert events == ["assigned", "late_start"]
