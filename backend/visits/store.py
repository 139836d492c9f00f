"""Set-based reads and writes of one push batch: one statement per table, no ORM unit of work.

The ORM's per-object flush (and the audit trail's per-object change capture) cost milliseconds
per item, so a push reads its rows once per table and writes them back once per table, with the
statements of backend/visits/push_sql.py run straight through the driver. Each write goes
through commit_hooks.raw_write, which records it in the audit entry compactly (ids, transitions)
and, for the tasks, writes and stamps them for the change feed at commit.
"""

import dataclasses
import json
import operator
from collections import namedtuple
from datetime import datetime
from functools import cache

import orjson

from backend.columns import utcnow
from backend.commit_hooks import raw_write
from backend.extensions import db, driver_execute
from backend.tasks.models import Task
from backend.visits import push_sql
from backend.visits.evidence import ItemRow, TaskRow, VisitRow
from backend.visits.models import Visit

# A stored item as a duplicate answer and a visit's recompute read it (push_sql.HELD_ITEMS).
HeldItem = namedtuple("HeldItem", ["id", "user_id", "fingerprint", "flags", "device_id", "captured_at",
                                   "captured_at_corrected", "distance_m", "qr_flag"])
# A door plate as plates.services.verify_presence reads it from `known` (push_sql.PLATES_OF).
PlateRow = namedtuple("PlateRow", ["plate_id", "id", "elder_id", "kind", "status"])
_VISIT_WIDTH, _ITEM_WIDTH = len(dataclasses.fields(VisitRow)), len(HeldItem._fields)


# ------------------------------------------------------------------ reads

def plan_for_key_lookups() -> None:
    """Keep the batch's statements on their indexes, also when planned while the tables are tiny.

    Every statement of a push looks rows up by key, and so do the foreign-key checks its inserts
    fire (visits → visit_items, three of them). PostgreSQL plans a backend's foreign-key check
    once, at its first use, and keeps that plan until the table is next analyzed. On a fresh
    database the first pushes find visit_items nearly empty, so the kept plan is a sequential scan,
    and every later check reads the whole table, until autovacuum happens to analyze it. With
    sequential scans priced out for this transaction (set_config(…, true) is SET LOCAL: nothing
    else is affected) the plans kept are index lookups, right at any size. JIT goes off with it: a
    scan that has no index to use (the device history's quarantine half) still costs 10^10 then,
    and JIT would compile it.
    """
    driver_execute(push_sql.PLAN_FOR_KEY_LOOKUPS)


def lock_tasks(task_ids, user_id: int) -> dict[int, TaskRow]:
    """The tasks with their elder's home, locked in id order (two batches never deadlock), and
    whether each was reassigned away from `user_id` (their check-ins are still evidence).
    An id past the INTEGER column's range names no task (PostgreSQL would refuse the array)."""
    task_ids = sorted({task_id for task_id in task_ids if task_id < 2**31})
    if not task_ids:
        return {}
    rows = driver_execute(push_sql.LOCK_TASKS, {"ids": task_ids, "user_id": user_id}).fetchall()
    return {row[0]: TaskRow(*row) for row in rows}


def plates_of(elder_ids) -> dict[str, PlateRow]:
    """Every plate (active or revoked) of these elders by plate_id."""
    rows = driver_execute(push_sql.PLATES_OF, {"ids": sorted(set(elder_ids))}).fetchall()
    return {row[0]: PlateRow._make(row) for row in rows}


