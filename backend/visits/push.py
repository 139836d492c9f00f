"""Accepting a batch of pushed items: exactly once, item by item, nothing dropped.

Each item is applied in its own savepoint and the batch commits once (at the view). An item the
server already holds answers `duplicate` with its original flags and writes nothing; the visit
item's primary key (the phone's UUID) makes that hold across processes. Items that cannot be
evidence at all are rejected and quarantined; everything else is accepted, with flags saying
what a supervisor should look at.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from backend.extensions import db
from backend.followups.triggers import after_item
from backend.plates.services import plates_of, verify_presence
from backend.tasks.models import Task, TaskRemoval
from backend.users.models import User
from backend.visits.evidence import apply_item
from backend.visits.models import PushReceipt, QuarantinedItem, Visit, VisitItem
from schemas.sync import validate_item
from sync import rules
from sync.items import item_fingerprint


@dataclass
class ItemResult:
    id: str | None
    status: str  # accepted | duplicate | rejected
    code: str
    message: str | None = None
    flags: list[str] = field(default_factory=list)


@dataclass
class PushOutcome:
    results: list[ItemResult]
    missing_seqs: list[int]
    server_time: datetime


class Rejected(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def push_batch(*, user: User, device_id: str, token_device_id: str | None, device_time: datetime,
               items: list, received_at: datetime) -> PushOutcome:
    """Apply a push envelope's items in order. The caller commits, then answers."""
    offset = rules.clock_offset(received_at, device_time)
    batch = _Batch(user, device_id, received_at, offset)
    bound = token_device_id is None or token_device_id == device_id
    batch.prefetch(items)
    results = []
    for raw in items:
        if not bound:
            results.append(batch.reject(raw, Rejected(
                "device_not_bound", "this device is not the one the user signed in on")))
            continue
        results.append(batch.push_one(raw))
    _record_receipt(user, device_id, device_time, received_at, items, results)
    return PushOutcome(results, missing_seqs(device_id), received_at)


def _record_receipt(user, device_id, device_time, received_at, items, results) -> None:
    task_ids = sorted({raw["task_id"] for raw in items if isinstance(raw, dict) and type(raw.get("task_id")) is int})
    db.session.add(PushReceipt(
        user_id=user.id, device_id=device_id, device_time=device_time, received_at=received_at,
        accepted=sum(r.status == "accepted" for r in results), duplicates=sum(r.status == "duplicate" for r in results),
        rejected=sum(r.status == "rejected" for r in results),
        duplicate_ids=[r.id for r in results if r.status == "duplicate"], task_ids=task_ids[:1000],
    ))


