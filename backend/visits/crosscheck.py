"""Cross-visit checks: one caregiver at two homes at once, or between two homes faster than a car.

Run by a scheduled job after the pushes, never inside one (a push stays as fast as it was): a
push leaves every visit it creates or changes with crosschecked_at NULL, and the job takes those
visits, reads each caregiver's visits around them, and sets or clears the flags overlapping_visit
and impossible_travel on each visit from the visits before it, as sync.rules.cross_visit_flags
states the rule over a caregiver's visits. A flag is a review flag: the visit goes to the
supervisors' queue (needs_review).

The flags are rewritten from the row's current flags under its lock, and a visit a push holds is
skipped; a visit is marked cross-checked only if no push changed it since it was read (its
updated_at), else it waits for the next run.

A batch is judged in one statement, whatever its size: the database finds each visit's neighbours
(the latest end among the caregiver's visits begun before it, and the visit just before it) with
window functions, and the pure rule (sync.rules.neighbour_flags) judges each row. Reading every
caregiver's neighbourhood apart, and locking and writing each changed visit apart, made the job's
statements grow with the visits it took.
"""

import json
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Integer, Interval

from backend.columns import UTCDateTime
from backend.extensions import db
from backend.visits.models import Visit
from sync import rules

# How far before and after the visits being checked their caregiver's other visits are read: the
# longest visit that can still overlap them, and the trips that reach them.
NEIGHBOURHOOD = timedelta(days=1)
BATCH = 500

# The visits to judge again for a batch, with their neighbours: for each caregiver of the batch,
# their visits begun from the first of theirs in the batch (within the lookback) to a neighbourhood
# after the last; each with the latest end among the caregiver's visits begun before it and the
# visit just before it (by start, then id), reading those from a neighbourhood before the first.
# A visit placed by a phone call (a phone patrol) is nowhere and overlaps nothing. Where they
# arrived: the check-in's GPS fix, else the patrol report's, else the elder's home; where they
# left: the check-out's, else the check-in's or report's, else the home (point() of a missing
# coordinate is NULL).
_NEIGHBOURS = text("""
WITH spans AS (
  SELECT user_id, min(started_at) AS first, max(started_at) AS last
  FROM visits WHERE id = ANY(:ids) AND started_at >= :since
  GROUP BY user_id
), stops AS (
  SELECT v.id, v.user_id, v.started_at, GREATEST(COALESCE(v.ended_at, v.started_at), v.started_at) AS ended_at,
         v.flags, s.first,
         COALESCE(point(ci.lat, ci.lon), point(rp.lat, rp.lon), point(e.lat, e.lon)) AS arrived,
         COALESCE(point(co.lat, co.lon), point(ci.lat, ci.lon), point(rp.lat, rp.lon),
                  point(e.lat, e.lon)) AS left_from
  FROM spans s
  JOIN visits v ON v.user_id = s.user_id AND v.started_at BETWEEN s.first - :reach AND s.last + :reach
  -- Each by its partition key too (a visit's task and items share its window start): one month's
  -- partition is read per lookup.
  JOIN tasks t ON t.id = v.task_id AND t.window_start_at = v.window_start_at
  JOIN elders e ON e.id = t.elder_id
  LEFT JOIN visit_items ci ON ci.id = v.check_in_item_id AND ci.window_start_at = v.window_start_at
  LEFT JOIN visit_items co ON co.id = v.check_out_item_id AND co.window_start_at = v.window_start_at
  LEFT JOIN visit_items rp ON rp.id = v.report_item_id AND rp.window_start_at = v.window_start_at
  WHERE v.patrol_mode IS DISTINCT FROM 'phone'
), neighbours AS (
  SELECT id, started_at, ended_at, flags, first, arrived, left_from,
         max(ended_at) OVER (PARTITION BY user_id ORDER BY started_at, id
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS latest_end,
         lag(ended_at) OVER previous AS previous_end, lag(left_from) OVER previous AS previous_left
  FROM stops
  WINDOW previous AS (PARTITION BY user_id ORDER BY started_at, id)
)
SELECT id, started_at, ended_at, flags, latest_end, previous_end,
       arrived[0] AS arrived_lat, arrived[1] AS arrived_lon,
       previous_left[0] AS previous_lat, previous_left[1] AS previous_lon
FROM neighbours WHERE started_at >= first
""").bindparams(bindparam("ids", type_=ARRAY(Integer)), bindparam("since", type_=UTCDateTime()),
                bindparam("reach", type_=Interval()))

