"""Accepting a batch of pushed items: exactly once, set-based, nothing dropped.

A batch is read once per table (its tasks, locked, with their elders' homes; the plates; the
visits; the items it may be resending), worked out in memory item after item in request order
(backend/visits/evidence.py), and written back with one statement per table
(backend/visits/store.py; the statements are in backend/visits/push_sql.py). Exactly-once rests
on the database: the batch's new items go in with one INSERT … ON CONFLICT (id) DO NOTHING, and
an id that does not come back is held by another push — it is answered from the stored row
(`duplicate`, or `uuid_reused` for other content) and its effects are not applied. Only items
this transaction inserted change visits and tasks. Items that cannot be evidence at all are
rejected and quarantined; everything else is accepted, with flags saying what a supervisor should
look at. The caller commits once, then answers.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from backend.errors import flatten_messages
from backend.extensions import db
from backend.field_messages import translate
from backend.followups.triggers import after_item, after_late_evidence
from backend.plates.services import plate_keys
from backend.tasks.models import Task
from backend.users.models import User
from backend.visits import seqs, store
from backend.visits.evidence import ItemRow, TaskRow, VisitRow, VisitSnapshot, apply_item
from backend.visits.intake import intake_flags, presence
from schemas.sync import load_item
from sync import rules
from sync.items import item_fingerprint

MAX_ROUNDS = 5  # a round is redone only when a concurrent push took some of the batch's ids


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

    def wire(self) -> dict:
        """The response body exactly as PushResponseSchema dumps it (a test holds the two together);
        built directly, since the schema's field-by-field dump of 100 results cost more than the
        rest of the response."""
        return {"results": [{"id": r.id, "status": r.status, "code": r.code, "message": r.message,
                             "flags": list(r.flags)} for r in self.results],
                "missing_seqs": list(self.missing_seqs), "server_time": self.server_time.isoformat()}


class Rejected(Exception):
    """An item refused: a stable code for the phone, and words (a catalogue message, put in the
    pusher's language here, where the request still is) for the person holding it."""

    def __init__(self, code: str, message):
        self.code, self.message = code, str(message)
        super().__init__(self.message)


def push_batch(*, user: User, device_id: str, token_device_id: str | None, device_time: datetime,
               items: list, received_at: datetime) -> PushOutcome:
    """Apply a push envelope's items in order. The caller commits, then answers."""
    store.plan_for_key_lookups()
    batch = _Batch(user, device_id, received_at, rules.clock_offset(received_at, device_time))
    if token_device_id is not None and token_device_id != device_id:
        refused = Rejected("device_not_bound", _l("this device is not the one the user signed in on"))
        results = [batch.reject(raw, refused) for raw in items]
    else:
        results = batch.run(items)
    store.insert_quarantine(batch.quarantine)
    stored = [row.seq for row in batch.inserted] + [q["seq"] for q in batch.quarantine if q["seq"] is not None]
    missing = seqs.record_and_report(device_id, stored)
    _record_receipt(user, device_id, device_time, received_at, items, results)
    return PushOutcome(results, missing, received_at)


def _record_receipt(user, device_id, device_time, received_at, items, results) -> None:
    task_ids = sorted({raw["task_id"] for raw in items if isinstance(raw, dict) and type(raw.get("task_id")) is int})
    store.insert_receipt(dict(
        user_id=user.id, device_id=device_id, device_time=device_time, received_at=received_at,
        accepted=sum(r.status == "accepted" for r in results), duplicates=sum(r.status == "duplicate" for r in results),
        rejected=sum(r.status == "rejected" for r in results),
        duplicate_ids=[r.id for r in results if r.status == "duplicate"], task_ids=task_ids[:1000],
    ))


@dataclass
class _Valid:
    index: int
    raw: dict
    data: dict
    id: str
    fingerprint: str


@dataclass
class _Applied:
    row: ItemRow
    data: dict
    task: TaskRow
    visit: VisitSnapshot | None
    late: bool


@dataclass
class _Plan:
    """One round's answer for the valid items, assuming every new item gets inserted."""

    tasks: dict[int, TaskRow]
    visits: dict[int, VisitRow]
    results: dict[int, ItemResult] = field(default_factory=dict)
    rows: list[ItemRow] = field(default_factory=list)
    applied: list[_Applied] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)