class _Batch:
    def __init__(self, user: User, device_id: str, received_at: datetime, offset):
        self.user, self.device_id, self.received_at, self.offset = user, device_id, received_at, offset
        self.tasks: dict[int, Task] = {}
        self.visits: dict[int, Visit] = {}
        self.plates: dict = {}
        self.held: dict[str, VisitItem] = {}
        self.reassigned_away: set[int] = set()

    def prefetch(self, items: list) -> None:
        """Load the batch's tasks (locked, in id order so two batches never deadlock) and held items."""
        task_ids = sorted({raw.get("task_id") for raw in items if isinstance(raw, dict)
                           and isinstance(raw.get("task_id"), int) and not isinstance(raw.get("task_id"), bool)})
        if task_ids:
            query = select(Task).where(Task.id.in_(task_ids)).order_by(Task.id).with_for_update() \
                .options(selectinload(Task.elder))
            self.tasks = {t.id: t for t in db.session.execute(query.execution_options(populate_existing=True))
                          .scalars()}
            # Held here so the identity map keeps them: items of one visit meet in one batch.
            self.visits = {v.task_id: v for v in db.session.execute(
                select(Visit).where(Visit.task_id.in_(task_ids))).scalars()}
            self.plates = plates_of({t.elder_id for t in self.tasks.values()})
            self.reassigned_away = set(db.session.execute(
                select(TaskRemoval.task_id).where(TaskRemoval.user_id == self.user.id,
                                                  TaskRemoval.task_id.in_(task_ids))).scalars())
        ids = [_canonical_uuid(raw.get("id")) for raw in items if isinstance(raw, dict)]
        ids = [i for i in ids if i]
        if ids:
            self.held = {row.id: row for row in db.session.execute(
                select(VisitItem).where(VisitItem.id.in_(ids))).scalars()}

    def push_one(self, raw) -> ItemResult:
        if not isinstance(raw, dict):
            return self.reject(raw, Rejected("invalid_item", "an item must be a JSON object"))
        data, errors = validate_item(raw)
        if errors:
            return self.reject(raw, Rejected("invalid_item", _describe(errors)), errors=errors)
        item_id = str(data["id"])
        fingerprint = item_fingerprint(raw)
        if item_id in self.held:
            return self.answer_held(raw, self.held[item_id], fingerprint)
        try:
            with db.session.begin_nested():
                item = self.accept(data, raw, fingerprint)
        except Rejected as rejected:
            return self.reject(raw, rejected)
        except IntegrityError:
            # Another process stored this UUID between our prefetch and our insert.
            held = db.session.get(VisitItem, item_id, populate_existing=True)
            if held is None:
                raise
            self.held[item_id] = held
            return self.answer_held(raw, held, fingerprint)
        self.held[item_id] = item
        return ItemResult(item_id, "accepted", "accepted", None, list(item.flags))

    def accept(self, data: dict, raw: dict, fingerprint: str) -> VisitItem:
        task = self.tasks.get(data["task_id"])
        if task is None:
            raise Rejected("unknown_task", f"task {data['task_id']} does not exist")
        reassigned = task.assignee_id != self.user.id
        if reassigned and task.id not in self.reassigned_away:
            raise Rejected("not_assigned", f"task {task.id} was never assigned to you")
        if data["type"] == "patrol_report" and task.kind != "patrol":
            raise Rejected("wrong_task_kind", f"task {task.id} is a service task, not a patrol")
        corrected = rules.corrected(data["captured_at"], self.offset)
        presence = _presence(data, task, corrected, self.plates)
        item = VisitItem(
            id=str(data["id"]), user_id=self.user.id, device_id=self.device_id, seq=data["seq"],
            type=data["type"], task_id=task.id, captured_at=data["captured_at"],
            captured_at_corrected=corrected, received_at=self.received_at,
            clock_offset_seconds=self.offset.total_seconds(), qr_flag=presence.flag,
            plate_id=presence.plate_id, fingerprint=fingerprint, payload=raw, flags=[],
        )
        if data.get("location"):
            item.lat, item.lon = data["location"]["lat"], data["location"]["lon"]
            item.accuracy_m = data["location"]["accuracy_m"]
        item.flags = _intake_flags(item, task, presence, reassigned, self.offset, self.received_at)
        db.session.add(item)
        db.session.flush()  # the primary key decides exactly-once here (and the visit refers to it)
        visit = apply_item(item, data, task, by=self.user, at=self.received_at, visits=self.visits)
        after_item(item, data, task, visit, at=self.received_at)
        db.session.flush()
        return item

    def answer_held(self, raw, held: VisitItem, fingerprint: str) -> ItemResult:
        if held.fingerprint != fingerprint or held.user_id != self.user.id:
            return self.reject(raw, Rejected("uuid_reused", "this item id was already used for different content"))
        return ItemResult(held.id, "duplicate", "accepted", None, list(held.flags))

    def reject(self, raw, rejected: Rejected, errors: dict | None = None) -> ItemResult:
        item_id = _canonical_uuid(raw.get("id")) if isinstance(raw, dict) else None
        seq = raw.get("seq") if isinstance(raw, dict) and isinstance(raw.get("seq"), int) else None
        task_id = raw.get("task_id") if isinstance(raw, dict) and isinstance(raw.get("task_id"), int) else None
        with db.session.begin_nested():
            db.session.add(QuarantinedItem(
                item_uuid=item_id or (str(raw.get("id"))[:64] if isinstance(raw, dict) and raw.get("id") else None),
                user_id=self.user.id, device_id=self.device_id, seq=seq if seq is None or seq < 2**62 else None,
                task_id=task_id if task_id is None or task_id < 2**31 else None,
                received_at=self.received_at, code=rejected.code, message=rejected.message, payload=raw,
            ))
        return ItemResult(item_id or (raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str)
                                      else None), "rejected", rejected.code, rejected.message, [])


