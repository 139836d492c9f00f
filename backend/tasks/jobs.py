"""Scheduled task jobs: plain functions, safe to run twice and on several hosts at once."""

import logging

from backend.clock import utcnow
from backend.extensions import db
from backend.tasks.generation import generate_tasks
from backend.tasks.sweep import sweep

log = logging.getLogger(__name__)


def generate_tasks_job(now=None) -> int:
    result = generate_tasks(now=now or utcnow())
    db.session.commit()
    log.info("task generation: %d slots considered, %d tasks created", result.considered, result.created)
    return result.created


def sweep_job(now=None):
    result = sweep(now=now or utcnow())
    db.session.commit()
    if result.ran:
        log.info("sweep: %d late, %d missed, %d follow-ups opened", result.late, result.missed, result.followups)
    else:
        log.info("sweep: another sweep holds the lock; skipped")
    return result
