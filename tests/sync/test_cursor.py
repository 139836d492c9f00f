"""Signed pull cursors: round trips, paging positions, and every way a cursor is refused."""

import base64
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from sync import cursor as cursor_module
from sync.cursor import (
    AfterKey,
    CursorInvalid,
    CursorState,
    Paging,
    decode_cursor,
    encode_cursor,
    new_snapshot,
)

KEY = b"s" * 32
NOW = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def state() -> CursorState:
    return CursorState(user_id=7, device_id="phone-1", seq=1200, from_on=date(2024, 5, 1),
                       to_on=date(2024, 5, 8), issued_at=NOW)


def decode(cursor: str, **overrides) -> CursorState:
    return decode_cursor(KEY, cursor, **{"user_id": 7, "device_id": "phone-1", "now": NOW, **overrides})


def reason_of(cursor: str, **overrides) -> str:
    with pytest.raises(CursorInvalid) as caught:
        decode(cursor, **overrides)
    return caught.value.reason


def test_a_cursor_round_trips(state):
    assert decode(encode_cursor(KEY, state)) == state


def test_a_paging_position_round_trips(state):
    paging = replace(state, paging=Paging(seq_high=1500, after=AfterKey(1301, "task", 88)))
    assert decode(encode_cursor(KEY, paging)) == paging


def test_a_cursor_is_url_safe_and_hides_the_device_id(state):
    cursor = encode_cursor(KEY, state)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert "phone-1" not in base64.urlsafe_b64decode(cursor.split(".")[0] + "==").decode()


def test_a_cursor_signed_with_another_key_is_forged(state):
    assert reason_of(encode_cursor(b"x" * 32, state)) == "forged"


def test_a_cursor_with_an_edited_body_is_forged(state):
    body, mac = encode_cursor(KEY, state).split(".")
    wire = json.loads(base64.urlsafe_b64decode(body + "=="))
    wire["s"] = 0
    edited = base64.urlsafe_b64encode(json.dumps(wire, separators=(",", ":")).encode()).decode().rstrip("=")
    assert reason_of(f"{edited}.{mac}") == "forged"


def test_a_cursor_older_than_45_days_is_expired(state):
    cursor = encode_cursor(KEY, state)
    assert decode(cursor, now=NOW + timedelta(days=44)) == state
    assert reason_of(cursor, now=NOW + timedelta(days=46)) == "expired"


def test_a_cursor_issued_in_the_future_is_expired(state):
    assert reason_of(encode_cursor(KEY, replace(state, issued_at=NOW + timedelta(hours=1)))) == "expired"


def test_another_users_cursor_is_foreign(state):
    assert reason_of(encode_cursor(KEY, state), user_id=8) == "foreign"


def test_another_devices_cursor_is_foreign(state):
    assert reason_of(encode_cursor(KEY, state), device_id="phone-2") == "foreign"


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "é.é", "x" * 2000])
def test_garbage_is_malformed(garbage):
    assert reason_of(garbage) == "malformed"


def test_a_signed_cursor_of_another_format_version_is_malformed(state):
    body = base64.urlsafe_b64encode(b'{"v":99}').decode().rstrip("=")
    assert reason_of(f"{body}.{cursor_module._sign(KEY, body)}") == "malformed"


def test_a_pull_resumes_its_paging_and_completes_at_its_upper_bound(state):
    pulling = state.for_pull(current_seq=1500)
    assert pulling.paging == Paging(seq_high=1500)
    assert pulling.for_pull(current_seq=1600) == pulling  # later pages keep the first page's bound
    second = pulling.next_page(AfterKey(1301, "task", 88), NOW)
    done = decode(encode_cursor(KEY, second)).completed(NOW)
    assert (done.seq, done.paging) == (1500, None)


def test_a_snapshot_starts_from_nothing():
    snapshot = new_snapshot(user_id=7, device_id="phone-1", from_on=date(2024, 5, 1), to_on=date(2024, 5, 8),
                            seq_high=900, now=NOW)
    assert snapshot.seq == 0 and snapshot.paging == Paging(900, is_snapshot=True)
    assert decode(encode_cursor(KEY, snapshot)) == snapshot


def test_a_completed_cursor_carries_the_digest_it_left_the_phone_with(state):
    digest = {"count": 3, "hash": "0" * 32}
    done = state.for_pull(current_seq=1500).completed(NOW, digest)
    assert done.digest == (3, "0" * 32) and decode(encode_cursor(KEY, done)) == done
    assert done.for_pull(1600).next_page(AfterKey(1501, "task", 9), NOW).digest is None  # a page has none yet


@pytest.mark.parametrize("bad", [[3], "3:abc", [True, "abc"], ["3", "abc"], [3, 4]])
def test_a_signed_cursor_with_an_unreadable_digest_is_malformed(state, bad):
    wire = {**cursor_module._to_wire(state), "g": bad}
    body = base64.urlsafe_b64encode(json.dumps(wire).encode()).decode().rstrip("=")
    assert reason_of(f"{body}.{cursor_module._sign(KEY, body)}") == "malformed"
