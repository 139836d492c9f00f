"""Items the database cannot hold are rejected and quarantined alone; the batch's good items go in."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.visits.models import QuarantinedItem, VisitItem


def _count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def _results(response):
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]


@pytest.mark.parametrize("captured_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
                                         "1999-12-31T23:59:59+00:00", "2101-01-01T00:00:00Z"])
def test_an_item_captured_outside_the_calendar_is_quarantined_beside_a_good_one(field, client, captured_at):
    f = field
    bad = f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door)
    bad["captured_at"] = captured_at
    good = f.phone.item("check_in", f.tasks[2].id, f.start + timedelta(days=1), qr=f.qr, location=f.at_door)
    results = _results(f.phone.push([bad, good]))
    assert [(r["status"], r["code"]) for r in results] == [("rejected", "invalid_item"), ("accepted", "accepted")]
    assert results[0]["message"].startswith("captured_at: ")
    assert _count(VisitItem) == 1 and _count(QuarantinedItem) == 1
    quarantined = db.session.execute(select(QuarantinedItem)).scalar_one()
    assert quarantined.payload["captured_at"] == captured_at and quarantined.task_id == f.task.id
    # Nothing unreadable was stored: the task reads back.
    assert client.get(f"/api/v1/tasks/{f.task.id}", headers=f.phone.headers).status_code == 200


@pytest.mark.parametrize("place", ["qr", "service_type", "reason"])
def test_a_nul_character_in_an_item_is_rejected_and_quarantined_as_sent(field, place):
    f = field
    check_in = f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door)
    service = {"service_type": "meal", "outcome": "refused", "reason": "老人不在家"}
    check_out = f.phone.item("check_out", f.task.id, f.start + timedelta(minutes=25), qr=f.qr, location=f.at_door,
                             services=[service])
    if place == "qr":
        check_out["qr"] = f.qr + "\x00"
    else:
        service[place] = service[place] + "\x00"
    results = _results(f.phone.push([check_in, check_out]))
    assert [r["status"] for r in results] == ["accepted", "rejected"]
    assert place in results[1]["message"]
    db.session.expire_all()
    quarantined = db.session.execute(select(QuarantinedItem)).scalar_one()
    assert "\x00" in (quarantined.payload["qr"] if place == "qr" else quarantined.payload["services"][0][place])


def test_a_nul_character_in_a_note_is_rejected_naming_the_text(field):
    f = field
    results = _results(f.phone.push([f.phone.item("note", f.task.id, f.start, text="门\x00口")]))
    assert results[0]["status"] == "rejected" and results[0]["message"].startswith("text: ")
    assert db.session.execute(select(QuarantinedItem)).scalar_one().payload["text"] == "门\x00口"


@pytest.mark.parametrize("where", ["unknown_key", "location_key", "id"])
def test_a_nul_character_in_a_key_or_an_id_is_quarantined_not_a_server_error(field, where):
    f = field
    bad = f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=dict(f.at_door))
    if where == "unknown_key":
        bad["no\x00te"] = 1
    elif where == "location_key":
        bad["location"]["l\x00at"] = 1
    else:
        bad["id"] = "abc\x00def"
    good = f.phone.item("check_in", f.tasks[2].id, f.start + timedelta(days=1), qr=f.qr, location=f.at_door)
    results = _results(f.phone.push([bad, good]))
    assert [r["status"] for r in results] == ["rejected", "accepted"]
    quarantined = db.session.execute(select(QuarantinedItem)).scalar_one()
    assert "\x00" not in (quarantined.item_uuid or "") + quarantined.message
