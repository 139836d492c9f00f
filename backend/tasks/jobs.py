"""Scheduled task jobs: plain functions, safe to run twice."""

import logging

from backend.clock import utcnow
from backend.extensions import db
from backend.tasks.generation import generate_tasks

log = logging.getLogger(__name__)


def generate_tasks_job(now=None) -> int:
    result = generate_tasks(now=now or utcnow())
    db.session.commit()
    log.info("task generation: %d slots considered, %d tasks created", result.considered, result.created)
    return result.created
