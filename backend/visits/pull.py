"""Building a phone's pull: a snapshot of what it should hold, or the changes since its cursor.

What a phone holds: its user's tasks (not cancelled) whose window touches yesterday through
the horizon, and for those tasks' elders only what a visit needs. Changes are read by
`change_seq` (see backend/changefeed.py), never by time: every page of one pull reads the
range (cursor.seq, seq_high] with seq_high fixed when the pull began, so an interrupted
multi-page pull resumes without gaps and a change committed meanwhile waits for the next pull.
A completed cursor also carries the digest of the set it left the phone with, so that when one
probe finds nothing changed (the usual case) the answer needs no other read.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_, select

from backend.changefeed import current_seq
from backend.clock import local_midnight, local_today
from backend.errors import Problem
from backend.extensions import db
from backend.users.models import User
from backend.visits.pull_probe import Probe, probe, probe_alone
from backend.visits.pull_rows import (
    CHANGED_FOLLOWUPS,
    CHANGED_NOTIFICATIONS,
    OPEN_FOLLOWUPS,
    RECENT_NOTIFICATIONS,
    SNAPSHOT_TASKS,
    SNAPSHOT_TASKS_AFTER,
    TASK_COLUMNS,
    TASKS_FROM,
    elder_rows,
    elders,
    followup_row,
    followups,
    notification_row,
    removals,
    task_row,
    tasks,
)
from schemas.sync import NOTIFICATION_HORIZON
from schemas.tasks import LONGEST_WINDOW
from sync.cursor import AfterKey, CursorInvalid, CursorState, decode_cursor, encode_cursor, new_snapshot
from sync.digest import task_set_digest


@dataclass
class PullPage:
    tasks_upserted: list
    tasks_removed: list
    elders_upserted: list
    elders_removed: list
    cursor: str
    has_more: bool
    reset: bool
    digest: dict
    server_time: datetime
    followups_upserted: list
    followups_removed: list
    followups_open_ids: list
    notifications_upserted: list

    def wire(self) -> dict:
        """The answer as docs/sync-protocol.md 4.2 and schemas.sync.PullResponseSchema shape it."""
        return {
            "tasks": {"upserted": self.tasks_upserted, "removed": self.tasks_removed},
            "elders": {"upserted": self.elders_upserted, "removed": self.elders_removed},
            "cursor": self.cursor, "has_more": self.has_more, "reset": self.reset, "digest": self.digest,
            "server_time": self.server_time.isoformat(),
            "followups": {"upserted": self.followups_upserted, "removed": self.followups_removed,
                          "open_ids": self.followups_open_ids},
            "notifications": {"upserted": self.notifications_upserted},
        }


def pull(*, user_id: int, device_id: str, token_device_id: str | None, family_id: str, cursor: str | None,
         limit: int, now: datetime, check_account: Callable[[Probe | None], None],
         load_account: Callable[[], User]) -> PullPage:
    """A snapshot, or the changes since `cursor`, for the device the access token was issued to.

    The usual pull is whole in one statement: a completed cursor, the same window, and the probe
    (which reads the account and the token's family too; `check_account` judges them, raising
    when it may not pull) finds nothing changed. Otherwise `load_account` gives the caller's User,
    checked as the gate checks it, before anything is read for them, and the page is built.

    Raises device_not_bound (403) when `device_id` is not the token's device, before any read."""
    if device_id != token_device_id:
        raise Problem("device_not_bound", _l("this device is not the one the user signed in on"))
    key = current_app.config["TOKEN_SECRET"].encode()
    from_on, to_on = phone_window(now)
    state = None
    if cursor:
        try:
            state = decode_cursor(key, cursor, user_id=user_id, device_id=device_id, now=now)
        except CursorInvalid:
            state = None
    if state is not None and not state.paging and state.digest and (state.from_on, state.to_on) == (from_on, to_on):
        found = probe_alone(user_id, family_id, state.seq, from_on, to_on)
        check_account(found)
        if not found.changed:
            return _unchanged(key, state.for_pull(found.high), found.open_followup_ids, now)
        state = state.for_pull(found.high)
    user = load_account()
    # A snapshot's first page says reset: the phone replaces whatever it held (its outbox stays).
    reset = state is None
    if state is None:
        state = new_snapshot(user_id=user.id, device_id=device_id, from_on=from_on, to_on=to_on,
                             seq_high=current_seq(db.session), now=now)
    elif not state.paging:
        state = state.for_pull(current_seq(db.session))
    # else: a pull under way keeps the bound of its first page
    builder = _Page(user, state, from_on, to_on, limit)
    if state.paging.is_snapshot:
        builder.snapshot()
    else:
        builder.delta()
    return builder.finish(key, now, reset)


