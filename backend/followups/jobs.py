"""Scheduled follow-up jobs: plain functions, safe to run twice and on several hosts at once."""

import logging

from backend.clock import utcnow
from backend.extensions import db
from backend.followups.delivery import deliver_pending
from backend.followups.escalation import escalate_overdue
from backend.followups.patterns import open_worker_pattern_followups

log = logging.getLogger(__name__)


def escalation_job(now=None):
    result = escalate_overdue(now=now or utcnow())
    db.session.commit()
    log.info("escalation: %d follow-ups escalated, %d reported overdue", result.escalated, result.overdue)
    return result


def delivery_job(limit: int = 500) -> int:
    """Runs apart from the jobs that create notifications, so it only sends what they committed."""
    sent = batch = deliver_pending(limit=limit)
    db.session.commit()
    while batch == limit:  # a backlog: keep going, one committed batch at a time
        batch = deliver_pending(limit=limit)
        db.session.commit()
        sent += batch
    if sent:
        log.info("delivery: %d notifications sent", sent)
    return sent


def worker_pattern_job(now=None) -> int:
    opened = open_worker_pattern_followups(now=now or utcnow())
    db.session.commit()
    log.info("worker patterns: %d follow-ups opened", opened)
    return opened
