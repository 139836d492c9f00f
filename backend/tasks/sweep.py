"""The sweep: tasks whose window opened with no check-in are flagged late; tasks whose window
closed more than their grace ago with no check-in are marked missed.

This is the detection transaction only: the late flags with their notifications, and the missed
marks with their task events. Opening the missed tasks' follow-ups is a second, idempotent step
in its own transaction (backend/followups/opening.py::open_missed_followups), which the
scheduled job and `carerounds sweep` run right after this one (backend/tasks/jobs.py).

Set-based SQL over partial indexes, never a Python loop over tasks. Safe to run concurrently with
pushes: rows a push has locked are skipped (FOR UPDATE SKIP LOCKED) and caught by the next sweep
if still unchecked, and the UPDATE only touches rows still `scheduled`, so a committed check-in is
never overwritten. Only one sweep runs at a time across processes and hosts (a PostgreSQL
advisory lock). The change-feed number is taken first, before any row
lock, so the sweep can never deadlock with a push (which takes row locks, then that number).

Tasks are partitioned by the month their window starts, and years of months are kept: the sweep
reads only the months from its floor on (the sweep_floor row: no scheduled task starts before
it), which the job raises once a month holds no scheduled task (advance_floor).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, any_, func, insert, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from backend.audit.trail import record
from backend.changefeed import next_seq
from backend.clock import care_tz
from backend.extensions import db
from backend.partitions import add_months, month_start
from backend.tasks.models import SweepFloor, Task, TaskEvent

SWEEP_LOCK_KEY = 0x43525357  # "CRSW": the advisory lock id of the sweep
MISSED_REASON = "no check-in before the window closed and its grace ran out"


@dataclass
class SweepResult:
    ran: bool
    late: int = 0
    missed: int = 0
    followups: int = 0  # filled by the job's second step, open_missed_followups
    oldest_missed_window_end: datetime | None = None  # tells that step how far back to look


def sweep(*, now: datetime) -> SweepResult:
    """Run one sweep as of `now`. The caller commits (the lock is released with the transaction)."""
    if not _take_lock():
        return SweepResult(ran=False)
    seq = next_seq(db.session)
    begun = _begun(now, db.session.execute(select(SweepFloor.starts_at).where(SweepFloor.id == 1)).first())
    mark_missed = (
        update(Task).where(_among(select(Task.id).where(
            Task.status == "scheduled", Task.missed_after_at <= now, begun).with_for_update(skip_locked=True)),
            begun)
        .values(status="missed", status_changed_at=now, change_seq=seq, version=Task.version + 1, updated_at=now)
        .returning(Task.id, Task.window_end_at, Task.window_start_at)
    )
    missed, oldest = _mark_missed_and_record(mark_missed, now)
    # Late flags after the missed marks: a task past its missed deadline is no longer scheduled by
    # now, so it gets no "please check in" (and the statement stays on the late-start index; a
    # `missed_after_at > now` filter made PostgreSQL scan the missed-deadline index instead).
    late = db.session.execute(
        update(Task).where(_among(select(Task.id).where(
            Task.status == "scheduled", Task.late_at.is_(None), Task.late_after_at <= now, begun)
            .with_for_update(skip_locked=True)), begun)
        .values(late_at=now, change_seq=seq, version=Task.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if late:
        from backend.followups.opening import notify_late_starts

        notify_late_starts(seq=seq, now=now, begun=begun)
    return SweepResult(ran=True, late=late, missed=missed, oldest_missed_window_end=oldest)


def _record_missed(task_ids, now: datetime):
    """The task events of the tasks `task_ids` (a select of id, window_start_at) just marked missed."""
    ids = task_ids.subquery()
    return insert(TaskEvent).from_select(
        ["task_id", "window_start_at", "at", "from_status", "to_status", "by_system", "reason"],
        select(ids.c[0], ids.c[1], literal(now, type_=TaskEvent.at.type), literal("scheduled"), literal("missed"),
               literal("sweep"), literal(MISSED_REASON)))


def _mark_missed_and_record(mark_missed, now: datetime) -> tuple[int, datetime | None]:
    """Mark and record in one statement (data-modifying CTEs), so the missed tasks'
    ids never travel to Python and back; answers how many, and the oldest window among them."""
    marked = mark_missed.cte("marked")
    recorded = _record_missed(select(marked.c.id, marked.c.window_start_at), now).cte("recorded")
    statement = select(func.count(), func.min(marked.c.window_end_at)).select_from(marked).add_cte(recorded)
    count, oldest = db.session.execute(statement).one()
    # A SELECT to the ORM, so the audit trail's capture of bulk writes does not see it: say what it wrote.
    text_of = str(statement.compile(dialect=db.session.get_bind().dialect))[:2000]
    for table, action in (("tasks", "bulk_update"), ("task_events", "bulk_insert")):
        record(db.session, {"table": table, "action": action, "statement": text_of,
                            "params": {"now": now.isoformat()}, "rows": count})
    return count, oldest


def _begun(now: datetime, floor_row):
    """Tasks whose window has opened, from the floor on: every late or missed deadline falls after
    its window's start, and no scheduled task starts before the floor, so both ends of the
    partition key are bound: the months ahead (tasks are made days ahead) and the finished months
    behind are pruned. A floor of NULL: nothing is scheduled. No floor row at all (never so after
    the migration, but a sweep that skipped tasks would be far worse than a slow one): every
    month is read, and advance_floor puts the row back."""
    if floor_row is None:
        return Task.window_start_at <= now
    if floor_row.starts_at is None:
        return literal(False)
    return and_(Task.window_start_at >= floor_row.starts_at, Task.window_start_at <= now)


def advance_floor(*, now: datetime) -> datetime | None:
    """Raise the sweep's floor past every month, from the floor's own, that holds no scheduled
    task, up to the month of `now`; answers the floor. The caller commits.

    One cheap probe per month (the first scheduled task of one partition, through its partial
    index); usually one, the floor's month, which still holds tasks. The row is locked FOR UPDATE:
    an insert of an earlier scheduled task (whose trigger lowers the floor under FOR SHARE) either
    committed before the probe, which sees it, or waits and lowers the floor after this raise."""
    row = db.session.execute(select(SweepFloor.starts_at).where(SweepFloor.id == 1).with_for_update()).first()
    if row is None:
        db.session.execute(pg_insert(SweepFloor).from_select(
            ["id", "starts_at"], select(literal(1), func.min(Task.window_start_at)).where(Task.status == "scheduled"))
            .on_conflict_do_nothing())
        return advance_floor(now=now)
    floor = start = row.starts_at
    while start is not None and start <= now:
        month_end = month_start(add_months(start.astimezone(care_tz()).date(), 1))
        if db.session.execute(select(literal(1)).where(
                Task.status == "scheduled", Task.window_start_at >= start, Task.window_start_at < month_end)
                .limit(1)).first():
            break
        start = month_end
    if start != floor:
        db.session.execute(update(SweepFloor).where(SweepFloor.id == 1).values(starts_at=start))
    return start


def _among(locked_ids):
    """`tasks.id` among the ids a locking select picks, as `= ANY(ARRAY(…))`: the array is
    computed once and the UPDATE finds its rows by primary key; an IN would become a semi-join
    over a scan of the whole table."""
    return Task.id == any_(func.array(locked_ids.scalar_subquery()))


def _take_lock() -> bool:
    # Keyed by schema too: deployments (or test runs) sharing a database do not block each other.
    return bool(db.session.execute(text("SELECT pg_try_advisory_xact_lock(:key, hashtext(current_schema()))"),
                                   {"key": SWEEP_LOCK_KEY}).scalar())

