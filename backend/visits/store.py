"""Set-based reads and writes of one push batch: one statement per table, no ORM unit of work.

The ORM's per-object flush (and the audit trail's per-object change capture) cost milliseconds
per item, so a push reads its rows once per table and writes them back once per table. These
statements run with `audit_skip`: each write describes itself to the audit trail compactly
(ids, transitions), and tells the change feed which synced rows it touched, since neither sees
Core statements row by row.

On PostgreSQL every statement is plain SQL run straight through the driver
(extensions.driver_execute), and each write passes its rows as one JSON parameter
(`json_populate_recordset`): a multi-row VALUES list of a 100-item batch has ~2,000 parameters,
and psycopg re-parses a query of more than 50 parameters on every call (~5 ms a batch). SQLite
takes the same rows through Core statements.
"""

import dataclasses
import json
import operator
from collections import namedtuple
from datetime import datetime
from functools import cache

import orjson
from sqlalchemy import bindparam, delete, exists, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.exc import StaleDataError

from backend import changefeed
from backend.audit import trail
from backend.columns import utcnow
from backend.elders.models import Elder
from backend.extensions import among, db, driver_execute, on_postgres
from backend.tasks.models import Task, TaskEvent, TaskRemoval
from backend.visits.evidence import ItemRow, TaskRow, VisitRow
from backend.visits.models import PushReceipt, QuarantinedItem, Visit, VisitItem

SKIP = {"audit_skip": True}
_items, _visits, _tasks = VisitItem.__table__, Visit.__table__, Task.__table__
ITEM_COLUMNS = [c.name for c in _items.c]
VISIT_COLUMNS = [c.name for c in _visits.c if c.name not in ("id", "created_at", "updated_at")]
# A stored item as a duplicate answer and a visit's recompute read it.
HeldItem = namedtuple("HeldItem", ["id", "user_id", "fingerprint", "flags", "device_id", "captured_at",
                                   "captured_at_corrected", "distance_m", "qr_flag"])


def _execute(statement, params=None):
    return db.session.execute(statement.execution_options(**SKIP), params)


# ------------------------------------------------------------------ reads

def plan_for_key_lookups() -> None:
    """Keep the batch's statements on their indexes, also when planned while the tables are tiny.

    Every statement of a push looks rows up by key, and so do the foreign-key checks its inserts
    fire (visits → visit_items, three of them). PostgreSQL plans a backend's foreign-key check
    once, at its first use, and keeps that plan until the table is next analyzed. On a fresh
    database the first pushes find visit_items nearly empty, so the kept plan is a sequential scan,
    and every later check reads the whole table: measured at 0.3–1 ms a check, 1.0–2.0 ms of
    PostgreSQL CPU an item, until autovacuum happens to analyze the table. With sequential scans
    priced out for this transaction (SET LOCAL: nothing else is affected) the plans kept are
    index lookups, right at any size. JIT goes off with it: a scan that has no index to use (the
    device history's quarantine half) still costs 10^10 then, and JIT-compiled it took 180 ms.
    """
    if on_postgres():
        driver_execute("SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)", {})


def lock_tasks(task_ids, user_id: int) -> dict[int, TaskRow]:
    """The tasks with their elder's home, locked in id order (two batches never deadlock), and
    whether each was reassigned away from `user_id` (their check-ins are still evidence).
    An id past the INTEGER column's range names no task (PostgreSQL would refuse the array)."""
    task_ids = sorted({task_id for task_id in task_ids if task_id < 2**31})
    if not task_ids:
        return {}
    if on_postgres():
        rows = driver_execute(_LOCK_TASKS_PG, {"ids": task_ids, "user_id": user_id}).fetchall()
    else:
        elders, removals = Elder.__table__, TaskRemoval.__table__
        reassigned_away = exists().where(removals.c.task_id == _tasks.c.id, removals.c.user_id == user_id)
        rows = db.session.execute(
            select(*(_tasks.c[name] for name in _TASK_COLUMNS), elders.c.lat.label("elder_lat"),
                   elders.c.lon.label("elder_lon"), reassigned_away.label("reassigned_away"))
            .join(elders, elders.c.id == _tasks.c.elder_id)
            .where(_tasks.c.id.in_(task_ids)).order_by(_tasks.c.id).with_for_update(of=_tasks))
    return {row[0]: TaskRow(*row) for row in rows}  # columns in TaskRow's order


