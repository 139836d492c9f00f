"""Whether anything a phone holds changed since its cursor: the one statement of an empty pull."""

from datetime import date, timedelta

from sqlalchemy import bindparam, text

from backend.clock import local_midnight
from backend.columns import UTCDateTime
from backend.extensions import db

# Whether anything a phone holds or is owed changed in (seq, counter now]: its user's tasks,
# removals, follow-ups and notifications, and the elders of the tasks it holds; with the counter
# and the user's open follow-ups (sent on every pull). Written out once, as plain SQL both
# databases run, because it is the whole of the usual pull: building it anew each time cost
# more than running it.
_PROBE = text("""
SELECT c.value AS high,
       CASE WHEN EXISTS (SELECT 1 FROM tasks t WHERE t.assignee_id = :user_id
                           AND t.change_seq > :seq AND t.change_seq <= c.value)
              OR EXISTS (SELECT 1 FROM task_removals r WHERE r.user_id = :user_id
                           AND r.change_seq > :seq AND r.change_seq <= c.value)
              OR EXISTS (SELECT 1 FROM followups f2 WHERE f2.owner_id = :user_id
                           AND f2.change_seq > :seq AND f2.change_seq <= c.value)
              OR EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = :user_id
                           AND n.change_seq > :seq AND n.change_seq <= c.value)
              OR EXISTS (SELECT 1 FROM elders e WHERE e.change_seq > :seq AND e.change_seq <= c.value
                           AND EXISTS (SELECT 1 FROM tasks h WHERE h.elder_id = e.id AND h.assignee_id = :user_id
                                         AND h.status <> 'cancelled' AND h.window_end_at > :from_at
                                         AND h.window_start_at < :to_at))
            THEN 1 ELSE 0 END AS changed,
       f.id AS open_followup_id
FROM sync_clock c
LEFT JOIN followups f ON f.owner_id = :user_id AND f.status <> 'resolved'
WHERE c.id = 1
ORDER BY f.id
""").bindparams(bindparam("from_at", type_=UTCDateTime()), bindparam("to_at", type_=UTCDateTime()))


def probe(user_id: int, seq: int, from_on: date, to_on: date) -> tuple[int, bool, list[int]]:
    """(counter now, whether anything changed since `seq`, the user's open follow-up ids)."""
    rows = db.session.execute(_PROBE, {
        "user_id": user_id, "seq": seq, "from_at": local_midnight(from_on),
        "to_at": local_midnight(to_on + timedelta(days=1))}).all()
    if not rows:  # no counter yet: nothing was ever written that phones sync
        return 0, seq != 0, []
    return rows[0].high, bool(rows[0].changed), [row.open_followup_id for row in rows
                                                      if row.open_followup_id is not None]
