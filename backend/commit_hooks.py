"""What a commit of the app's session does last, in a fixed order, and the one door for raw writes.

At a real commit (not a savepoint's release), after the last flush:
1. the change feed's stamp (backend/changefeed.py) takes the next counter value and stamps the
   synced rows the transaction wrote;
2. the audit trail's append (backend/audit/trail.py) locks the chain's head and writes the
   transaction's entry. It goes last: the head's lock is the last one taken, so chain order is
   commit order, and the stamps are written before it (they are not audited).
Both collect what they need during the transaction: the flushes, the bulk statements run through
the session, and the raw writes of `raw_write`. `install` puts these hooks on the session;
create_app calls it.
"""

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from backend import changefeed
from backend.audit import trail
from backend.extensions import db, driver_execute


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint being released, not the commit
        return
    session.flush()
    changefeed.stamp(session)
    trail.append(session)


def _after_soft_rollback(session: Session, previous_transaction) -> None:
    # Only a rollback of the whole transaction drops what was collected; a rolled-back savepoint
    # (one bad sync item) must not make the writes committed beside it unstamped or unaudited.
    if previous_transaction.parent is None:
        changefeed.forget(session)
        trail.forget(session)


# (event, hook) in the order they are installed; only the before_commit order matters.
HOOKS = (
    ("before_flush", trail.collect_updates_and_deletes),
    ("after_flush", changefeed.collect),
    ("after_flush", trail.collect_inserts),
    ("do_orm_execute", trail.collect_bulk),
    ("before_commit", _before_commit),
    ("after_soft_rollback", _after_soft_rollback),
)


def install(session=None) -> None:
    """Put the commit hooks on `session` (db.session: every session it makes). Idempotent: each
    app a process creates calls it, and there is one db.session."""
    session = db.session if session is None else session
    for name, hook in HOOKS:
        if not event.contains(session, name, hook):
            event.listen(session, name, hook)


def raw_write(table: str, sql: str, params: dict, *, audit: dict | Callable[[list], dict],
              expect_rows: int | None = None, session=None) -> list:
    """Run a write straight through the driver (extensions.driver_execute), which no session hook
    sees, and account for it in the same call.

    `audit` is the change recorded in the transaction's audit entry ("table" is added); for a
    statement with RETURNING it may be a function of the rows returned. A write to a table phones
    sync (one with `change_seq`) is put off to the commit: it runs right after the change feed's
    counter is taken, with that value as %(seq)s, so one statement writes the rows and stamps
    them. Returns the rows the statement returned (none for a write put off to the commit).
    `expect_rows`: the rows it must touch; StaleDataError otherwise (at commit, for a write put
    off to it).
    """
    session = db.session if session is None else session
    if "change_seq" in db.metadata.tables[table].c:
        if "%(seq)s" not in sql:
            raise ValueError(f"a write to {table} must stamp its rows: change_seq = %(seq)s")
        if callable(audit):
            raise ValueError("a write put off to the commit returns no rows to describe")
        trail.record(session, {"table": table, **audit})
        changefeed.at_stamp(session, lambda seq: _run(session, sql, {**params, "seq": seq}, expect_rows))
        return []
    rows = _run(session, sql, params, expect_rows)
    trail.record(session, {"table": table, **(audit(rows) if callable(audit) else audit)})
    return rows


def _run(session, sql: str, params: dict, expect_rows: int | None) -> list:
    cursor = driver_execute(sql, params, session=session)
    if expect_rows is not None and cursor.rowcount != expect_rows:
        raise StaleDataError(f"{expect_rows - cursor.rowcount} of {expect_rows} rows changed under their lock")
    return cursor.fetchall() if cursor.description else []
