"""Exactly once through the faults a phone meets: lost answers, a killed app, expired tokens, 413."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backend.auth.tokens import encode_access_token
from backend.extensions import db
from backend.tasks.models import Task, TaskEvent
from backend.visits.models import Visit, VisitItem
from sync.client import Store
from tests.conftest import PASSWORD
from tests.e2e.conftest import PUSH, REFRESH, count, visit_once


@pytest.fixture
def phone(make_phone, round_of_visits, clock):
    """The caregiver's phone, signed in and pulled, standing at the first door at 11:05."""
    phone = make_phone()
    phone.login("cg1", PASSWORD)
    phone.pull()
    clock.set(round_of_visits[0].task.window_start_at + timedelta(minutes=5))
    return phone


def items_sent(transport) -> list[str]:
    """Each push attempt's items, serialized: a resend must be byte-for-byte the same."""
    return [json.dumps(exchange.request.body["items"], sort_keys=True) for exchange in transport.sent(PUSH)]


def test_an_answer_lost_after_the_server_committed_is_resent_and_answered_duplicate(phone, round_of_visits,
                                                                                     transport, make_phone, clock):
    stop = round_of_visits[0]
    visit_once(phone, stop, clock)
    transport.lose_answers = 1  # the server commits, then the connection drops

    summary = phone.push()

    assert (summary.accepted, summary.duplicate) == (0, 2)
    sent = items_sent(transport)
    assert len(sent) == 2 and sent[0] == sent[1]
    assert make_phone.sleeps and make_phone.sleeps[0] >= 0.5  # backed off before resending
    assert [row["status"] for row in phone.store.outbox()] == ["acked", "acked"]
    db.session.expire_all()
    assert count(VisitItem) == 2 and count(Visit) == 1
    assert count(TaskEvent, TaskEvent.task_id == stop.task.id, TaskEvent.to_status == "completed") == 1


class Killed(BaseException):
    """The phone OS killed the app: nothing after this point of the push ran."""


def test_a_phone_killed_between_the_servers_commit_and_its_ack_resends_on_restart(round_of_visits, make_phone,
                                                                                   transport, clock, tmp_path,
                                                                                   monkeypatch):
    path = str(tmp_path / "phone.sqlite3")
    phone = make_phone(Store(path))
    phone.login("cg1", PASSWORD)
    phone.pull()
    clock.set(round_of_visits[0].task.window_start_at + timedelta(minutes=5))
    recorded = visit_once(phone, round_of_visits[0], clock) + [phone.record_note(round_of_visits[0].task.id, "已送餐")]

    def killed(results):
        raise Killed()

    monkeypatch.setattr(phone.store, "ack", killed)
    with pytest.raises(Killed):
        phone.push()
    assert count(VisitItem) == 3  # the server committed the batch; the phone never recorded that
    phone.store.close()

    restarted = make_phone(Store(path))
    assert restarted.device_id == "phone-under-test"
    assert [row["status"] for row in restarted.store.outbox()] == ["pending"] * 3
    summary = restarted.push()

    assert (summary.accepted, summary.duplicate) == (0, 3)
    sent = items_sent(transport)
    assert len(sent) == 2 and sent[0] == sent[1]
    assert [(row["id"], row["status"], row["result"]["status"]) for row in restarted.store.outbox()] == \
        [(item_id, "acked", "duplicate") for item_id in recorded]
    db.session.expire_all()
    assert sorted(db.session.execute(select(VisitItem.id)).scalars()) == sorted(recorded)


def test_an_expired_access_token_is_refreshed_and_the_identical_batch_accepted_once(phone, round_of_visits, city,
                                                                                      transport, app, clock):
    visit_once(phone, round_of_visits[0], clock)
    # Tokens are checked against real time, not the test clock: mint one that ran out an hour ago.
    expired = encode_access_token(app.config["TOKEN_SECRET"], user_id=city.caregiver.id, role="caregiver",
                                  device_id=phone.device_id, family_id="f" * 32,
                                  now=datetime.now(UTC) - timedelta(hours=1),
                                  lifetime=app.config["ACCESS_TOKEN_LIFETIME"])
    phone.store.put("access_token", expired)
    old_refresh = phone.store.get("refresh_token")

    summary = phone.push()

    assert (summary.accepted, summary.duplicate, summary.rejected) == (2, 0, 0)
    assert [(e.status, e.code) for e in transport.sent(PUSH)] == [(401, "token_expired"), (200, None)]
    assert [e.status for e in transport.sent(REFRESH)] == [200]
    sent = items_sent(transport)
    assert sent[0] == sent[1]
    assert phone.store.get("refresh_token") not in (None, old_refresh)  # rotated, and kept
    db.session.expire_all()
    assert count(VisitItem) == 2
    assert db.session.get(Task, round_of_visits[0].task.id).status == "completed"


def test_an_oversized_batch_is_refused_413_and_the_client_halves_it_until_it_fits(make_phone, round_of_visits,
                                                                                  transport, clock):
    phone = make_phone(batch_size=600)  # above the server's 500
    phone.login("cg1", PASSWORD)
    task_id = round_of_visits[0].task.id
    recorded = [phone.record_note(task_id, f"第{n}条记录") for n in range(501)]

    summary = phone.push()

    assert (summary.accepted, summary.duplicate, summary.rejected) == (501, 0, 0)
    assert [(e.status, len(e.request.body["items"])) for e in transport.sent(PUSH)] == \
        [(413, 501), (200, 250), (200, 250), (200, 1)]
    assert transport.sent(PUSH)[0].code == "payload_too_large"
    assert all(row["status"] == "acked" for row in phone.store.outbox())
    db.session.expire_all()
    assert sorted(db.session.execute(select(VisitItem.id)).scalars()) == sorted(recorded)


def test_a_body_over_two_mebibytes_is_refused_413_and_the_client_halves_it(make_phone, round_of_visits, transport):
    phone = make_phone(batch_size=270)  # under the item limit; 270 notes of 8 KB are over the byte limit
    phone.login("cg1", PASSWORD)
    long_note = "\U00020000" * 2000  # a CJK Extension B character: four bytes in UTF-8
    recorded = [phone.record_note(round_of_visits[0].task.id, long_note) for _ in range(270)]

    summary = phone.push()

    assert summary.accepted == 270
    assert [(e.status, e.code, len(e.request.body["items"])) for e in transport.sent(PUSH)] == \
        [(413, "payload_too_large", 270), (200, None, 135), (200, None, 135)]
    assert count(VisitItem) == len(recorded)