def held_items(ids) -> dict[str, HeldItem]:
    """Stored items by id (the columns a duplicate answer and a visit recompute read)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    return {row[0]: HeldItem._make(row) for row in driver_execute(push_sql.HELD_ITEMS, {"ids": ids}).fetchall()}


def visits_of(task_ids) -> tuple[dict[int, VisitRow], dict[str, HeldItem]]:
    """The tasks' visits by task id, and the stored check-in and check-out items they point at
    (a visit's recompute reads them). Read after lock_tasks, in a statement of its own: a
    statement that waited for a task's lock still sees the other tables as they were before
    it waited, and would miss a visit the lock's holder had just written."""
    if not task_ids:
        return {}, {}
    visits, items = {}, {}
    for row in driver_execute(push_sql.VISITS, {"ids": sorted(task_ids)}).fetchall():
        visit = VisitRow(*row[:_VISIT_WIDTH])
        visits[visit.task_id] = visit
        for start in (_VISIT_WIDTH, _VISIT_WIDTH + _ITEM_WIDTH):
            if row[start] is not None:
                items[row[start]] = HeldItem._make(row[start:start + _ITEM_WIDTH])
    return visits, items


# ------------------------------------------------------------------ writes

def insert_items(rows: list[ItemRow]) -> set[str]:
    """Claim the ids (ON CONFLICT (id) DO NOTHING) and store the claimed items; returns the ids
    this transaction inserted.

    An id missing from the answer is held by another push (committed, or committing: the insert
    waits for it). Rows go in id order, so two pushes sharing ids never deadlock.
    """
    if not rows:
        return set()
    rows = sorted(rows, key=lambda r: r.id)
    inserted = raw_write("visit_items", push_sql.INSERT_ITEMS,
                         {"rows": _records(rows, ("payload",)), "payloads": [_dumps(row.payload) for row in rows]},
                         audit=lambda returned: {"action": "push_insert", "ids": sorted(row[0] for row in returned)})
    return {row[0] for row in inserted}


def delete_items(ids) -> None:
    """Take back rows this transaction inserted (before anything refers to them)."""
    if ids:
        ids = sorted(ids)
        raw_write("visit_items", push_sql.DELETE_ITEMS, {"ids": ids}, audit={"action": "push_take_back", "ids": ids})


def write_visits(visits: list[VisitRow], at: datetime) -> None:
    """New visits inserted and the others updated (their tasks are locked: no one else writes them)."""
    new = [v for v in visits if v.id is None]
    old = [v for v in visits if v.id is not None]
    if new:
        raw_write("visits", push_sql.INSERT_VISITS, {"rows": _records(new), "at": at},
                  audit={"action": "push_insert", "task_ids": [v.task_id for v in new]})
    if old:
        raw_write("visits", push_sql.UPDATE_VISITS, {"rows": _records(old), "ids": [v.id for v in old], "at": at},
                  audit={"action": "push_update", "task_ids": [v.task_id for v in old]})


def write_tasks(tasks: list[TaskRow], *, by_user_id: int, at: datetime) -> list:
    """The tasks' events now, and their new status (one version step) with their change-feed
    stamp in one UPDATE at commit; the row locks are held till then.

    Returns the transitions as (task id, from, to). At commit, raises StaleDataError when a task's
    version moved under the batch's row lock (it cannot; checked all the same).
    """
    moved = [t for t in tasks if t.status != t.initial_status]
    if not moved:
        return []
    events = [{"task_id": t.id, "window_start_at": t.window_start_at, "at": at, "from_status": old,
               "to_status": new, "by_user_id": by_user_id, "by_system": "sync", "reason": reason}
              for t in moved for old, new, reason in t.transitions]
    raw_write("task_events", push_sql.INSERT_TASK_EVENTS, {"rows": _dumps(events)},
              audit={"action": "push_insert", "rows": len(events)})
    transitions = [(t.id, t.initial_status, t.status) for t in moved]
    raw_write("tasks", push_sql.UPDATE_TASKS,
              {"ids": [t.id for t in moved], "starts": [t.window_start_at for t in moved],
               "versions": [t.version for t in moved],
               "statuses": [t.status for t in moved], "at": at, "now": utcnow()},
              audit={"action": "push_update", "transitions": transitions}, expect_rows=len(moved))
    return transitions


def insert_quarantine(rows: list[dict]) -> None:
    if rows:
        raw_write("quarantined_items", push_sql.INSERT_QUARANTINE,
                  {"rows": _dumps([{k: v for k, v in r.items() if k != "payload"} for r in rows]),
                   "payloads": [_dumps(r["payload"]) for r in rows]},
                  audit={"action": "push_insert", "items": [[r["item_uuid"], r["code"]] for r in rows]})


def write_device_runs(device_id: str, runs: list, *, new: bool) -> bool:
    """The device's seq runs written (backend/visits/seqs.py); a `new` row only if no other push
    created it meanwhile: returns whether it was written."""
    params = {"device_id": device_id, "runs": _dumps(runs)}
    audit = {"action": "push_insert" if new else "push_update", "device_id": device_id}
    if new:
        return bool(raw_write("device_seq_states", push_sql.INSERT_DEVICE_RUNS, params, audit=audit))
    raw_write("device_seq_states", push_sql.UPDATE_DEVICE_RUNS, params, audit=audit)
    return True


def insert_receipt(values: dict) -> None:
    params = {**values, "duplicate_ids": _dumps(values["duplicate_ids"]), "task_ids": _dumps(values["task_ids"])}
    raw_write("push_receipts", push_sql.INSERT_RECEIPT, params,
              audit={"action": "insert", "values": {k: v.isoformat() if isinstance(v, datetime) else v
                                                    for k, v in values.items()}})


def forget_orm_copies(task_ids, visit_ids) -> None:
    """Expire ORM objects of rows written here, so a caller holding them reads the new values."""
    stale = {(Task, task_id) for task_id in task_ids} | {(Visit, visit_id) for visit_id in visit_ids}
    for key, obj in list(db.session.identity_map.items()):
        if (key[0], key[1][0]) in stale:
            db.session.expire(obj)


# ------------------------------------------------------------------ rows as JSON

def _records(rows, without: tuple[str, ...] = ()) -> str:
    """The rows as one JSON array of objects, for json_to_recordset / json_populate_recordset.

    orjson writes dataclass rows by field name (ItemRow and VisitRow use the column names) and
    aware datetimes in ISO 8601, in C; per-column binary arrays cost twice the Python time
    (psycopg builds them element by element). Fields in `without` are left out (the payloads,
    which go beside the records: push_sql.INSERT_ITEMS).
    """
    if without and rows:
        names, values = _fields_of(type(rows[0]), without)
        rows = [dict(zip(names, values(r), strict=True)) for r in rows]
    return _dumps(rows)


@cache
def _fields_of(row_type, without: tuple[str, ...]) -> tuple[tuple[str, ...], operator.attrgetter]:
    """A dataclass's field names but `without`, and a getter of their values as a tuple
    (dataclasses.fields() on every row cost more than writing the row)."""
    names = tuple(f.name for f in dataclasses.fields(row_type) if f.name not in without)
    return names, operator.attrgetter(*names)


def _dumps(value) -> str:
    """JSON through orjson; a value it refuses (an integer past 64 bits) goes through the
    standard library, which writes the same JSON values."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, default=_plain, ensure_ascii=False)


def _plain(value):
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value.isoformat()
