"""Recording every write into the hash-chained audit trail, and verifying the chain.

Session hooks collect each flushed insert, update and delete (with the changed values; secrets
redacted) and each bulk statement (the sweep's UPDATEs, generation's INSERTs); writes the session
never sees describe themselves (`record`, through commit_hooks.raw_write). At commit one entry is
appended for the whole transaction. The entry's hash covers the previous entry's hash, so the
chain proves order and completeness; the head row is locked as the transaction's last statement
(after the change feed's counter: backend/commit_hooks.py installs the hooks in that order), so
chain order is commit order.
"""

import hashlib
import json
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import g, has_request_context, request
from sqlalchemy import column, inspect, select, union_all
from sqlalchemy import table as table_clause
from sqlalchemy.orm import Session

from backend.audit.models import AuditEntry, AuditHead
from backend.columns import utcnow
from backend.extensions import driver_execute

GENESIS = "0" * 64
_PENDING = "audit_pending"
REDACTED = {"password_hash", "token_hash"}
# notification_keys repeats the key of the notification inserted beside it, which is recorded.
SKIP_TABLES = {"audit_trail", "audit_head", "sync_clock", "login_throttle", "notification_keys"}

# Outside requests (jobs, commands) the actor is set with `acting_as`.
_actor: ContextVar[tuple[str, str | None] | None] = ContextVar("audit_actor", default=None)


class acting_as:
    """`with acting_as("job:sweep"): …` names the actor of writes made outside a request."""

    def __init__(self, actor: str, source: str | None = None):
        self.value = (actor, source)

    def __enter__(self):
        self.token = _actor.set(self.value)
        return self

    def __exit__(self, *exc):
        _actor.reset(self.token)


def _who() -> dict:
    if has_request_context():
        user = getattr(g, "user", None)
        claims = getattr(g, "token_claims", None) or {}
        return {"actor": f"user:{user.id}" if user is not None else "anonymous",
                "user_id": user.id if user is not None else None, "device_id": claims.get("did"),
                "source": f"{request.method} {request.path}"[:200]}
    if _actor.get() is not None:
        actor, source = _actor.get()
    else:
        import click

        command = click.get_current_context(silent=True)
        actor, source = (f"cli:{command.command_path}", None) if command else ("system", None)
    return {"actor": actor[:80], "user_id": None, "device_id": None, "source": source}


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _row_change(obj, action: str) -> dict | None:
    mapper = inspect(obj).mapper
    table = mapper.persist_selectable.name
    if table in SKIP_TABLES:
        return None
    state = inspect(obj)
    key = [_plain(v) for v in (state.identity or mapper.primary_key_from_instance(obj))]
    values = {}
    for attr in mapper.column_attrs:
        name = attr.key
        if action == "update":
            history = state.attrs[name].history
            if not history.has_changes():
                continue
            value = history.added[0] if history.added else None
        else:
            value = getattr(obj, name, None)
        values[name] = "[redacted]" if name in REDACTED else _plain(value)
    if action == "update" and not values:
        return None
    return {"table": table, "key": key, "action": action, "values": values}


def collect_updates_and_deletes(session: Session, flush_context, instances) -> None:
    """before_flush: the values of updates and deletes, read before the flush expires them."""
    pending = session.info.setdefault(_PENDING, [])
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            change = _row_change(obj, "update")
            if change:
                pending.append(change)
    for obj in session.deleted:
        change = _row_change(obj, "delete")
        if change:
            pending.append(change)


def collect_inserts(session: Session, flush_context) -> None:
    """after_flush: the inserted rows, with the keys the database gave them."""
    pending = session.info.setdefault(_PENDING, [])
    for obj in session.new:
        change = _row_change(obj, "insert")
        if change:
            pending.append(change)


def collect_bulk(orm_execute_state):
    """do_orm_execute: a bulk INSERT, UPDATE or DELETE run through the session, once it has run."""
    statement = orm_execute_state.statement
    if orm_execute_state.is_select or orm_execute_state.execution_options.get("audit_skip"):
        return None
    table = getattr(getattr(statement, "table", None), "name", None)
    if table is None or table in SKIP_TABLES:
        return None
    result = orm_execute_state.invoke_statement()
    compiled = statement.compile(dialect=orm_execute_state.session.get_bind().dialect)
    params = compiled.params
    params = ({k: _plain(v) for k, v in params.items() if not isinstance(v, list | tuple | dict)}
              if len(params) <= 50 else {"count": len(params)})
    orm_execute_state.session.info.setdefault(_PENDING, []).append({
        # An ORM statement is an Annotated… subclass: name the kind, not the class.
        "table": table, "action": "bulk_" + ("insert" if statement.is_insert else
                                             "update" if statement.is_update else "delete"),
        "statement": str(compiled)[:2000], "params": params,
        "rows": rows if (rows := getattr(result, "rowcount", -1)) >= 0 else None,  # unknown with RETURNING
    })
    return result


