"""Whether anything a phone holds changed since its cursor: the one statement of an empty pull."""

from dataclasses import dataclass
from datetime import date, timedelta

import psycopg
from sqlalchemy import bindparam, text
from sqlalchemy.dialects import postgresql

from backend.clock import local_midnight
from backend.columns import UTCDateTime
from backend.extensions import db
from schemas.sync import NOTIFICATION_HORIZON
from schemas.tasks import LONGEST_WINDOW

# Whether anything a phone holds or is owed changed in (seq, counter now]: its user's tasks that
# may touch its window (from_floor: no window is longer than LONGEST_WINDOW; the bounds keep the
# probe to the few monthly partitions of tasks those can be),
# removals, follow-ups and notifications (those of the last NOTIFICATION_HORIZON, the few latest
# months of that table: older ones the phone no longer holds), and the elders of the tasks it holds; with the counter,
# the user's open follow-ups (sent on every pull) and the account itself, and whether the access
# token's sign-in (its refresh-token family) was revoked, which the empty pull checks here instead
# of in statements of their own. No row: no such account. Written out once,
# as plain SQL, because it is the whole of the usual pull: building it anew each time cost more
# than running it.
_PROBE = text("""
SELECT u.is_active, u.role, c.value AS high,
       CASE WHEN EXISTS (SELECT 1 FROM tasks t WHERE t.assignee_id = :user_id
                           AND t.window_start_at >= :from_floor AND t.window_start_at < :to_at
                           AND t.change_seq > :seq AND t.change_seq <= c.value)
              OR EXISTS (SELECT 1 FROM task_removals r WHERE r.user_id = :user_id
                           AND r.change_seq > :seq AND r.change_seq <= c.value)
              OR EXISTS (SELECT 1 FROM followups f2 WHERE f2.owner_id = :user_id
                           AND f2.change_seq > :seq AND f2.change_seq <= c.value)
              OR EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = :user_id
                           AND n.created_at > :horizon AND n.change_seq > :seq AND n.change_seq <= c.value)
              OR EXISTS (SELECT 1 FROM elders e WHERE e.change_seq > :seq AND e.change_seq <= c.value
                           AND EXISTS (SELECT 1 FROM tasks h WHERE h.elder_id = e.id AND h.assignee_id = :user_id
                                         AND h.status <> 'cancelled' AND h.window_end_at > :from_at
                                         AND h.window_start_at >= :from_floor AND h.window_start_at < :to_at))
            THEN 1 ELSE 0 END AS changed,
       f.id AS open_followup_id,
       EXISTS (SELECT 1 FROM refresh_tokens rt WHERE rt.family_id = :family_id
                 AND rt.revoked_at IS NOT NULL) AS family_revoked
FROM users u
LEFT JOIN sync_clock c ON c.id = 1
LEFT JOIN followups f ON f.owner_id = u.id AND f.status <> 'resolved'
WHERE u.id = :user_id
ORDER BY f.id
""").bindparams(bindparam("from_at", type_=UTCDateTime()), bindparam("from_floor", type_=UTCDateTime()),
               bindparam("to_at", type_=UTCDateTime()), bindparam("horizon", type_=UTCDateTime()))


# The same statement in psycopg's own placeholders, for probe_alone().
_PROBE_PSYCOPG = str(_PROBE.compile(dialect=postgresql.psycopg.dialect()))


@dataclass(frozen=True)
class Probe:
    is_active: bool
    role: str
    high: int  # the counter now
    changed: bool  # anything the phone holds or is owed changed since the cursor's seq
    open_followup_ids: list[int]
    family_revoked: bool  # the access token's family; False when no family was asked about


def probe(session, user_id: int, seq: int, from_on: date, to_on: date, family_id: str | None = None) -> Probe | None:
    """The account and what changed for it since `seq`, read in the session's transaction; None
    when there is no such account."""
    return _answer(session.execute(_PROBE, _parameters(user_id, family_id, seq, from_on, to_on)).all(), seq)


def probe_alone(user_id: int, family_id: str, seq: int, from_on: date, to_on: date) -> Probe | None:
    """probe() as the whole of a request's database work (the empty pull), where every round trip
    and layer shows. It runs on a pooled connection in autocommit, straight through psycopg: one
    round trip instead of BEGIN, the statement and COMMIT, psycopg keeps its prepared statement
    (a ROLLBACK would drop it), and SQLAlchemy's per-statement work (about as much as the query)
    is skipped. One statement is enough: a reader that sees counter value N sees every change up
    to N (backend/changefeed.py)."""
    parameters = _parameters(user_id, family_id, seq, from_on, to_on)
    pooled = db.engine.raw_connection()
    try:
        connection = pooled.driver_connection
        connection.autocommit = True
        try:
            rows = connection.execute(_PROBE_PSYCOPG, parameters,
                                      prepare=connection.prepare_threshold is not None).fetchall()
        finally:
            if not connection.broken:
                connection.autocommit = False
    except psycopg.OperationalError:
        pooled.invalidate()  # a broken connection must not go back to the pool
        raise
    finally:
        pooled.close()
    return _answer(rows, seq)


def _parameters(user_id: int, family_id: str | None, seq: int, from_on: date, to_on: date) -> dict:
    return {"user_id": user_id, "family_id": family_id, "seq": seq, "from_at": local_midnight(from_on),
            "from_floor": local_midnight(from_on) - LONGEST_WINDOW, "to_at": local_midnight(to_on + timedelta(days=1)),
            "horizon": local_midnight(from_on) - NOTIFICATION_HORIZON}


def _answer(rows, seq: int) -> Probe | None:
    if not rows:
        return None
    is_active, role, high, changed, _, family_revoked = rows[0]
    if high is None:  # no counter yet: nothing was ever written that phones sync
        return Probe(bool(is_active), role, 0, seq != 0, [], bool(family_revoked))
    return Probe(bool(is_active), role, high, bool(changed), [row[4] for row in rows if row[4] is not None],
                 bool(family_revoked))
