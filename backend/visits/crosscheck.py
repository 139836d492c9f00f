"""Cross-visit checks: one caregiver at two homes at once, or between two homes faster than a car.

Run by a scheduled job after the pushes, never inside one (a push stays as fast as it was): a
push leaves every visit it creates or changes with crosschecked_at NULL, and the job takes those
visits, reads each caregiver's visits around them, and sets or clears the flags overlapping_visit
and impossible_travel (sync.rules.cross_visit_flags) on each visit from the visits before it. A
flag is a review flag: the visit goes to the supervisors' queue (needs_review).

The flags are rewritten from the row's current flags under its lock, and a visit a push holds is
skipped; a visit is marked cross-checked only if no push changed it since it was read (its
updated_at), else it waits for the next run.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, select, tuple_, update
from sqlalchemy.orm import aliased

from backend.elders.models import Elder
from backend.extensions import db
from backend.tasks.models import Task
from backend.visits.models import Visit, VisitItem
from sync import rules

# How far before and after the visits being checked their caregiver's other visits are read: the
# longest visit that can still overlap them, and the trips that reach them.
NEIGHBOURHOOD = timedelta(days=1)
BATCH = 500


def crosscheck_visits(*, now: datetime, batch: int = BATCH) -> int:
    """Cross-check the visits waiting for it (at most `batch`); returns how many were taken."""
    waiting = db.session.execute(
        select(Visit.id, Visit.user_id, Visit.started_at, Visit.updated_at)
        .where(Visit.crosschecked_at.is_(None)).order_by(Visit.id).limit(batch)).all()
    if not waiting:
        return 0
    # Visits older than the lookback (history before the upgrade, a very late upload) are marked
    # without a judgement: their months are reported and reviewed.
    since = now - timedelta(days=current_app.config["CROSSCHECK_LOOKBACK_DAYS"])
    by_user = defaultdict(list)
    for row in waiting:
        if row.started_at is not None and row.started_at >= since:  # without a check-in: nothing to compare yet
            by_user[row.user_id].append(row.started_at)
    max_kmh = current_app.config["IMPOSSIBLE_TRAVEL_KMH"]
    for user_id, starts in by_user.items():
        first = min(starts)
        stops, current = _stops(user_id, first - NEIGHBOURHOOD, max(starts) + NEIGHBOURHOOD)
        # Visits that began before the first one checked lack their own predecessors here: they
        # keep their flags. Every later one is judged again (a late upload can change them).
        started = {stop.id: stop.started_at for stop in stops}
        for visit_id, found in rules.cross_visit_flags(stops, max_kmh).items():
            if started[visit_id] >= first and found != current[visit_id]:
                _set_cross_flags(visit_id, found)
    # In one statement: those no push changed since they were read (nor holds now).
    free = select(Visit.id).where(Visit.id.in_([row.id for row in waiting])).with_for_update(skip_locked=True)
    db.session.execute(update(Visit).where(
        Visit.id.in_(free.scalar_subquery()),
        tuple_(Visit.id, Visit.updated_at).in_([(row.id, row.updated_at) for row in waiting]))
        .values(crosschecked_at=now).execution_options(synchronize_session=False))
    db.session.flush()
    return len(waiting)


def _stops(user_id: int, since: datetime, until: datetime) -> tuple[list[rules.Stop], dict[int, set[str]]]:
    """The caregiver's visits that began in [since, until], as stops, and their current cross flags.
    A visit placed by a phone call (a phone patrol) is nowhere and overlaps nothing. Where they
    arrived: the check-in's GPS fix, else the patrol report's, else the elder's home; where they
    left: the check-out's, else the check-in's or report's, else the home."""
    check_in, check_out, report = aliased(VisitItem), aliased(VisitItem), aliased(VisitItem)
    rows = db.session.execute(
        select(Visit.id, Visit.started_at, Visit.ended_at, Visit.flags, Elder.lat.label("home_lat"),
               Elder.lon.label("home_lon"), check_in.lat.label("in_lat"), check_in.lon.label("in_lon"),
               check_out.lat.label("out_lat"), check_out.lon.label("out_lon"),
               report.lat.label("report_lat"), report.lon.label("report_lon"))
        # Each by its partition key too (a visit's task and items share its window start): one
        # month's partition is read per lookup.
        .join(Task, and_(Task.id == Visit.task_id, Task.window_start_at == Visit.window_start_at))
        .join(Elder, Elder.id == Task.elder_id)
        .outerjoin(check_in, and_(check_in.id == Visit.check_in_item_id,
                                  check_in.window_start_at == Visit.window_start_at))
        .outerjoin(check_out, and_(check_out.id == Visit.check_out_item_id,
                                   check_out.window_start_at == Visit.window_start_at))
        .outerjoin(report, and_(report.id == Visit.report_item_id, report.window_start_at == Visit.window_start_at))
        .where(Visit.user_id == user_id, Visit.started_at.between(since, until),
               Visit.patrol_mode.is_distinct_from("phone"))).all()
    stops, current = [], {}
    for row in rows:
        fixes = {"in": _place(row.in_lat, row.in_lon), "out": _place(row.out_lat, row.out_lon),
                 "report": _place(row.report_lat, row.report_lon), "home": _place(row.home_lat, row.home_lon)}
        arrived = fixes["in"] or fixes["report"] or fixes["home"]
        left = fixes["out"] or fixes["in"] or fixes["report"] or fixes["home"]
        ended_at = max(row.ended_at or row.started_at, row.started_at)
        stops.append(rules.Stop(row.id, row.started_at, ended_at, arrived, left))
        current[row.id] = set(row.flags or ()) & set(rules.CROSS_VISIT_FLAGS)
    return stops, current


def _place(lat, lon) -> tuple[float, float] | None:
    return (lat, lon) if lat is not None and lon is not None else None


def _set_cross_flags(visit_id: int, found: set[str]) -> None:
    """The visit's flags with the cross flags replaced by `found`, and needs_review recomputed,
    from the row as it is now. A visit a push holds is skipped: the push sends it back to the queue."""
    flags = _locked(Visit.flags, visit_id)
    if flags is None:
        return
    flags = sorted((set(flags) - set(rules.CROSS_VISIT_FLAGS)) | found)
    db.session.execute(update(Visit).where(Visit.id == visit_id)
                       .values(flags=flags, needs_review=bool(set(flags) & rules.REVIEW_FLAGS))
                       .execution_options(synchronize_session=False))


def _locked(column, visit_id: int):
    """`column` of the visit, locked for this transaction; None when another holds it."""
    return db.session.execute(select(column).where(Visit.id == visit_id)
                              .with_for_update(skip_locked=True)).scalar_one_or_none()