@dataclass(frozen=True)
class _Presence:
    flag: str | None
    plate_id: int | None


def _presence(data: dict, task: Task, corrected: datetime, plates: dict) -> _Presence:
    """QR verdict for items that claim presence at the door; none for notes and phone patrols."""
    if data["type"] == "note" or (data["type"] == "patrol_report" and data.get("mode") == "phone"):
        return _Presence(None, None)
    result = verify_presence(data.get("qr"), task.elder_id, corrected, known=plates)
    return _Presence(result.flags[0] if result.flags else None, result.plate_id)


def _intake_flags(item: VisitItem, task: Task, presence: _Presence, reassigned: bool, offset,
                  received_at: datetime) -> list[str]:
    flags = [presence.flag] if presence.flag else []
    claims_presence = presence.flag is not None
    elder = task.elder
    if claims_presence:
        if item.lat is None:
            flags.append(rules.NO_LOCATION)
        elif elder.lat is not None and elder.lon is not None:
            item.distance_m = round(rules.haversine_m(elder.lat, elder.lon, item.lat, item.lon), 1)
            if rules.geofence_flag(elder.lat, elder.lon, item.lat, item.lon, item.accuracy_m or 0.0):
                flags.append(rules.OUTSIDE_GEOFENCE)
    if rules.clock_skew(offset):
        flags.append(rules.CLOCK_SKEW)
    if rules.future_capture(item.captured_at_corrected, received_at):
        flags.append(rules.FUTURE_CAPTURE)
    if rules.before_task_created(item.captured_at_corrected, task.created_at):
        flags.append(rules.BEFORE_TASK_CREATED)
    if item.type in ("check_in", "patrol_report") and rules.outside_window(
            item.captured_at_corrected, task.window_start_at, task.window_end_at):
        flags.append(rules.OUTSIDE_WINDOW)
    if task.status == "cancelled":
        flags.append(rules.TASK_CANCELLED)
    if reassigned:
        flags.append(rules.TASK_REASSIGNED)
    return flags


def missing_seqs(device_id: str) -> list[int]:
    """Sequence numbers below the device's highest that the server holds neither as evidence nor
    in quarantine. The held seqs are folded into runs in SQL (seq - row_number is constant along
    a run), so the answer costs one pass over the (device_id, seq) indexes."""
    runs = db.session.execute(text("""
        WITH held AS (
            SELECT seq FROM visit_items WHERE device_id = :device
            UNION
            SELECT seq FROM quarantined_items WHERE device_id = :device AND seq IS NOT NULL
        )
        SELECT MIN(seq), MAX(seq) FROM (
            SELECT seq, seq - ROW_NUMBER() OVER (ORDER BY seq) AS run FROM held
        ) numbered GROUP BY run
    """), {"device": device_id}).all()
    return rules.missing_seqs([(low, high) for low, high in runs])


def _canonical_uuid(value) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _describe(errors: dict) -> str:
    parts = []
    for field_name, reasons in _flatten(errors):
        parts.append(f"{field_name}: {reasons}")
    return "; ".join(parts)[:500]


def _flatten(errors, prefix=""):
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        yield prefix, " ".join(errors)
    else:
        yield prefix, str(errors)
