"""Opaque, signed pull cursors: what a phone already holds, and where a paged pull resumes."""

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

VERSION = 1
MAX_AGE = timedelta(days=45)
MAX_LENGTH = 1024
_MAC_BYTES = 16
_REQUIRED = {"u", "d", "s", "f", "t", "i"}
KINDS = ("elder", "elder_removal", "task", "task_removal")


class CursorInvalid(ValueError):
    """A cursor the server will not honour; the pull then answers a fresh snapshot (reset)."""

    REASONS = ("malformed", "forged", "foreign", "expired")

    def __init__(self, reason: str):
        assert reason in self.REASONS, reason
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AfterKey:
    """The last row sent in a page: rows are sent in (change_seq, kind, id) order."""

    change_seq: int
    kind: str
    id: int

    def as_tuple(self) -> tuple[int, str, int]:
        return (self.change_seq, self.kind, self.id)


@dataclass(frozen=True)
class Paging:
    """A pull that did not fit one page. Every page of it reads changes in (seq, seq_high]."""

    seq_high: int
    after: AfterKey | None = None
    is_snapshot: bool = False  # a snapshot pages over current rows; a delta over changes and removals


@dataclass(frozen=True)
class CursorState:
    user_id: int
    device_id: str
    seq: int  # every change with change_seq <= seq is on the phone
    from_on: date  # the window of tasks the phone holds, inclusive
    to_on: date
    issued_at: datetime
    paging: Paging | None = None
    # The digest of the task set the phone holds after the pull that issued this cursor
    # (count, hash); only on completed cursors. It lets the server answer "nothing changed"
    # without reading the task set again.
    digest: tuple[int, str] | None = None

    def for_pull(self, current_seq: int) -> "CursorState":
        """The state a pull works from: the paging under way, or a new delta up to `current_seq`."""
        return self if self.paging else replace(self, paging=Paging(seq_high=current_seq))

    def next_page(self, after: AfterKey, now: datetime) -> "CursorState":
        assert self.paging is not None
        return replace(self, paging=replace(self.paging, after=after), issued_at=now, digest=None)

    def completed(self, now: datetime, digest: dict | None = None) -> "CursorState":
        """The cursor after the last page: everything up to seq_high is now on the phone, whose
        task set has `digest` (as task_set_digest gives it) when the server passes one."""
        high = self.paging.seq_high if self.paging else self.seq
        held = (int(digest["count"]), str(digest["hash"])) if digest else None
        return replace(self, seq=high, paging=None, issued_at=now, digest=held)


def new_snapshot(*, user_id: int, device_id: str, from_on: date, to_on: date, seq_high: int,
                 now: datetime) -> CursorState:
    """The state of a first pull, or of a reset: every current row up to `seq_high`, in pages."""
    return CursorState(user_id, device_id, 0, from_on, to_on, now, Paging(seq_high, is_snapshot=True))


def device_tag(device_id: str) -> str:
    # A short hash binds the cursor to the device without putting the device id in clear.
    return _b64(hashlib.sha256(device_id.encode()).digest()[:8])


def encode_cursor(key: bytes, state: CursorState) -> str:
    """`<base64url(compact JSON)>.<base64url(HMAC-SHA256[:16])>`."""
    body = _b64(json.dumps(_to_wire(state), separators=(",", ":")).encode())
    return f"{body}.{_sign(key, body)}"


def decode_cursor(key: bytes, s: str, *, user_id: int, device_id: str, now: datetime,
                  max_age: timedelta = MAX_AGE) -> CursorState:
    """The state a cursor carries, or CursorInvalid(malformed | forged | foreign | expired)."""
    if not isinstance(s, str) or not s.isascii() or len(s) > MAX_LENGTH or s.count(".") != 1:
        raise CursorInvalid("malformed")
    body, mac = s.split(".")
    if not hmac.compare_digest(_sign(key, body), mac):
        raise CursorInvalid("forged")
    wire = _unwire(body)
    if wire["u"] != user_id or wire["d"] != device_tag(device_id):
        raise CursorInvalid("foreign")
    state = _from_wire(wire, device_id)
    if now - state.issued_at > max_age or state.issued_at - now > timedelta(minutes=5):
        raise CursorInvalid("expired")
    return state


def _to_wire(state: CursorState) -> dict:
    wire = {
        "v": VERSION, "u": state.user_id, "d": device_tag(state.device_id), "s": state.seq,
        "f": state.from_on.isoformat(), "t": state.to_on.isoformat(), "i": int(state.issued_at.timestamp()),
    }
    if state.paging:
        page = state.paging
        after = list(page.after.as_tuple()) if page.after else None
        wire["p"] = [page.seq_high, after, int(page.is_snapshot)]
    if state.digest:
        wire["g"] = list(state.digest)
    return wire


def _unwire(body: str) -> dict:
    try:
        wire = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        raise CursorInvalid("malformed") from None
    # Signed but unreadable means a cursor of another format version: not forged, just unusable.
    if not isinstance(wire, dict) or wire.get("v") != VERSION or not _REQUIRED <= wire.keys():
        raise CursorInvalid("malformed")
    return wire


def _from_wire(wire: dict, device_id: str) -> CursorState:
    try:
        return CursorState(
            user_id=wire["u"], device_id=device_id, seq=int(wire["s"]),
            from_on=date.fromisoformat(wire["f"]), to_on=date.fromisoformat(wire["t"]),
            issued_at=datetime.fromtimestamp(int(wire["i"]), UTC), paging=_paging(wire.get("p")),
            digest=_digest(wire.get("g")),
        )
    except (TypeError, ValueError, KeyError, IndexError):
        raise CursorInvalid("malformed") from None


def _paging(raw) -> Paging | None:
    if raw is None:
        return None
    seq_high, after, is_snapshot = raw
    if after is not None:
        if after[1] not in KINDS:
            raise ValueError("unknown kind")
        after = AfterKey(int(after[0]), after[1], int(after[2]))
    return Paging(int(seq_high), after, bool(is_snapshot))


def _digest(raw) -> tuple[int, str] | None:
    if raw is None:
        return None
    count, digest_hash = raw
    if not isinstance(digest_hash, str) or isinstance(count, bool) or not isinstance(count, int):
        raise ValueError("bad digest")
    return count, digest_hash


def _sign(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, b"cursor|" + body.encode(), hashlib.sha256).digest()[:_MAC_BYTES])


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
