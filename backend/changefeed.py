"""The change feed: one server-side counter that orders every write phones must see.

Rows that phones sync (tasks, elders, tombstones, …) carry `change_seq`. Each committing
transaction that touched such rows takes the next counter value as its very last statement but
the audit append, and stamps the rows with it. The counter row is locked from that statement to
the commit, so counter order equals commit order: a reader that sees counter value N is sure
every change ≤ N is committed and visible. That is what lets a pull cursor never skip a change,
even when writers commit in another order than they started.

The hooks here (`collect`, `stamp`, `forget`) are installed, in their place among the audit
trail's, by backend/commit_hooks.py.
"""

from sqlalchemy import BigInteger, Integer, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from backend.extensions import among, db, driver_execute

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

# Taken by every committing writer, straight through the driver. The first write on a fresh
# database creates the row; from then on the conflict moves it, under its row lock.
_TAKE = ("INSERT INTO sync_clock (id, value) VALUES (1, 1) "
         "ON CONFLICT (id) DO UPDATE SET value = sync_clock.value + 1 RETURNING value")


def next_seq(session: Session) -> int:
    """Take the next counter value; the clock row stays locked until this transaction ends."""
    return driver_execute(_TAKE, session=session).fetchone()[0]


def current_seq(session: Session) -> int:
    return session.execute(_CURRENT).scalar() or 0


def at_stamp(session: Session, write) -> None:
    """Call `write(seq)` at commit, right after the counter is taken, to write rows and stamp
    them with `seq` in one statement (commit_hooks.raw_write is the one caller)."""
    session.info.setdefault(_WRITERS, []).append(write)


def collect(session: Session, flush_context) -> None:
    """after_flush: remember the synced rows the flush inserted or changed."""
    pending = session.info.setdefault(_PENDING, {})
    for obj in session.new:
        if isinstance(obj, ChangeTracked):
            pending.setdefault(type(obj), set()).add(obj.id)
    for obj in session.dirty:
        if isinstance(obj, ChangeTracked) and session.is_modified(obj, include_collections=False):
            pending.setdefault(type(obj), set()).add(obj.id)


def stamp(session: Session) -> None:
    """At commit, after the last flush: take the counter and stamp what the transaction wrote."""
    pending = session.info.pop(_PENDING, None) or {}
    writers = session.info.pop(_WRITERS, None) or []
    if not pending and not writers:
        return
    seq = next_seq(session)
    for write in writers:
        write(seq)
    for model, ids in pending.items():
        session.execute(update(model).where(among(model.id, ids)).values(change_seq=seq)
                        .execution_options(synchronize_session=False, audit_skip=True))


def forget(session: Session) -> None:
    """A rollback of the whole transaction: nothing of it is stamped."""
    session.info.pop(_PENDING, None)
    session.info.pop(_WRITERS, None)