def held_items(ids) -> dict[str, HeldItem]:
    """Stored items by id (the columns a duplicate answer and a visit recompute read)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    if on_postgres():
        rows = driver_execute(_HELD_ITEMS_PG, {"ids": ids}).fetchall()
    else:
        rows = db.session.execute(select(*(_items.c[name] for name in HeldItem._fields)).where(_items.c.id.in_(ids)))
    return {row[0]: HeldItem._make(row) for row in rows}


def visits_of(task_ids) -> tuple[dict[int, VisitRow], dict[str, HeldItem]]:
    """The tasks' visits by task id, and the stored check-in and check-out items they point at
    (a visit's recompute reads them). Read after lock_tasks, in a statement of its own: a
    statement that waited for a task's lock still sees the other tables as they were before
    it waited, and would miss a visit the lock's holder had just written."""
    if not task_ids:
        return {}, {}
    task_ids = sorted(task_ids)
    if not on_postgres():
        rows = db.session.execute(select(*(_visits.c[name] for name in _VISIT_READ))
                                  .where(_visits.c.task_id.in_(task_ids)))
        visits = {row.task_id: VisitRow(**row._mapping) for row in rows}
        return visits, held_items(i for v in visits.values() for i in (v.check_in_item_id, v.check_out_item_id) if i)
    visits, items = {}, {}
    width = len(HeldItem._fields)
    for row in driver_execute(_VISITS_PG, {"ids": task_ids}).fetchall():
        visit = VisitRow(**dict(zip(_VISIT_READ, row, strict=False)))
        visits[visit.task_id] = visit
        for start in (len(_VISIT_READ), len(_VISIT_READ) + width):
            if row[start] is not None:
                items[row[start]] = HeldItem._make(row[start:start + width])
    return visits, items


_TASK_COLUMNS = ("id", "kind", "status", "version", "assignee_id", "elder_id", "care_plan_id", "created_at",
                 "window_start_at", "window_end_at", "min_duration_minutes")
_LOCK_TASKS_PG = (
    f"SELECT {', '.join('t.' + name for name in _TASK_COLUMNS)}, e.lat, e.lon, "
    "EXISTS (SELECT 1 FROM task_removals r WHERE r.task_id = t.id AND r.user_id = %(user_id)s) "
    "FROM tasks t JOIN elders e ON e.id = t.elder_id WHERE t.id = ANY(%(ids)s::int[]) ORDER BY t.id FOR UPDATE OF t")
_HELD_ITEMS_PG = f"SELECT {', '.join(HeldItem._fields)} FROM visit_items WHERE id = ANY(%(ids)s::varchar[])"
_VISIT_READ = ("id", *VISIT_COLUMNS)
_VISITS_PG = (
    f"SELECT {', '.join('v.' + name for name in _VISIT_READ)}, "
    f"{', '.join('i.' + name for name in HeldItem._fields)}, {', '.join('o.' + name for name in HeldItem._fields)} "
    "FROM visits v LEFT JOIN visit_items i ON i.id = v.check_in_item_id "
    "LEFT JOIN visit_items o ON o.id = v.check_out_item_id WHERE v.task_id = ANY(%(ids)s::int[])")


# ------------------------------------------------------------------ writes

def _records(rows, without: tuple[str, ...] = ()) -> str:
    """The rows as one JSON array of objects, for `json_populate_recordset(NULL::table, …)`.

    orjson writes dataclass rows by field name (ItemRow and VisitRow use the column names) and
    aware datetimes in ISO 8601, in C; per-column binary arrays cost twice the Python time
    (psycopg builds them element by element), ~25 µs an item. Fields in `without` are left out
    (see insert_items).
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


def _from_records(table_name: str, param: str) -> str:
    return f"json_populate_recordset(NULL::{table_name}, %({param})s::json)"


def insert_items(rows: list[ItemRow]) -> set[str]:
    """INSERT … ON CONFLICT (id) DO NOTHING; returns the ids this transaction inserted.

    An id missing from the answer is held by another push (committed, or committing: the insert
    waits for it). Rows go in id order, so two pushes sharing ids never deadlock.
    """
    if not rows:
        return set()
    rows = sorted(rows, key=lambda r: r.id)
    if on_postgres():
        payloads = [_dumps(row.payload) for row in rows]
        inserted = driver_execute(_insert_items_sql(), {"rows": _records(rows, ("payload",)), "payloads": payloads})
        return {row[0] for row in inserted.fetchall()}
    statement = sqlite_insert(_items).on_conflict_do_nothing(index_elements=["id"]).returning(_items.c.id)
    params = [{name: getattr(row, name) for name in ITEM_COLUMNS} for row in rows]
    return set(_execute(statement, params).scalars())


@cache
def _insert_items_sql() -> str:
    """The rows but their payloads as one JSON array of records, the payloads beside it as a
    text array (zipped back by ROWS FROM), each cast to json. Inside the records' JSON a payload
    would go through PostgreSQL's JSON reader twice, unescaped char by char the first time, and a
    \\u0000 (allowed in a json column, where the payload used to go verbatim) has no text form
    there, so a nested payload holding one would fail; as text it is only read once, by the cast."""
    dialect = db.session.get_bind().dialect
    columns = [c for c in _items.c if c.name != "payload"]
    types = ", ".join(f"{c.name} {c.type.compile(dialect=dialect)}" for c in columns)
    values = ", ".join("r.payload::json" if name == "payload" else f"r.{name}" for name in ITEM_COLUMNS)
    return (f"INSERT INTO visit_items ({', '.join(ITEM_COLUMNS)}) SELECT {values} "
            f"FROM ROWS FROM (json_to_recordset(%(rows)s::json) AS ({types}), unnest(%(payloads)b::text[])) "
            f"AS r({', '.join(c.name for c in columns)}, payload) ON CONFLICT (id) DO NOTHING RETURNING id")


def delete_items(ids) -> None:
    """Take back rows this transaction inserted (before anything refers to them)."""
    if ids:
        _execute(delete(_items).where(among(_items.c.id, ids)))


def write_visits(visits: list[VisitRow], at: datetime) -> None:
    """New visits inserted and the others updated (their tasks are locked: no one else writes them)."""
    if not visits:
        return
    new = [v for v in visits if v.id is None]
    old = [v for v in visits if v.id is not None]
    if on_postgres():
        if new:
            columns = ", ".join(VISIT_COLUMNS)
            driver_execute(f"INSERT INTO visits ({columns}, created_at, updated_at) "
                        f"SELECT {columns}, %(at)s, %(at)s FROM {_from_records('visits', 'rows')}",
                        {"rows": _records(new), "at": at})
        if old:
            columns = [n for n in VISIT_COLUMNS if n not in ("task_id", "user_id")]
            # `id = ANY(…)` beside the join: the primary key is used whatever the planner guesses.
            driver_execute("UPDATE visits SET " + ", ".join(f"{n} = v.{n}" for n in columns)
                        + f", updated_at = %(at)s FROM {_from_records('visits', 'rows')} AS v "
                        "WHERE visits.id = v.id AND visits.id = ANY(%(id)b::int[])",
                        {"rows": _records(old), "id": [v.id for v in old], "at": at})
        return
    if new:
        _execute(insert(_visits), [{**{n: getattr(v, n) for n in VISIT_COLUMNS}, "created_at": at, "updated_at": at}
                                   for v in new])
    if old:
        _execute(update(_visits).where(_visits.c.id == bindparam("b_id")),
                 [{**{n: getattr(v, n) for n in VISIT_COLUMNS if n != "task_id"}, "b_id": v.id, "updated_at": at}
                  for v in old])


def write_tasks(tasks: list[TaskRow], *, by_user_id: int, at: datetime) -> list:
    """The tasks' events now, and their new status (one version step) with their change-feed
    stamp in one UPDATE at commit (changefeed.write_at_commit); the row locks are held till then.

    Returns the transitions as (task id, from, to). At commit, raises StaleDataError when a task's
    version moved under the batch's row lock (it cannot; checked all the same).
    """
    moved = [t for t in tasks if t.status != t.initial_status]
    if not moved:
        return []
    events = [{"task_id": t.id, "at": at, "from_status": old, "to_status": new, "by_user_id": by_user_id,
               "by_system": "sync", "reason": reason} for t in moved for old, new, reason in t.transitions]
    rows = [{"b_id": t.id, "b_version": t.version, "status": t.status} for t in moved]
    if on_postgres():
        columns = "task_id, at, from_status, to_status, by_user_id, by_system, reason"
        driver_execute(f"INSERT INTO task_events ({columns}) SELECT {columns} FROM "
                    f"{_from_records('task_events', 'events')}", {"events": _records(events)})
    else:
        _execute(insert(TaskEvent.__table__), events)
    changefeed.write_at_commit(db.session, lambda seq: _update_tasks(rows, at, seq))
    transitions = [(t.id, t.initial_status, t.status) for t in moved]
    trail.record(db.session, {"table": "tasks", "action": "push_update", "transitions": transitions,
                              "events": len(events)})
    return transitions


def _update_tasks(rows: list[dict], at: datetime, seq: int) -> None:
    if on_postgres():  # `id = ANY(…)` beside the join: the primary key, never a scan of all tasks
        result = driver_execute(
            "UPDATE tasks SET status = v.status, status_changed_at = %(at)s, updated_at = %(now)s, "
            "version = tasks.version + 1, change_seq = %(seq)s "
            "FROM json_to_recordset(%(rows)s::json) AS v(b_id int, b_version int, status varchar) "
            "WHERE tasks.id = v.b_id AND tasks.version = v.b_version AND tasks.id = ANY(%(id)b::int[])",
            {"rows": _records(rows), "id": [r["b_id"] for r in rows], "at": at, "now": utcnow(), "seq": seq})
    else:
        result = _execute(
            update(_tasks).where(_tasks.c.id == bindparam("b_id"), _tasks.c.version == bindparam("b_version"))
            .values(version=_tasks.c.version + 1, change_seq=seq, status_changed_at=at),
            rows)
    if result.rowcount >= 0 and result.rowcount != len(rows):
        raise StaleDataError(f"{len(rows) - result.rowcount} of the batch's tasks changed under their lock")


def insert_quarantine(rows: list[dict]) -> None:
    if rows:
        _execute(insert(QuarantinedItem.__table__), rows)
        trail.record(db.session, {"table": "quarantined_items", "action": "push_insert",
                                  "items": [[r["item_uuid"], r["code"]] for r in rows]})


def insert_receipt(values: dict) -> None:
    if on_postgres():
        columns = list(values)
        driver_execute(f"INSERT INTO push_receipts ({', '.join(columns)}) VALUES ("
                    + ", ".join(f"%({c})s::json" if isinstance(values[c], list) else f"%({c})s" for c in columns) + ")",
                    {c: _dumps(v) if isinstance(v, list) else v for c, v in values.items()})
    else:
        _execute(insert(PushReceipt.__table__), [values])
    trail.record(db.session, {"table": "push_receipts", "action": "insert",
                              "values": {k: v.isoformat() if isinstance(v, datetime) else v
                                         for k, v in values.items()}})


def record_evidence(item_ids: list[str], visits: list[VisitRow]) -> None:
    """The audit entry's account of the evidence rows (items are immutable; their payloads stay)."""
    if item_ids:
        trail.record(db.session, {"table": "visit_items", "action": "push_insert", "ids": item_ids})
    if visits:
        trail.record(db.session, {"table": "visits", "action": "push_upsert",
                                  "task_ids": sorted(v.task_id for v in visits)})


def forget_orm_copies(task_ids, visit_ids) -> None:
    """Expire ORM objects of rows written here, so a caller holding them reads the new values."""
    stale = {(Task, task_id) for task_id in task_ids} | {(Visit, visit_id) for visit_id in visit_ids}
    for key, obj in list(db.session.identity_map.items()):
        if (key[0], key[1][0]) in stale:
            db.session.expire(obj)
