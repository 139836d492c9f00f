"""The change feed: one server-side counter that orders every write phones must see.

Rows that phones sync (tasks, elders, tombstones, …) carry `change_seq`. Each committing
transaction that touched such rows takes the next counter value as its very last statement and
stamps the rows with it. The counter row is locked from that UPDATE to the commit, so counter
order equals commit order: a reader that sees counter value N is sure every change ≤ N is
committed and visible. That is what lets a pull cursor never skip a change, even when writers
commit in another order than they started.
"""

from sqlalchemy import BigInteger, Integer, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from backend.extensions import db, driver_execute, on_postgres

_PENDING = "changefeed_pending"
_WRITERS = "changefeed_writers"


class SyncClock(db.Model):
    __tablename__ = "sync_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class ChangeTracked:
    """Mixin for rows phones sync; the commit hook stamps `change_seq`."""

    change_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, index=True)


# Core, built once: every pull reads the counter, and the ORM's per-statement work cost more than
# the read itself.
_CURRENT = select(SyncClock.__table__.c.value).where(SyncClock.__table__.c.id == 1)


# Taken by every committing writer: Core (the ORM's bulk-update path costs more than the update),
# built once.
_clock = SyncClock.__table__
_TAKE = update(_clock).where(_clock.c.id == 1).values(value=_clock.c.value + 1).returning(_clock.c.value)


def next_seq(session: Session) -> int:
    """Take the next counter value; the clock row stays locked until this transaction ends."""
    if on_postgres(session.get_bind()):  # every committing writer runs it: straight through the driver
        row = driver_execute("UPDATE sync_clock SET value = value + 1 WHERE id = 1 RETURNING value",
                             session=session).fetchone()
        value = row[0] if row else None
    else:
        value = session.execute(_TAKE).scalar_one_or_none()
    if value is None:  # first write on a fresh database
        session.add(SyncClock(id=1, value=1))
        session.flush()
        value = 1
    return value


def current_seq(session: Session) -> int:
    return session.execute(_CURRENT).scalar() or 0


def write_at_commit(session: Session, write) -> None:
    """Call `write(seq)` at commit, right after the counter is taken, to write rows and stamp
    them with `seq` in one statement. For set-based writers the flush never sees (a sync push's
    task updates): one UPDATE instead of an UPDATE now and a second one to stamp the same rows."""
    session.info.setdefault(_WRITERS, []).append(write)


@event.listens_for(Session, "after_flush")
def _collect(session, flush_context):
    pending = session.info.setdefault(_PENDING, {})
    for obj in session.new:
        if isinstance(obj, ChangeTracked):
            pending.setdefault(type(obj), set()).add(obj.id)
    for obj in session.dirty:
        if isinstance(obj, ChangeTracked) and session.is_modified(obj, include_collections=False):
            pending.setdefault(type(obj), set()).add(obj.id)


@event.listens_for(Session, "before_commit")
def _stamp(session):
    # SQLAlchemy also fires before_commit when a savepoint is released; only the real commit
    # may take the counter, or the lock would be held from a batch's first item to its end.
    if session.in_nested_transaction():
        return
    session.flush()
    pending = session.info.pop(_PENDING, None) or {}
    writers = session.info.pop(_WRITERS, None) or []
    if not pending and not writers:
        return
    seq = next_seq(session)
    for write in writers:
        write(seq)
    for model, ids in pending.items():
        ids = sorted(ids)
        for start in range(0, len(ids), 500):
            session.execute(
                update(model).where(model.id.in_(ids[start:start + 500])).values(change_seq=seq)
                .execution_options(synchronize_session=False, audit_skip=True)
            )


@event.listens_for(Session, "after_soft_rollback")
def _forget(session, previous_transaction):
    # Only a rollback of the whole transaction drops the pending stamps; a rolled-back savepoint
    # (one bad sync item) must not make the items committed beside it invisible to pulls.
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_WRITERS, None)
