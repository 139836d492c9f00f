"""Where the heavy reads run: the streaming replica while it keeps up, else the primary.

The monthly report, the visit log and its exports read much and need not show the last second.
With DATABASE_REPLICA_URL they read a PostgreSQL hot standby fed by streaming replication, so a
city's reports at the start of a month do not compete with the phones' pushes for the primary.
Everything a phone or a write depends on (pull, push, a visit's history page, what a service
reads before it writes) stays on the session, which is the primary's: a phone never sees its own
push missing.

A replica is used only while it is no further behind than REPLICA_MAX_LAG. Before each heavy
read the primary is asked how far its WAL goes and the replica how far it has replayed: a
replica that has replayed all of it is current; one behind holds everything committed up to its
last replayed commit (pg_last_xact_replay_timestamp()), and that is what the report says it is
"as of". The time since the last replayed commit alone would call an idle, caught-up replica
stale, hence the WAL positions. A replica that cannot be reached, or is too far behind, is
passed over for the primary (and logged), never answered as an error.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from backend.extensions import db

log = logging.getLogger(__name__)

# The insert position, not the write one: a commit made with synchronous_commit off is visible
# before its WAL is written, and a replica that replayed up to here holds it.
_PRIMARY_WAL = text("SELECT pg_current_wal_insert_lsn()::text")
_REPLICA_STATE = text("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn),"
                      " pg_last_xact_replay_timestamp(), clock_timestamp()")


@dataclass(frozen=True)
class Source:
    """Where a heavy read runs: `engine`'s connections (readers of their own, such as the
    report's) or read_connection(); `as_of`: everything committed up to then is in what it reads."""

    engine: Engine
    read_from: str  # "primary" or "replica"
    as_of: datetime


def heavy_read_source(*, now: datetime) -> Source:
    """The replica when one is configured and at most REPLICA_MAX_LAG behind, else the primary.
    `now`: the app's clock, the `as_of` of a current read."""
    replica = db.engines.get("replica")
    if replica is None:
        return Source(db.engine, "primary", now)
    try:
        # On the session: the primary's position as this request sees it (a write of its own included).
        primary_lsn = db.session.execute(_PRIMARY_WAL).scalar_one()
        with replica.connect() as conn:
            in_recovery, caught_up, replayed_at, replica_now = conn.execute(
                _REPLICA_STATE, {"lsn": primary_lsn}).one()
    except DBAPIError as error:
        log.warning("replica unreachable, heavy reads go to the primary: %s", error.orig or error)
        return Source(db.engine, "primary", now)
    if not in_recovery or caught_up:  # promoted, or has replayed all the primary had written
        return Source(replica, "replica", now)
    lag = replica_now - replayed_at if replayed_at is not None else None
    if lag is None or lag > current_app.config["REPLICA_MAX_LAG"]:
        log.warning("replica %s behind, heavy reads go to the primary",
                    "an unknown time" if lag is None else f"{lag.total_seconds():.1f} s")
        return Source(db.engine, "primary", now)
    return Source(replica, "replica", replayed_at)


@contextmanager
def read_connection(source: Source) -> Iterator[Connection]:
    """A connection to read on from `source`: the session's own on the primary (its transaction,
    after the ORM's autoflush), else a pooled replica connection whose short transaction ends
    on the way out, so a long export never holds back the replica's replay."""
    if source.read_from == "primary":
        db.session.flush()
        yield db.session.connection()
        return
    with source.engine.connect() as conn:
        yield conn
