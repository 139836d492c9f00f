"""Scheduled jobs run once per period, however many schedulers run: a lock and a record.

Several app hosts may each start a scheduler by mistake (only one should: `serve --no-scheduler`
on the others). Each run of a job first takes a PostgreSQL session advisory lock keyed by the
job (and the schema, so deployments sharing a database do not block each other) on a connection
of its own, held while the job runs and commits its own transactions; a scheduler that finds it
taken skips the run. The lock alone would let a second scheduler run the job again right after
the first finished, so the run is also recorded under its period (`job_runs`, one row per job
and period start, the primary key deciding): a period already recorded is not run again.
A run that fails removes its record, so the next firing tries again.
"""

import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import String, delete, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, mapped_column

from backend.clock import care_tz, local_midnight, utcnow
from backend.columns import UTCDateTime
from backend.extensions import db

log = logging.getLogger(__name__)

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class JobRun(db.Model):
    """One period's run of a scheduled job: who took it, when it started and finished."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    host: Mapped[str] = mapped_column(String(200), nullable=False)  # hostname:pid of the scheduler
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def every(interval: timedelta) -> Callable[[datetime], datetime]:
    """Periods of a fixed length, counted from 2000-01-01 UTC: the start of the one holding `at`."""
    def period_of(at: datetime) -> datetime:
        return EPOCH + ((at - EPOCH) // interval) * interval
    return period_of


def daily(at: datetime) -> datetime:
    """The care time zone's day holding `at`, as the UTC instant it began."""
    return local_midnight(at.astimezone(care_tz()).date())


_LOCK = text("SELECT pg_try_advisory_lock(hashtext(:key), hashtext(current_schema()))")
_UNLOCK = text("SELECT pg_advisory_unlock(hashtext(:key), hashtext(current_schema()))")


def run_once(name: str, period_of: Callable[[datetime], datetime], job: Callable[[], object]) -> bool:
    """Run `job` unless its run of the current period was made, or is being made, elsewhere.
    True when it ran here. An exception of the job propagates, its period left unrecorded."""
    now = utcnow()
    period = period_of(now)
    key = f"carerounds-job:{name}"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as guard:
        if not guard.execute(_LOCK, {"key": key}).scalar():
            log.info("job %s: another scheduler is running it; skipped", name)
            return False
        try:
            claimed = guard.execute(
                insert(JobRun).values(job=name, period_start=period, host=f"{socket.gethostname()}:{os.getpid()}",
                                      started_at=now)
                .on_conflict_do_nothing().returning(JobRun.job)).first()
            if claimed is None:
                log.info("job %s: period %s already run; skipped", name, period.isoformat())
                return False
            this_run = (JobRun.job == name) & (JobRun.period_start == period)
            try:
                job()
            except BaseException:
                guard.execute(delete(JobRun).where(this_run))
                raise
            guard.execute(update(JobRun).where(this_run).values(finished_at=utcnow()))
            log.info("job %s ran for period %s", name, period.isoformat())
            return True
        finally:
            guard.execute(_UNLOCK, {"key": key})
