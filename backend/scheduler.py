"""The one list of scheduled jobs. Runs in its own process (`carerounds scheduler`), never in web workers.

Every job runs through backend.jobruns.run_once: once per period (its interval, or the care time
zone's day for the daily ones) whatever the number of schedulers started against the database.
"""

import logging
from datetime import timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from backend.audit.trail import acting_as
from backend.jobruns import daily, every, run_once

log = logging.getLogger(__name__)


def build_scheduler(app: Flask) -> BlockingScheduler:
    from backend.elders.jobs import advanced_age_job
    from backend.followups.jobs import delivery_job, escalation_job, worker_pattern_job
    from backend.partitions import partition_ahead_job
    from backend.plans.jobs import close_ended_plans_job
    from backend.register.jobs import resume_returned_job
    from backend.tasks.jobs import generate_tasks_job, sweep_job
    from backend.visits.jobs import crosscheck_job

    scheduler = BlockingScheduler(timezone=app.config["CARE_TIMEZONE"])

    def in_app(job, job_id, period_of):
        def run():
            with app.app_context(), acting_as(f"job:{job.__name__}"):
                try:
                    run_once(job_id, period_of, job)
                except Exception:  # a failed run is logged; the next one tries again
                    log.exception("scheduled job %s failed", job.__name__)
        # APScheduler logs a job by its callable's qualified name: the job's own, not this wrapper's.
        run.__name__ = run.__qualname__ = job.__name__
        return run

    def interval(job, job_id, minutes, **options):
        scheduler.add_job(in_app(job, job_id, every(timedelta(minutes=minutes))), "interval", minutes=minutes,
                          id=job_id, max_instances=1, coalesce=True, **options)

    def cron(job, job_id, **options):
        scheduler.add_job(in_app(job, job_id, daily), "cron", id=job_id, max_instances=1, coalesce=True, **options)

    sweep_minutes = app.config["SWEEP_INTERVAL_MINUTES"]
    interval(generate_tasks_job, "generate_tasks", app.config["TASK_GENERATION_INTERVAL_MINUTES"],
             next_run_time=_now(app))
    interval(sweep_job, "sweep", sweep_minutes)
    interval(escalation_job, "escalate_followups", sweep_minutes)
    # Its own job, after the others committed: notifications go out only for work that exists.
    interval(delivery_job, "deliver_notifications", sweep_minutes)
    # Overlapping visits and impossible travel, found after the pushes rather than inside them.
    interval(crosscheck_job, "crosscheck_visits", sweep_minutes)
    # Daily, before the working day: the last 30 days' figures per caregiver.
    cron(worker_pattern_job, "worker_patterns", hour=6, minute=0)
    # Just after local midnight (and at start, if today's run was missed): plans whose last day
    # was yesterday are ended.
    cron(close_ended_plans_job, "close_ended_plans", hour=0, minute=5, next_run_time=_now(app))
    # Just after local midnight too: elders whose hospital stay ends today are back, their plans resumed.
    cron(resume_returned_job, "resume_returned_elders", hour=0, minute=10, next_run_time=_now(app))
    # After local midnight: elders who turned 80 today become advanced_age (高龄).
    cron(advanced_age_job, "advanced_age", hour=0, minute=15, next_run_time=_now(app))
    # Daily (and at start): the coming months' partitions exist long before their first row.
    cron(partition_ahead_job, "partition_ahead", hour=1, minute=0, next_run_time=_now(app))
    return scheduler


def _now(app: Flask):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(app.config["CARE_TIMEZONE"]))
