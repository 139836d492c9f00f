"""The one list of scheduled jobs. Runs in its own process (`carerounds scheduler`), never in web workers."""

import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from backend.audit.trail import acting_as

log = logging.getLogger(__name__)


def build_scheduler(app: Flask) -> BlockingScheduler:
    from backend.followups.jobs import delivery_job, escalation_job, worker_pattern_job
    from backend.plans.jobs import close_ended_plans_job
    from backend.tasks.jobs import generate_tasks_job, sweep_job

    scheduler = BlockingScheduler(timezone=app.config["CARE_TIMEZONE"])

    def in_app(job):
        def run():
            with app.app_context(), acting_as(f"job:{job.__name__}"):
                try:
                    job()
                except Exception:  # a failed run is logged; the next one tries again
                    log.exception("scheduled job %s failed", job.__name__)
        run.__name__ = job.__name__
        return run

    scheduler.add_job(in_app(generate_tasks_job), "interval",
                      minutes=app.config["TASK_GENERATION_INTERVAL_MINUTES"],
                      id="generate_tasks", max_instances=1, coalesce=True, next_run_time=_now(app))
    scheduler.add_job(in_app(sweep_job), "interval", minutes=app.config["SWEEP_INTERVAL_MINUTES"],
                      id="sweep", max_instances=1, coalesce=True)
    scheduler.add_job(in_app(escalation_job), "interval", minutes=app.config["SWEEP_INTERVAL_MINUTES"],
                      id="escalate_followups", max_instances=1, coalesce=True)
    # Its own job, after the others committed: notifications go out only for work that exists.
    scheduler.add_job(in_app(delivery_job), "interval", minutes=app.config["SWEEP_INTERVAL_MINUTES"],
                      id="deliver_notifications", max_instances=1, coalesce=True)
    # Daily, before the working day: the last 30 days' figures per caregiver.
    scheduler.add_job(in_app(worker_pattern_job), "cron", hour=6, minute=0,
                      id="worker_patterns", max_instances=1, coalesce=True)
    # Just after local midnight: plans whose last day was yesterday are ended.
    scheduler.add_job(in_app(close_ended_plans_job), "cron", hour=0, minute=5,
                      id="close_ended_plans", max_instances=1, coalesce=True, next_run_time=_now(app))
    return scheduler


def _now(app: Flask):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(app.config["CARE_TIMEZONE"]))
