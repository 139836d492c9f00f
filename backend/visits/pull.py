"""Building a phone's pull: a snapshot of what it should hold, or the changes since its cursor.

What a phone holds: its user's tasks (not cancelled) whose window touches yesterday through
the horizon, and for those tasks' elders only what a visit needs. Changes are read by
`change_seq` (see backend/changefeed.py), never by time: every page of one pull reads the
range (cursor.seq, seq_high] with seq_high fixed when the pull began, so an interrupted
multi-page pull resumes without gaps and a change committed meanwhile waits for the next pull.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, false, or_, select, tuple_
from sqlalchemy.orm import selectinload

from backend.changefeed import current_seq
from backend.clock import local_midnight, local_today
from backend.elders.models import Elder
from backend.extensions import db
from backend.followups.models import Followup, Notification
from backend.tasks.models import Task, TaskRemoval
from backend.users.models import User
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


def pull(*, user: User, device_id: str, cursor: str | None, limit: int, now: datetime) -> PullPage:
    key = current_app.config["TOKEN_SECRET"].encode()
    from_on, to_on = phone_window(now)
    state = None
    if cursor:
        try:
            state = decode_cursor(key, cursor, user_id=user.id, device_id=device_id, now=now)
        except CursorInvalid:
            state = None
    # A snapshot's first page says reset: the phone replaces whatever it held (its outbox stays).
    reset = state is None
    if state is None:
        state = new_snapshot(user_id=user.id, device_id=device_id, from_on=from_on, to_on=to_on,
                             seq_high=current_seq(db.session), now=now)
    else:
        state = state.for_pull(current_seq(db.session))
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
    return and_(Task.window_end_at > local_midnight(from_on),
                Task.window_start_at < local_midnight(to_on + timedelta(days=1)))


class _Page:
    def __init__(self, user: User, state: CursorState, from_on: date, to_on: date, limit: int):
        self.user, self.state, self.from_on, self.to_on, self.limit = user, state, from_on, to_on, limit
        self.changes: list[tuple[tuple, str, object]] = []  # (sort key, kind, row)
        self.extra_tasks: list[Task] = []
        self.extra_removed: list[dict] = []
        self.has_more = False

    # ---------------------------------------------------------------- reading
    def snapshot(self) -> None:
        paging = self.state.paging
        query = select(Task).where(Task.assignee_id == self.user.id, Task.status != "cancelled",
                                   _in_window(self.from_on, self.to_on), Task.change_seq <= paging.seq_high)
        if paging.after:
            query = query.where(tuple_(Task.change_seq, Task.id) > (paging.after.change_seq, paging.after.id))
        rows = db.session.execute(query.options(*_WITH_ELDER).order_by(Task.change_seq, Task.id)
                                  .limit(self.limit + 1)).scalars().all()
        self.changes = [((t.change_seq, "task", t.id), "task", t) for t in rows]

    def delta(self) -> None:
        paging, low = self.state.paging, self.state.seq
        after = paging.after.as_tuple() if paging.after else None
        tasks = self._range(select(Task).where(Task.assignee_id == self.user.id).options(*_WITH_ELDER), Task, low,
                            paging.seq_high, after, "task")
        removals = self._range(select(TaskRemoval).where(TaskRemoval.user_id == self.user.id), TaskRemoval, low,
                               paging.seq_high, after, "task_removal")
        held_elders = select(Task.elder_id).where(Task.assignee_id == self.user.id, Task.status != "cancelled",
                                                  _in_window(self.from_on, self.to_on))
        elders = self._range(select(Elder).where(Elder.id.in_(held_elders)), Elder, low, paging.seq_high, after,
                             "elder")
        self.changes = sorted(tasks + removals + elders, key=lambda change: change[0])
        if paging.after is None:
            self._window_moved()

    def _range(self, query, model, low: int, high: int, after, kind: str) -> list:
        query = query.where(model.change_seq > low, model.change_seq <= high)
        if after is not None:
            query = query.where(_after(model, kind, after))
        rows = db.session.execute(query.order_by(model.change_seq, model.id).limit(self.limit + 1)).scalars()
        return [((row.change_seq, kind, row.id), kind, row) for row in rows]

    def _window_moved(self) -> None:
        """A new day: tasks that left the window are removed, those that entered it are sent."""
        old_from, old_to = self.state.from_on, self.state.to_on
        if self.from_on > old_from:
            gone = db.session.execute(select(Task.id).where(
                Task.assignee_id == self.user.id, Task.window_end_at > local_midnight(old_from),
                Task.window_end_at <= local_midnight(self.from_on))).scalars()
            self.extra_removed = [{"id": task_id, "reason": "out_of_window"} for task_id in gone]
        if self.to_on > old_to:
            self.extra_tasks = db.session.execute(select(Task).where(
                Task.assignee_id == self.user.id, Task.status != "cancelled", Task.change_seq <= self.state.seq,
                Task.window_start_at >= local_midnight(old_to + timedelta(days=1)),
                _in_window(self.from_on, self.to_on)).options(*_WITH_ELDER)).scalars().all()

    # ---------------------------------------------------------------- answering
    def finish(self, key: bytes, now: datetime, reset: bool) -> PullPage:
        page = self.changes[:self.limit]
        self.has_more = len(self.changes) > self.limit
        latest: dict[int, tuple[str, object]] = {}  # task id → its last change in this page
        elders: dict[int, Elder] = {}
        for _, kind, row in page:
            if kind == "task":
                latest[row.id] = ("task", row)
            elif kind == "task_removal":
                latest[row.task_id] = ("removal", row)
            else:
                elders[row.id] = row
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
                elders.setdefault(row.elder_id, row.elder)
        elders_removed = self._elders_gone(removed, set(elders))
        followups, notifications = self._followups_and_notifications(now)
        next_state = self._next_state(page, now)
        return PullPage(
            tasks_upserted=[task_row(t) for t in upserted], tasks_removed=removed,
            elders_upserted=elder_rows(list(elders.values())), elders_removed=elders_removed,
            cursor=encode_cursor(key, next_state), has_more=self.has_more, reset=reset,
            digest=task_set_digest(self._held_versions()), server_time=now,
            followups_upserted=[followup_row(f) for f in followups if f.status != "resolved"],
            followups_removed=[{"id": f.id, "reason": "resolved"} for f in followups if f.status == "resolved"],
            followups_open_ids=self._open_followup_ids(),
            notifications_upserted=[notification_row(n) for n in notifications],
        )

    def _followups_and_notifications(self, now: datetime) -> tuple[list, list]:
        """Follow-ups owned by the user and their notifications: small sets, sent whole on the
        first page of a pull (snapshot: the current ones; delta: those changed in the range)."""
        paging = self.state.paging
        if paging.after is not None:
            return [], []
        followups = select(Followup).where(Followup.owner_id == self.user.id)
        notifications = select(Notification).where(Notification.user_id == self.user.id)
        if paging.is_snapshot:
            followups = followups.where(Followup.status != "resolved")
            notifications = notifications.where(or_(Notification.read_at.is_(None),
                                                    Notification.created_at > now - NOTIFICATION_HISTORY))
        else:
            followups = followups.where(Followup.change_seq > self.state.seq, Followup.change_seq <= paging.seq_high)
            notifications = notifications.where(Notification.change_seq > self.state.seq,
                                                Notification.change_seq <= paging.seq_high)
        return (db.session.execute(followups.order_by(Followup.id)).scalars().all(),
                db.session.execute(notifications.order_by(Notification.id)).scalars().all())

    def _open_followup_ids(self) -> list[int]:
        return list(db.session.execute(select(Followup.id).where(
            Followup.owner_id == self.user.id, Followup.status != "resolved").order_by(Followup.id)).scalars())

    def _holds(self, task: Task) -> bool:
        return task.assignee_id == self.user.id and task.window_end_at > local_midnight(self.from_on) and \
            task.window_start_at < local_midnight(self.to_on + timedelta(days=1))

    def _elders_gone(self, removed: list[dict], kept: set[int]) -> list[dict]:
        if not removed:
            return []
        removed_ids = [r["id"] for r in removed]
        candidates = set(db.session.execute(select(Task.elder_id).where(Task.id.in_(removed_ids))).scalars())
        still = set(db.session.execute(select(Task.elder_id).where(
            Task.assignee_id == self.user.id, Task.status != "cancelled", Task.elder_id.in_(candidates),
            _in_window(self.from_on, self.to_on))).scalars())
        return [{"id": elder_id, "reason": "no_open_tasks"} for elder_id in sorted(candidates - still - kept)]

    def _next_state(self, page: list, now: datetime) -> CursorState:
        state = replace(self.state, from_on=self.from_on, to_on=self.to_on)
        if self.has_more:
            last_key = page[-1][0]
            return state.next_page(AfterKey(*last_key), now)
        return state.completed(now)

    def _held_versions(self):
        return db.session.execute(select(Task.id, Task.version).where(
            Task.assignee_id == self.user.id, Task.status != "cancelled", _in_window(self.from_on, self.to_on))).all()


NOTIFICATION_HISTORY = timedelta(days=7)
# Upserted tasks carry their elder: load elders (and communities) in one query per page, not one each.
_WITH_ELDER = (selectinload(Task.elder).joinedload(Elder.community),)


def followup_row(followup: Followup) -> dict:
    details = dict(followup.details or {})
    return {
        "id": followup.id, "version": followup.version, "kind": followup.kind, "priority": followup.priority,
        "status": followup.status, "elder_id": followup.elder_id, "task_id": followup.task_id,
        "summary": followup.summary, "opened_at": followup.opened_at, "due_at": followup.due_at,
        "escalation_level": followup.escalation_level, "details": details,
    }


def notification_row(notification: Notification) -> dict:
    return {
        "id": notification.id, "event": notification.event, "followup_id": notification.followup_id,
        "task_id": notification.task_id, "title": notification.title, "body": notification.body,
        "created_at": notification.created_at, "read_at": notification.read_at,
    }


def _after(model, kind: str, after: tuple):
    """Rows of one kind that sort after `after` in (change_seq, kind, id) order."""
    seq, after_kind, after_id = after
    if kind > after_kind:
        tie = model.change_seq == seq
    elif kind == after_kind:
        tie = and_(model.change_seq == seq, model.id > after_id)
    else:
        tie = false()
    return or_(model.change_seq > seq, tie)


def task_row(task: Task) -> dict:
    return {
        "id": task.id, "version": task.version, "kind": task.kind, "status": task.status,
        "elder_id": task.elder_id, "service_type": task.service_type,
        "patrol_mode": None, "window_start_at": task.window_start_at, "window_end_at": task.window_end_at,
        "min_duration_minutes": task.min_duration_minutes,
    }


def elder_rows(elders: list[Elder]) -> list[dict]:
    from backend.plates.models import DoorPlate

    if not elders:
        return []
    plates: dict[int, list[str]] = {}
    for elder_id, plate_id in db.session.execute(select(DoorPlate.elder_id, DoorPlate.plate_id).where(
            DoorPlate.elder_id.in_([e.id for e in elders]), DoorPlate.status == "active")):
        plates.setdefault(elder_id, []).append(plate_id)
    today = local_today()
    return [elder_row(elder, plates.get(elder.id, []), today) for elder in elders]


def elder_row(elder: Elder, plates: list[str], today: date) -> dict:
    """Only what a visit needs: never the ID-card number nor the birth date."""
    assessment = elder.latest_assessment
    age = today.year - elder.birth_on.year - ((today.month, today.day) < (elder.birth_on.month, elder.birth_on.day))
    return {
        "id": elder.id, "version": elder.version, "name": elder.name, "gender": elder.gender, "age": age,
        "phone": elder.phone, "address": elder.address, "lat": elder.lat, "lon": elder.lon,
        "community_id": elder.community_id, "community_name": elder.community.name, "risk_tier": elder.risk_tier,
        "categories": elder.categories, "capability_level": assessment.level if assessment else None,
        "care_notes": elder.care_notes, "emergency_contacts": elder.emergency_contacts, "plate_ids": list(plates),
    }
