"""Scheduled plan jobs: plain functions, safe to run twice and on several hosts at once."""

import logging

from backend.clock import utcnow
from backend.extensions import db
from backend.plans.services import close_ended_plans

log = logging.getLogger(__name__)


def close_ended_plans_job(now=None) -> int:
    closed = close_ended_plans(now=now or utcnow())
    db.session.commit()
    log.info("plans: %d ended", closed)
    return closed