def phone_window(now: datetime) -> tuple[date, date]:
    """Yesterday through the last day of the task horizon, in the care time zone (inclusive)."""
    today = local_today(now)
    return today - timedelta(days=1), today + timedelta(days=current_app.config["TASK_HORIZON_DAYS"] - 1)


def _in_window(from_on: date, to_on: date):
    return and_(tasks.c.window_end_at > local_midnight(from_on), _starting_for(from_on, to_on))


def _starting_for(from_on: date, to_on: date):
    """Tasks that may touch the days from_on … to_on: no window is longer than LONGEST_WINDOW, so
    this bounds the partition key on both sides and a pull reads only the few months it needs."""
    return and_(tasks.c.window_start_at >= local_midnight(from_on) - LONGEST_WINDOW,
                tasks.c.window_start_at < local_midnight(to_on + timedelta(days=1)))


def _held_by(user_id: int, from_on: date, to_on: date):
    """The tasks a phone of this user holds: theirs, not cancelled, in the window."""
    return and_(tasks.c.assignee_id == user_id, tasks.c.status != "cancelled", _in_window(from_on, to_on))


def _unchanged(key: bytes, state: CursorState, open_ids: list[int], now: datetime) -> PullPage:
    """Nothing changed since the cursor and the window did not move: the phone's set stands."""
    digest = {"count": state.digest[0], "hash": state.digest[1]}
    return PullPage(
        tasks_upserted=[], tasks_removed=[], elders_upserted=[], elders_removed=[],
        cursor=encode_cursor(key, state.completed(now, digest)), has_more=False, reset=False, digest=digest,
        server_time=now, followups_upserted=[], followups_removed=[], followups_open_ids=open_ids,
        notifications_upserted=[],
    )