def record(session: Session, change: dict) -> None:
    """Add a change its writer describes itself, for a write the session's hooks do not see row by
    row: the raw writes of commit_hooks.raw_write, or a statement run with `audit_skip`."""
    session.info.setdefault(_PENDING, []).append(change)


# Every committing writer runs these, straight through the driver (extensions.driver_execute).
_LOCK_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"
# The first entry of a fresh database: a head at the genesis, taken by whichever writer comes first.
_START_CHAIN = "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, %(genesis)s) ON CONFLICT (id) DO NOTHING"
# The entry, and the head moved to it in the same statement. `changes` is the JSON column's text
# as SQLAlchemy's JSON type writes it (json.dumps).
_APPEND = """
WITH moved AS (UPDATE audit_head SET seq = %(seq)s, hash = %(hash)s WHERE id = 1)
INSERT INTO audit_trail (seq, at, actor, user_id, device_id, source, changes, prev_hash, hash)
VALUES (%(seq)s, %(at)s, %(actor)s, %(user_id)s, %(device_id)s, %(source)s, %(changes)s::json, %(prev_hash)s,
        %(hash)s)
"""


def append(session: Session) -> None:
    """At commit, after the last flush and the change feed's stamp: the transaction's entry."""
    changes = session.info.pop(_PENDING, None)
    if not changes:
        return
    who = _who()
    head = driver_execute(_LOCK_HEAD, session=session).fetchone()
    if head is None:
        driver_execute(_START_CHAIN, {"genesis": GENESIS}, session=session)
        head = driver_execute(_LOCK_HEAD, session=session).fetchone()
    seq, prev = head
    entry = {"seq": seq + 1, "at": utcnow(), **who, "changes": changes}
    digest = entry_hash(prev, entry)
    driver_execute(_APPEND, {**entry, "changes": json.dumps(changes), "prev_hash": prev, "hash": digest},
                   session=session)


def forget(session: Session) -> None:
    """A rollback of the whole transaction: none of its changes happened."""
    session.info.pop(_PENDING, None)


def entry_hash(prev_hash: str, entry: dict) -> str:
    body = {
        "seq": entry["seq"], "at": _plain(entry["at"]), "actor": entry["actor"], "user_id": entry["user_id"],
        "device_id": entry["device_id"], "source": entry["source"], "changes": entry["changes"],
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    broken_at: int | None = None
    reason: str | None = None


def whole_trail(session: Session):
    """The online trail and its months moved to the archive schema (backend/archive.py), as one."""
    from backend.archive import archive_schema, archived

    online = AuditEntry.__table__
    parts = [select(*online.c)]
    for name in archived(session, online.name):
        month = table_clause(name, *(column(c.name, c.type) for c in online.c), schema=archive_schema())
        parts.append(select(*month.c))
    return union_all(*parts).subquery("trail") if len(parts) > 1 else online


def verify_chain(session: Session, *, batch: int = 5000) -> VerifyResult:
    """Walk the chain in order, through the archived months too; the first entry whose link or
    content does not hold is reported."""
    prev, expected, count = GENESIS, 1, 0
    last_seq = 0
    trail = whole_trail(session)
    while True:
        # Plain rows, not ORM objects: what is in the database now, whatever a session remembers.
        rows = session.execute(select(*trail.c).where(trail.c.seq > last_seq)
                               .order_by(trail.c.seq).limit(batch)).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected:
                return VerifyResult(False, count, expected, f"entry {expected} is missing")
            if row.prev_hash != prev:
                return VerifyResult(False, count, row.seq, "its link to the previous entry is broken")
            entry = {"seq": row.seq, "at": row.at, "actor": row.actor, "user_id": row.user_id,
                     "device_id": row.device_id, "source": row.source, "changes": row.changes}
            if entry_hash(prev, entry) != row.hash:
                return VerifyResult(False, count, row.seq, "its content was changed after it was written")
            prev, expected, count = row.hash, expected + 1, count + 1
            last_seq = row.seq
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    if head is not None and (head.seq != count or head.hash != prev):
        return VerifyResult(False, count, count + 1 if head.seq > count else head.seq,
                            "the chain ends before its recorded head (entries deleted at the end)")
    return VerifyResult(True, count)