# The changed visits' flags and needs_review, written in one statement.
_WRITE_FLAGS = text("""
UPDATE visits v SET flags = CAST(w.flags AS json), needs_review = w.needs_review
FROM unnest(CAST(:ids AS integer[]), CAST(:flags AS text[]), CAST(:needs_review AS boolean[]))
     AS w(id, flags, needs_review)
WHERE v.id = w.id
""")

# The batch's visits marked cross-checked: those no push changed since they were read (their
# updated_at as read) nor holds now. Pairs of arrays, not a list of (id, updated_at) tuples (which
# PostgreSQL matches as one long OR), and the free rows locked once, not once per row.
_MARK_CHECKED = text("""
WITH free AS MATERIALIZED (SELECT id FROM visits WHERE id = ANY(:ids) FOR UPDATE SKIP LOCKED)
UPDATE visits v SET crosschecked_at = :now
FROM unnest(:ids, :read_at) AS r(id, updated_at), free
WHERE v.id = r.id AND v.updated_at = r.updated_at AND v.id = free.id
""").bindparams(bindparam("ids", type_=ARRAY(Integer)), bindparam("read_at", type_=ARRAY(UTCDateTime())),
                bindparam("now", type_=UTCDateTime()))


def crosscheck_visits(*, now: datetime, batch: int = BATCH) -> int:
    """Cross-check the visits waiting for it (at most `batch`); returns how many were taken."""
    waiting = db.session.execute(
        select(Visit.id, Visit.updated_at)
        .where(Visit.crosschecked_at.is_(None)).order_by(Visit.id).limit(batch)).all()
    if not waiting:
        return 0
    # Visits older than the lookback (history before the upgrade, a very late upload) are marked
    # without a judgement: their months are reported and reviewed. Those without a check-in have
    # nothing to compare yet. Visits that began before the first one checked of their caregiver
    # keep their flags; every later one is judged again (a late upload can change them).
    since = now - timedelta(days=current_app.config["CROSSCHECK_LOOKBACK_DAYS"])
    rows = db.session.execute(_NEIGHBOURS, {"ids": [row.id for row in waiting], "since": since,
                                            "reach": NEIGHBOURHOOD}).all()
    max_kmh = current_app.config["IMPOSSIBLE_TRAVEL_KMH"]
    changed = {}
    for row in rows:
        found = rules.neighbour_flags(
            rules.Stop(row.id, row.started_at, row.ended_at, _place(row.arrived_lat, row.arrived_lon)),
            latest_end=row.latest_end, max_kmh=max_kmh,
            previous=None if row.previous_end is None else rules.Stop(
                0, row.previous_end, row.previous_end, left=_place(row.previous_lat, row.previous_lon)))
        if found != set(row.flags or ()) & set(rules.CROSS_VISIT_FLAGS):
            changed[row.id] = found
    if changed:
        _set_cross_flags(changed)
    db.session.execute(_MARK_CHECKED, {"ids": [row.id for row in waiting],
                                       "read_at": [row.updated_at for row in waiting], "now": now})
    db.session.flush()
    return len(waiting)


def _place(lat, lon) -> tuple[float, float] | None:
    return (lat, lon) if lat is not None and lon is not None else None


def _set_cross_flags(found: dict[int, set[str]]) -> None:
    """Each visit's flags with the cross flags replaced by found[visit id], and needs_review
    recomputed, from the rows as they are now. A visit a push holds is skipped: the push sends it
    back to the queue."""
    locked = db.session.execute(select(Visit.id, Visit.flags).where(Visit.id.in_(list(found)))
                                .with_for_update(skip_locked=True)).all()
    if not locked:
        return
    flags = {visit_id: sorted((set(current or ()) - set(rules.CROSS_VISIT_FLAGS)) | found[visit_id])
             for visit_id, current in locked}
    db.session.execute(_WRITE_FLAGS, {"ids": list(flags), "flags": [json.dumps(f) for f in flags.values()],
                                      "needs_review": [bool(set(f) & rules.REVIEW_FLAGS) for f in flags.values()]})