class _Page:
    def __init__(self, user: User, state: CursorState, from_on: date, to_on: date, limit: int):
        self.user, self.state, self.from_on, self.to_on, self.limit = user, state, from_on, to_on, limit
        self.start_at, self.end_at = local_midnight(from_on), local_midnight(to_on + timedelta(days=1))
        self.changes: list[tuple[tuple, str, object]] = []  # (sort key, kind, row)
        self.extra_tasks: list = []
        self.extra_removed: list[dict] = []
        self.has_more = False

    # ---------------------------------------------------------------- reading
    def snapshot(self) -> None:
        paging = self.state.paging
        params = {"user_id": self.user.id, "start_at": self.start_at, "end_at": self.end_at,
                  "start_floor": self.start_at - LONGEST_WINDOW,
                  "high": paging.seq_high, "limit": self.limit + 1}
        if paging.after:
            params.update(after_seq=paging.after.change_seq, after_id=paging.after.id)
        rows = db.session.execute(SNAPSHOT_TASKS_AFTER if paging.after else SNAPSHOT_TASKS, params).all()
        self.changes = [((t.change_seq, "task", t.id), "task", t) for t in rows]

    def delta(self) -> None:
        paging, low = self.state.paging, self.state.seq
        after = paging.after.as_tuple() if paging.after else None
        # Changes to tasks the phone cannot hold, before or after its window then or now, would
        # only be answered out_of_window: they are not read.
        held_span = _starting_for(min(self.state.from_on, self.from_on), max(self.state.to_on, self.to_on))
        task_rows = self._range(
            select(*TASK_COLUMNS).select_from(TASKS_FROM).where(tasks.c.assignee_id == self.user.id, held_span),
            tasks, low, paging.seq_high, after, "task")
        removal_rows = self._range(
            select(removals.c.id, removals.c.task_id, removals.c.reason, removals.c.change_seq)
            .where(removals.c.user_id == self.user.id), removals, low, paging.seq_high, after, "task_removal")
        held_elders = select(tasks.c.elder_id).where(_held_by(self.user.id, self.from_on, self.to_on))
        elder_rows_ = self._range(select(elders.c.id, elders.c.change_seq).where(elders.c.id.in_(held_elders)),
                                  elders, low, paging.seq_high, after, "elder")
        self.changes = sorted(task_rows + removal_rows + elder_rows_, key=lambda change: change[0])
        if paging.after is None:
            self._window_moved()

    def _range(self, query, table, low: int, high: int, after, kind: str) -> list:
        query = query.where(table.c.change_seq > low, table.c.change_seq <= high)
        if after is not None:
            query = query.where(_after(table, kind, after))
        rows = db.session.execute(query.order_by(table.c.change_seq, table.c.id).limit(self.limit + 1))
        return [((row.change_seq, kind, row.id), kind, row) for row in rows]

    def _window_moved(self) -> None:
        """A new day: tasks that left the window are removed, those that entered it are sent."""
        old_from, old_to = self.state.from_on, self.state.to_on
        if self.from_on > old_from:
            gone = db.session.execute(select(tasks.c.id).where(
                tasks.c.assignee_id == self.user.id, _starting_for(old_from, self.from_on),
                tasks.c.window_end_at > local_midnight(old_from),
                tasks.c.window_end_at <= local_midnight(self.from_on))).scalars()
            self.extra_removed = [{"id": task_id, "reason": "out_of_window"} for task_id in gone]
        if self.to_on > old_to:
            self.extra_tasks = db.session.execute(select(*TASK_COLUMNS).select_from(TASKS_FROM).where(
                _held_by(self.user.id, self.from_on, self.to_on), tasks.c.change_seq <= self.state.seq,
                tasks.c.window_start_at >= local_midnight(old_to + timedelta(days=1)))).all()

    # ---------------------------------------------------------------- answering
    def finish(self, key: bytes, now: datetime, reset: bool) -> PullPage:
        page = self.changes[:self.limit]
        self.has_more = len(self.changes) > self.limit
        latest: dict[int, tuple[str, object]] = {}  # task id → its last change in this page
        elder_ids: dict[int, None] = {}  # elders to send, in order
        for _, kind, row in page:
            if kind == "task":
                latest[row.id] = ("task", row)
            elif kind == "task_removal":
                latest[row.task_id] = ("removal", row)
            else:
                elder_ids[row.id] = None
        for task in self.extra_tasks:
            latest.setdefault(task.id, ("task", task))
        upserted, removed = [], list(self.extra_removed)
        for task_id, (kind, row) in latest.items():
            if kind == "removal":
                removed.append({"id": task_id, "reason": row.reason})
            elif row.status == "cancelled":
                removed.append({"id": task_id, "reason": "cancelled"})
            elif not self._holds(row):
                removed.append({"id": task_id, "reason": "out_of_window"})
            else:
                upserted.append(row)
                elder_ids.setdefault(row.elder_id, None)
        elders_removed = self._elders_gone(removed, set(elder_ids))
        followups_, notifications_, open_ids = self._followups_and_notifications(now)
        digest, continued = self._digest(page), False
        if not self.has_more and not self._digest_from_page() and self._changed_beyond_bound():
            # The digest, read after the bound was fixed, may hold a change the phone has not been
            # sent: it continues with a delta from the bound (docs/sync-protocol.md 11.3).
            self.has_more = continued = True
        next_state = self.state.completed(now) if continued else self._next_state(page, now, digest)
        return PullPage(
            tasks_upserted=[task_row(t) for t in upserted], tasks_removed=removed,
            elders_upserted=elder_rows(list(elder_ids)), elders_removed=elders_removed,
            cursor=encode_cursor(key, next_state), has_more=self.has_more, reset=reset,
            digest=digest, server_time=now,
            followups_upserted=[followup_row(f) for f in followups_ if f.status != "resolved"],
            followups_removed=[{"id": f.id, "reason": "resolved"} for f in followups_ if f.status == "resolved"],
            followups_open_ids=open_ids,
            notifications_upserted=[notification_row(n) for n in notifications_],
        )

    def _followups_and_notifications(self, now: datetime) -> tuple[list, list, list[int]]:
        """Follow-ups owned by the user and their notifications: small sets, sent whole on the
        first page of a pull (snapshot: the current ones; delta: those changed in the range),
        and the ids of the user's open follow-ups (on every page)."""
        paging = self.state.paging
        if paging.after is not None:
            return [], [], self._open_followup_ids()
        if paging.is_snapshot:
            owned, notes = OPEN_FOLLOWUPS, RECENT_NOTIFICATIONS
            params = {"user_id": self.user.id, "since": now - NOTIFICATION_HISTORY,
                      "horizon": self.start_at - NOTIFICATION_HORIZON}
        else:
            owned, notes = CHANGED_FOLLOWUPS, CHANGED_NOTIFICATIONS
            params = {"user_id": self.user.id, "low": self.state.seq, "high": paging.seq_high,
                      "horizon": self.start_at - NOTIFICATION_HORIZON}
        owned_rows = db.session.execute(owned, params).all()
        note_rows = db.session.execute(notes, params).all()
        # A snapshot's follow-ups are exactly the open ones; a delta's are only those changed.
        open_ids = [f.id for f in owned_rows] if paging.is_snapshot else self._open_followup_ids()
        return owned_rows, note_rows, open_ids

    def _open_followup_ids(self) -> list[int]:
        return list(db.session.execute(select(followups.c.id).where(
            followups.c.owner_id == self.user.id, followups.c.status != "resolved").order_by(followups.c.id)).scalars())

    def _holds(self, task) -> bool:
        return task.assignee_id == self.user.id and task.window_end_at > self.start_at and \
            task.window_start_at < self.end_at

    def _elders_gone(self, removed: list[dict], kept: set[int]) -> list[dict]:
        if not removed:
            return []
        removed_ids = [r["id"] for r in removed]
        candidates = set(db.session.execute(select(tasks.c.elder_id).where(tasks.c.id.in_(removed_ids))).scalars())
        still = set(db.session.execute(select(tasks.c.elder_id).where(
            _held_by(self.user.id, self.from_on, self.to_on), tasks.c.elder_id.in_(candidates))).scalars())
        return [{"id": elder_id, "reason": "no_open_tasks"} for elder_id in sorted(candidates - still - kept)]

    def _digest(self, page: list) -> dict:
        """The digest of the task set held after this page. A snapshot in one page is exactly
        that set, as of its bound; otherwise it is read."""
        if self._digest_from_page():
            return task_set_digest((row.id, row.version) for _, _, row in page)
        return task_set_digest(db.session.execute(select(tasks.c.id, tasks.c.version).where(
            _held_by(self.user.id, self.from_on, self.to_on))).all())

    def _digest_from_page(self) -> bool:
        paging = self.state.paging
        return paging.is_snapshot and paging.after is None and not self.has_more

    def _changed_beyond_bound(self) -> bool:
        """Whether a change of this user's committed after seq_high. Run after the digest's read:
        counter order is commit order, so whatever that read saw beyond the bound was committed
        before this probe and is found by it."""
        found = probe(db.session, self.user.id, self.state.paging.seq_high, self.from_on, self.to_on)
        return found is not None and found.changed

    def _next_state(self, page: list, now: datetime, digest: dict) -> CursorState:
        state = replace(self.state, from_on=self.from_on, to_on=self.to_on)
        if self.has_more:
            last_key = page[-1][0]
            return state.next_page(AfterKey(*last_key), now)
        return state.completed(now, digest)


NOTIFICATION_HISTORY = timedelta(days=7)

def _after(table, kind: str, after: tuple):
    """Rows of one kind that sort after `after` in (change_seq, kind, id) order."""
    seq, after_kind, after_id = after
    if kind > after_kind:
        tie = table.c.change_seq == seq
    elif kind == after_kind:
        tie = and_(table.c.change_seq == seq, table.c.id > after_id)
    else:
        tie = false()
    return or_(table.c.change_seq > seq, tie)
