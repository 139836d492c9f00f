"""PhoneClient: the sync loop a phone follows — log in, pull, record offline, push exactly once."""

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from schemas.sync import NOTIFICATION_HORIZON, validate_item
from sync.client.api import Api, ApiError, NetworkError, Transport
from sync.client.store import Store
from sync.digest import digests_match, task_set_digest

T = TypeVar("T")
ANSWERED = ("accepted", "duplicate", "rejected")  # the server decided; resending cannot change it


class AuthRequired(Exception):
    """The refresh token is gone, expired or revoked: the user must log in again."""


class DigestMismatch(Exception):
    """Even after a full snapshot the local task set differs from the server's."""


@dataclass
class PushSummary:
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    requeued: int = 0  # acked items the server reported missing, queued to be sent again
    rejections: list[dict] = field(default_factory=list)  # for the app to show the user

    def count(self, result: dict) -> None:
        setattr(self, result["status"], getattr(self, result["status"]) + 1)
        if result["status"] == "rejected":
            self.rejections.append(result)


class PhoneClient:
    def __init__(self, store: Store, transport: Transport, *, device_id: str | None = None,
                 clock: Callable[[], datetime] | None = None, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None, batch_size: int = 100, pull_limit: int = 500, max_pages: int = 100,
                 max_attempts: int = 6, backoff_base: float = 1.0, backoff_cap: float = 60.0):
        self.store = store
        self.api = Api(transport)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.batch_size = batch_size
        self.pull_limit, self.max_pages = pull_limit, max_pages
        self.max_attempts = max_attempts
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        # The device id is minted once per installation: tokens, cursors and seqs are bound to it.
        self.device_id = store.get("device_id") or device_id or uuid.uuid4().hex
        store.put("device_id", self.device_id)

    # --- authentication -------------------------------------------------------------------
    def login(self, username: str, password: str) -> dict:
        tokens = self.api.login(username, password, self.device_id)
        self._keep_tokens(tokens)
        return tokens

    def _keep_tokens(self, tokens: dict) -> None:
        with self.store.transaction():
            self.store.put("access_token", tokens["access_token"])
            self.store.put("refresh_token", tokens["refresh_token"])

    def _refresh(self) -> None:
        # Refresh tokens rotate: the new one must be stored before anything else can fail.
        token = self.store.get("refresh_token")
        if not token:
            raise AuthRequired("not logged in")
        try:
            self._keep_tokens(self.api.refresh(token, self.device_id))
        except ApiError as error:
            if error.status in (400, 401, 403):
                self._keep_tokens({"access_token": None, "refresh_token": None})
                raise AuthRequired(error.code) from error
            raise

    def _authorized(self, call: Callable[[str], T]) -> T:
        """Run `call(access_token)`; on 401 token_expired refresh once and run it again unchanged."""
        token = self.store.get("access_token")
        if not token:
            raise AuthRequired("not logged in")
        try:
            return call(token)
        except ApiError as error:
            if error.status != 401 or error.code != "token_expired":
                raise
        self._refresh()
        return call(self.store.get("access_token") or "")

    def _with_retries(self, call: Callable[[], T]) -> T:
        """Retry network failures, 5xx and 429 with exponential backoff and jitter.

        A Retry-After longer than the backoff cap is not slept through: the error surfaces and
        the app schedules the next sync itself.
        """
        for attempt in range(self.max_attempts):
            try:
                return call()
            except (NetworkError, ApiError) as error:
                wait = self._backoff(error, attempt)
                if wait is None:
                    raise
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _backoff(self, error: Exception, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        asked = error.retry_after if isinstance(error, ApiError) else None
        if attempt == self.max_attempts - 1 or (asked or 0) > self.backoff_cap:
            return None
        if isinstance(error, ApiError) and not error.is_retryable:
            return None
        # "Equal jitter": the wait still grows, yet phones that failed together do not retry together.
        ceiling = min(self.backoff_cap, self.backoff_base * 2**attempt)
        return max(ceiling / 2 + self.rng.uniform(0, ceiling / 2), asked or 0.0)

    # --- pull -----------------------------------------------------------------------------
    def pull(self) -> None:
        """Bring tasks, elders, open follow-ups and notifications up to date; a digest mismatch
        costs one full snapshot."""
        if self._matches(self._pull_pages()):
            return
        self.store.put("cursor", None)
        if not self._matches(self._pull_pages()):
            raise DigestMismatch("the task set differs from the server's even after a snapshot")

    def _pull_pages(self) -> dict | None:
        """Pull until has_more is false and return that page's digest; None if we stopped early."""
        for _ in range(self.max_pages):  # a very busy server must not keep a phone pulling forever
            page = self._with_retries(lambda: self._authorized(lambda token: self.api.pull(
                token, device_id=self.device_id, cursor=self.store.get("cursor"), limit=self.pull_limit)))
            self._apply(page)
            if not page.get("has_more"):
                return page.get("digest")
        return None

    def _apply(self, page: dict) -> None:
        with self.store.transaction():  # a crash mid-page resumes from the previous cursor
            if page.get("reset"):
                self.store.clear_synced()
            for table in ("tasks", "elders", "followups", "notifications"):
                changes = page.get(table) or {}
                self.store.upsert(table, changes.get("upserted", []))
                self.store.remove(table, [row["id"] for row in changes.get("removed", [])])
            if page.get("server_time"):  # notifications beyond the horizon are no longer sent
                horizon = datetime.fromisoformat(page["server_time"]) - NOTIFICATION_HORIZON
                self.store.drop_older("notifications", "created_at", horizon)
            open_ids = (page.get("followups") or {}).get("open_ids")
            if open_ids is not None:  # one escalated to a supervisor, say, is no longer ours
                self.store.keep_only("followups", open_ids)
            self.store.put("cursor", page["cursor"])

    def _matches(self, digest: dict | None) -> bool:
        return digest is None or digests_match(task_set_digest(self.store.task_versions()), digest)

    # --- recording, offline ---------------------------------------------------------------
    # `at` replaces the device clock's reading as captured_at: drills act out a visit's real times.
    def record_check_in(self, task_id: int, *, qr: str | None = None, location: dict | None = None,
                        at: datetime | None = None) -> str:
        return self._record("check_in", task_id, at, qr=qr, location=location)

    def record_check_out(self, task_id: int, *, services: list[dict], satisfaction: int | None = None,
                         signature: dict | None = None, qr: str | None = None,
                         location: dict | None = None, at: datetime | None = None) -> str:
        return self._record("check_out", task_id, at, services=services, satisfaction=satisfaction,
                            signature=signature, qr=qr, location=location)

    def record_patrol_report(self, task_id: int, *, outcome: str, mode: str, observations: dict | None = None,
                             care_risk_events: list[dict] | None = None, qr: str | None = None,
                             location: dict | None = None, at: datetime | None = None) -> str:
        return self._record("patrol_report", task_id, at, outcome=outcome, mode=mode, observations=observations,
                            care_risk_events=care_risk_events, qr=qr, location=location)

    def record_note(self, task_id: int, text: str) -> str:
        return self._record("note", task_id, None, text=text)

    def _record(self, item_type: str, task_id: int, at: datetime | None, **extra) -> str:
        """Write the item to the outbox with a fresh UUID and the next seq; nothing goes on the wire yet."""
        with self.store.transaction():
            item = {"id": str(uuid.uuid4()), "seq": self.store.take_seq(), "type": item_type,
                    "task_id": task_id, "captured_at": (at or self.clock()).isoformat(),
                    **{key: value for key, value in extra.items() if value is not None}}
            _, errors = validate_item(item)
            if errors:
                raise ValueError(errors)  # rolls back: the seq is not spent on an item never stored
            self.store.add_item(item)
        return item["id"]

    # --- push -----------------------------------------------------------------------------
    def push(self) -> PushSummary:
        """Send the outbox in batches until nothing is pending; items are acked only once answered."""
        summary, size, requeued = PushSummary(), self.batch_size, set()
        while batch := self.store.pending(size):
            try:
                response = self._with_retries(lambda: self._authorized(lambda t: self._send(t, batch)))
            except ApiError as error:
                if error.status == 413 and len(batch) > 1:
                    size = len(batch) // 2  # nothing was written; the same items go in smaller batches
                    continue
                raise
            answered = self._ack(batch, response.get("results", []), summary)
            # Requeue each seq once per push, so a confused server cannot keep us looping.
            missing = set(response.get("missing_seqs", [])) - requeued
            requeued |= missing
            summary.requeued += self.store.requeue(sorted(missing))
            if not answered:
                break  # the server answered for none of them: stop rather than resend forever
        return summary

    def _send(self, token: str, batch: list[dict]) -> dict:
        # The items are byte-for-byte what was stored; only device_time is read afresh for each
        # attempt, because the server measures the clock offset from it at the moment it arrives.
        envelope = {"device_id": self.device_id, "device_time": self.clock().isoformat(), "items": batch}
        return self.api.push(token, envelope)

    def _ack(self, batch: list[dict], results: list[dict], summary: PushSummary) -> int:
        sent = {item["id"] for item in batch}
        answered = [r for r in results if r.get("id") in sent and r.get("status") in ANSWERED]
        self.store.ack(answered)
        for result in answered:
            summary.count(result)
        return len(answered)
