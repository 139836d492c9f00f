"""The sweep: tasks whose window opened with no check-in are flagged late; tasks whose window
closed more than their grace ago with no check-in are marked missed, and become follow-ups.

Set-based SQL over partial indexes, never a Python loop over tasks. Safe to run concurrently with
pushes: rows a push has locked are skipped (FOR UPDATE SKIP LOCKED) and caught by the next sweep
if still unchecked, and the UPDATE only touches rows still `scheduled`, so a committed check-in is
never overwritten. Only one sweep runs at a time across processes and hosts (a PostgreSQL
advisory lock; SQLite's single writer). The change-feed number is taken first, before any row
lock, so the sweep can never deadlock with a push (which takes row locks, then that number).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, literal, select, text, update

from backend.changefeed import next_seq
from backend.extensions import db
from backend.tasks.models import Task, TaskEvent

SWEEP_LOCK_KEY = 0x43525357  # "CRSW": the advisory lock id of the sweep


@dataclass
class SweepResult:
    ran: bool
    late: int = 0
    missed: int = 0
    followups: int = 0


def sweep(*, now: datetime) -> SweepResult:
    """Run one sweep as of `now`. The caller commits (the lock is released with the transaction)."""
    if not _take_lock():
        return SweepResult(ran=False)
    seq = next_seq(db.session)
    late = db.session.execute(
        update(Task).where(Task.id.in_(
            select(Task.id).where(Task.status == "scheduled", Task.late_at.is_(None), Task.late_after_at <= now)
            .with_for_update(skip_locked=True)))
        .values(late_at=now, change_seq=seq, version=Task.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    missed = db.session.execute(
        update(Task).where(Task.id.in_(
            select(Task.id).where(Task.status == "scheduled", Task.missed_after_at <= now)
            .with_for_update(skip_locked=True)))
        .values(status="missed", status_changed_at=now, change_seq=seq, version=Task.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if missed:
        # This sweep's change number marks exactly the rows it just marked missed.
        db.session.execute(insert(TaskEvent).from_select(
            ["task_id", "at", "from_status", "to_status", "by_system", "reason"],
            select(Task.id, literal(now, type_=TaskEvent.at.type), literal("scheduled"), literal("missed"),
                   literal("sweep"), literal("no check-in before the window closed and its grace ran out"))
            .where(Task.change_seq == seq, Task.status == "missed")))
    from backend.followups.opening import notify_late_starts, open_missed_visit_followups

    opened = open_missed_visit_followups(seq=seq, now=now) if missed else 0
    if late:
        notify_late_starts(seq=seq, now=now)
    return SweepResult(ran=True, late=late, missed=missed, followups=opened)


def _take_lock() -> bool:
    if db.session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: BEGIN IMMEDIATE already makes this the only writer
    # Keyed by schema too: deployments (or test runs) sharing a database do not block each other.
    return bool(db.session.execute(text("SELECT pg_try_advisory_xact_lock(:key, hashtext(current_schema()))"),
                                   {"key": SWEEP_LOCK_KEY}).scalar())


def due_count(now: datetime) -> int:
    return db.session.execute(select(func.count()).select_from(Task).where(
        Task.status == "scheduled", Task.missed_after_at <= now)).scalar()
