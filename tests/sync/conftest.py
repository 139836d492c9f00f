"""Fixtures for the sync unit tests: a controllable clock and an in-memory fake sync server."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from marshmallow import ValidationError

from schemas.sync import MAX_BODY_BYTES, envelope_schema, validate_item
from sync.client.api import HttpRequest, HttpResponse, NetworkError
from sync.cursor import AfterKey, CursorInvalid, CursorState, decode_cursor, encode_cursor, new_snapshot
from sync.digest import task_set_digest
from sync.items import item_fingerprint
from sync.rules import missing_seqs, seq_ranges

CURSOR_KEY = b"c" * 32


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


def problem(status: int, code: str, headers: dict | None = None) -> HttpResponse:
    body = {"type": "about:blank", "title": code, "status": status, "code": code}
    return HttpResponse(status, body, headers or {})


class FakeServer:
    """Just enough of the protocol in docs/sync-protocol.md to drive PhoneClient, with faults on demand.

    `faults` is consumed one per request: "network" (lost before the server saw it), "lost_answer"
    (the server commits, then the answer is lost), an int status (answered as a problem), a
    (status, headers) pair, or "token_expired" (401 once).
    """

    def __init__(self, clock: Clock):
        self.clock = clock
        self.user_id, self.password = 7, "secret"
        self.faults: list = []
        self.max_items: int | None = None  # answer 413 to larger batches
        self.requests: list[HttpRequest] = []
        self.tokens = {"access": "a0", "refresh": "r0"}
        self.seq = 0
        self.tasks: dict[int, dict] = {}
        self.removals: list[tuple[int, int, str]] = []  # (change_seq, task_id, reason)
        self.items: dict[str, tuple[str, dict]] = {}  # item id → (fingerprint, result)
        self.held_seqs: set[int] = set()

    # --- what a test sets up -------------------------------------------------------------
    def add_task(self, task_id: int) -> None:
        self.seq += 1
        old = self.tasks.get(task_id, {"version": 0})
        self.tasks[task_id] = {"id": task_id, "version": old["version"] + 1, "kind": "service",
                               "status": "scheduled", "elder_id": 100 + task_id, "change_seq": self.seq}

    def cancel_task(self, task_id: int) -> None:
        self.seq += 1
        del self.tasks[task_id]
        self.removals.append((self.seq, task_id, "cancelled"))

    # --- the transport -------------------------------------------------------------------
    def __call__(self, request: HttpRequest) -> HttpResponse:
        request = HttpRequest(request.method, request.path, dict(request.query),
                              json.loads(json.dumps(request.body)), dict(request.headers))
        self.requests.append(request)
        fault = self.faults.pop(0) if self.faults else None
        if fault == "network":
            raise NetworkError("connection reset")
        if isinstance(fault, int):
            return problem(fault, "service_unavailable")
        if isinstance(fault, tuple):
            return problem(fault[0], "too_many_requests", fault[1])
        if request.path.startswith("/api/v1/auth/"):
            return self._auth(request)
        if fault == "token_expired":
            return problem(401, "token_expired")
        if request.headers.get("Authorization") != f"Bearer {self.tokens['access']}":
            return problem(401, "invalid_token")
        answer = self._pull(request) if request.path == "/api/v1/sync/pull" else self._push(request)
        if fault == "lost_answer":
            raise NetworkError("timed out reading the answer")
        return answer

    def _auth(self, request: HttpRequest) -> HttpResponse:
        body = request.body
        if request.path.endswith("/login") and body["password"] != self.password:
            return problem(401, "invalid_credentials")
        if request.path.endswith("/refresh") and body["refresh_token"] != self.tokens["refresh"]:
            return problem(401, "refresh_token_reused")
        n = int(self.tokens["access"][1:]) + 1
        self.tokens = {"access": f"a{n}", "refresh": f"r{n}"}
        return HttpResponse(200, {"access_token": self.tokens["access"], "token_type": "Bearer",
                                  "expires_in": 900, "refresh_token": self.tokens["refresh"]})

    def _pull(self, request: HttpRequest) -> HttpResponse:
        now, limit = self.clock(), int(request.query["limit"])
        state = self._cursor(request.query.get("cursor"), request.query["device_id"], now)
        rows = self._rows(state)
        page, more = rows[:limit], len(rows) > limit
        after = AfterKey(page[-1][0], page[-1][1], page[-1][2]["id"]) if more else None
        next_state = state.next_page(after, now) if after else state.completed(now)
        current = [(task["id"], task["version"]) for task in self.tasks.values()]
        return HttpResponse(200, {
            "tasks": {"upserted": [self._wire(row) for _, kind, row in page if kind == "task"],
                      "removed": [row for _, kind, row in page if kind == "task_removal"]},
            "elders": {"upserted": [], "removed": []},
            "cursor": encode_cursor(CURSOR_KEY, next_state), "has_more": more,
            "reset": state.paging.is_snapshot and state.paging.after is None,
            "digest": None if more else task_set_digest(current), "server_time": now.isoformat(),
        })

    @staticmethod
    def _wire(task: dict) -> dict:
        return {key: value for key, value in task.items() if key != "change_seq"}

    def _cursor(self, raw: str | None, device_id: str, now: datetime) -> CursorState:
        if raw:
            try:
                state = decode_cursor(CURSOR_KEY, raw, user_id=self.user_id, device_id=device_id, now=now)
                return state.for_pull(self.seq)
            except CursorInvalid:
                pass  # answered with a snapshot, as the protocol says
        return new_snapshot(user_id=self.user_id, device_id=device_id, from_on=date(2024, 5, 1),
                            to_on=date(2024, 5, 8), seq_high=self.seq, now=now)

    def _rows(self, state: CursorState) -> list[tuple]:
        low, high = state.seq, state.paging.seq_high
        rows = [(t["change_seq"], "task", t) for t in self.tasks.values() if low < t["change_seq"] <= high]
        if not state.paging.is_snapshot:
            rows += [(seq, "task_removal", {"id": task_id, "reason": reason})
                     for seq, task_id, reason in self.removals if low < seq <= high]
        rows.sort(key=lambda row: (row[0], row[1], row[2]["id"]))
        after = state.paging.after.as_tuple() if state.paging.after else (-1, "", 0)
        return [row for row in rows if (row[0], row[1], row[2]["id"]) > after]

    def _push(self, request: HttpRequest) -> HttpResponse:
        if len(json.dumps(request.body).encode()) > MAX_BODY_BYTES or (
                self.max_items is not None and len(request.body.get("items", [])) > self.max_items):
            return problem(413, "payload_too_large")
        try:
            envelope = envelope_schema.load(request.body)
        except ValidationError:
            return problem(422, "validation_failed")
        results = [self._accept(raw) for raw in envelope["items"]]
        missing = missing_seqs(seq_ranges(self.held_seqs))
        return HttpResponse(200, {"results": results, "missing_seqs": missing,
                                  "server_time": self.clock().isoformat()})

    def _accept(self, raw: dict) -> dict:
        """One item, alone: a resend of held evidence is a duplicate; anything else is judged afresh."""
        if isinstance(raw.get("seq"), int):
            self.held_seqs.add(raw["seq"])  # rejected items count as received too
        data, errors = validate_item(raw)
        if errors:
            return {"id": str(raw.get("id")), "status": "rejected", "code": "invalid_item",
                    "message": json.dumps(errors), "flags": []}
        item_id, fingerprint = str(data["id"]), item_fingerprint(raw)
        if item_id in self.items:
            known, result = self.items[item_id]
            if known != fingerprint:
                return {**result, "status": "rejected", "code": "uuid_reused", "flags": []}
            return {**result, "status": "duplicate"}
        if data["task_id"] not in self.tasks:
            return {"id": item_id, "status": "rejected", "code": "unknown_task", "message": None, "flags": []}
        result = {"id": item_id, "status": "accepted", "code": "accepted", "message": None, "flags": []}
        self.items[item_id] = (fingerprint, result)
        return result


@pytest.fixture(autouse=True)
def _clean_database():
    """Overrides the database fixture of tests/conftest.py: these tests need no app and no database."""
    yield


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2024, 5, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def server(clock) -> FakeServer:
    return FakeServer(clock)