class _Batch:
    def __init__(self, user: User, device_id: str, received_at: datetime, offset: timedelta):
        self.user, self.device_id, self.received_at, self.offset = user, device_id, received_at, offset
        self.quarantine: list[dict] = []
        self.inserted: list[ItemRow] = []

    def run(self, items: list) -> list[ItemResult]:
        results: list[ItemResult | None] = [None] * len(items)
        valid = []
        for index, raw in enumerate(items):
            if not isinstance(raw, dict):
                results[index] = self.reject(raw, Rejected("invalid_item", _l("an item must be a JSON object")))
                continue
            data, errors = load_item(raw)
            if errors:
                results[index] = self.reject(raw, Rejected("invalid_item", _describe(errors)))
                continue
            valid.append(_Valid(index, raw, data, str(data["id"]), item_fingerprint(raw)))
        if valid:
            plan = self._settle(valid)
            results_of_valid = plan.results
            self.quarantine.extend(plan.quarantine)
            for v in valid:
                results[v.index] = results_of_valid[v.index]
        return results

    def _settle(self, valid: list[_Valid]) -> _Plan:
        """Plan, insert the new items, and apply the plan once the database agrees on which are new."""
        task_ids = {v.data["task_id"] for v in valid}
        tasks = store.lock_tasks(task_ids, self.user.id)
        self.plates = store.plates_of({t.elder_id for t in tasks.values()}) if tasks else {}
        self.keys, self.verdicts = plate_keys(), {}
        held = store.held_items(v.id for v in valid)
        visits, referred = store.visits_of(tasks)
        stored = {**referred, **held}
        for round_ in range(MAX_ROUNDS):
            if round_:  # the last round moved them in memory; the rows are still locked and unwritten
                tasks = store.lock_tasks(task_ids, self.user.id)
                visits, referred = store.visits_of(tasks)
                stored.update(referred)
            plan = self._plan(valid, held, stored, tasks, visits)
            inserted = store.insert_items(plan.rows)
            lost = {row.id for row in plan.rows} - inserted
            if not lost:
                self._apply(plan)
                self.inserted = plan.rows
                return plan
            # Another push stored these ids after our read: answer them from its rows, and redo.
            store.delete_items(inserted)
            taken = store.held_items(lost)
            if taken.keys() != lost:
                raise RuntimeError("an item id conflicted but cannot be read back")
            held.update(taken)
            stored.update(taken)
        raise RuntimeError("the batch's item ids kept changing hands")

    def _plan(self, valid, held, stored, tasks, visits) -> _Plan:
        """Work the items out in request order; moves `tasks` and `visits` in memory."""
        plan = _Plan(tasks=tasks, visits=visits)
        seen = dict(held)
        items = dict(stored)
        for v in valid:
            if v.id in seen:
                plan.results[v.index] = self.answer_held(v.raw, seen[v.id], v.fingerprint, plan.quarantine)
                continue
            try:
                row, task = self.intake(v, plan.tasks)
            except Rejected as rejected:
                plan.results[v.index] = self.reject(v.raw, rejected, plan.quarantine)
                continue
            items[row.id] = seen[row.id] = row
            late_before = rules.AFTER_MISSED in row.flags
            visit = apply_item(row, v.data, task, plan.visits, items)
            snapshot = VisitSnapshot(visit.user_id, list(visit.flags), visit.needs_review) if visit else None
            plan.rows.append(row)
            plan.applied.append(_Applied(row, v.data, task, snapshot,
                                         late=rules.AFTER_MISSED in row.flags and not late_before))
            plan.results[v.index] = ItemResult(row.id, "accepted", "accepted", None, list(row.flags))
        return plan

    def intake(self, v: _Valid, tasks: dict[int, TaskRow]) -> tuple[ItemRow, TaskRow]:
        data = v.data
        task = tasks.get(data["task_id"])
        if task is None:
            raise Rejected("unknown_task", _l("task %(task_id)s does not exist", task_id=data["task_id"]))
        reassigned = task.assignee_id != self.user.id
        if reassigned and not task.reassigned_away:
            raise Rejected("not_assigned", _l("task %(task_id)s was never assigned to you", task_id=task.id))
        if data["type"] == "patrol_report" and task.kind != "patrol":
            raise Rejected("wrong_task_kind", _l("task %(task_id)s is a service task, not a patrol", task_id=task.id))
        corrected = rules.corrected(data["captured_at"], self.offset)
        qr_flag, plate_id = presence(data, task, corrected, self.plates, self.keys, self.verdicts)
        row = ItemRow(
            id=v.id, user_id=self.user.id, device_id=self.device_id, seq=data["seq"], type=data["type"],
            task_id=task.id, captured_at=data["captured_at"], captured_at_corrected=corrected,
            received_at=self.received_at, clock_offset_seconds=self.offset.total_seconds(), qr_flag=qr_flag,
            plate_id=plate_id, fingerprint=v.fingerprint, payload=v.raw, window_start_at=task.window_start_at,
        )
        location = data.get("location")
        if location:
            row.lat, row.lon, row.accuracy_m = location["lat"], location["lon"], location["accuracy_m"]
        row.flags = intake_flags(row, task, reassigned, self.offset, self.received_at)
        return row, task

    def _apply(self, plan: _Plan) -> None:
        """Write what the inserted items did to their visits and tasks, then the follow-ups."""
        touched = {a.task.id for a in plan.applied if a.visit is not None}
        visits = [plan.visits[task_id] for task_id in sorted(touched)]
        store.write_visits(visits, self.received_at)
        moved = store.write_tasks(list(plan.tasks.values()), by_user_id=self.user.id, at=self.received_at)
        store.forget_orm_copies([task_id for task_id, _, _ in moved], [v.id for v in visits if v.id is not None])
        for applied in plan.applied:  # rare: only unverified visits, patrols and late evidence
            if applied.late or applied.row.type == "patrol_report" or (applied.visit and applied.visit.needs_review):
                task = db.session.get(Task, applied.task.id)
                if applied.late:
                    after_late_evidence(task, at=self.received_at)
                after_item(applied.row, applied.data, task, applied.visit, at=self.received_at)

    def answer_held(self, raw, held, fingerprint: str, quarantine: list) -> ItemResult:
        if held.fingerprint != fingerprint or held.user_id != self.user.id:
            return self.reject(raw, Rejected("uuid_reused", _l("this item id was already used for different content")),
                               quarantine)
        return ItemResult(held.id, "duplicate", "accepted", None, list(held.flags))

    def reject(self, raw, rejected: Rejected, quarantine: list | None = None) -> ItemResult:
        item_id = _canonical_uuid(raw.get("id")) if isinstance(raw, dict) else None
        seq = raw.get("seq") if isinstance(raw, dict) and isinstance(raw.get("seq"), int) else None
        task_id = raw.get("task_id") if isinstance(raw, dict) and isinstance(raw.get("task_id"), int) else None
        sent_id = raw.get("id") if isinstance(raw, dict) else None
        (self.quarantine if quarantine is None else quarantine).append(dict(
            item_uuid=item_id or (_storable(str(sent_id)[:64]) if sent_id else None),
            user_id=self.user.id, device_id=self.device_id, seq=seq if seq is None or seq < 2**62 else None,
            task_id=task_id if task_id is None or task_id < 2**31 else None,
            received_at=self.received_at, code=rejected.code, message=_storable(rejected.message), payload=raw,
        ))
        return ItemResult(item_id or (raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str)
                                      else None), "rejected", rejected.code, rejected.message, [])


def _storable(text: str | None) -> str | None:
    """Text a rejected item brought (its id, the field names in its error) as a text column can
    hold it: PostgreSQL's text has no NUL, and a quarantine row that cannot be written would fail
    the whole batch. The payload keeps the item exactly as sent (a json column can hold \u0000)."""
    return text.replace("\x00", "\ufffd") if text and "\x00" in text else text


def _canonical_uuid(value) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _describe(errors: dict) -> str:
    return "; ".join(f"{path}: {' '.join(translate(reason) for reason in reasons)}"
                     for path, reasons in flatten_messages(errors).items())[:500]
