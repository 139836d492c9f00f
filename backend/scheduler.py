"""The one list of scheduled jobs. Runs in its own process (`carerounds scheduler`), never in web workers."""

import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

log = logging.getLogger(__name__)


def build_scheduler(app: Flask) -> BlockingScheduler:
    from backend.tasks.jobs import generate_tasks_job, sweep_job

    scheduler = BlockingScheduler(timezone=app.config["CARE_TIMEZONE"])

    def in_app(job):
        def run():
            with app.app_context():
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
    return scheduler


def _now(app: Flask):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(app.config["CARE_TIMEZONE"]))
