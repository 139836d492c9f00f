"""Scheduled visit jobs: plain functions, safe to run twice and on several hosts at once."""

import logging

from backend.clock import utcnow
from backend.extensions import db
from backend.visits.crosscheck import crosscheck_visits

log = logging.getLogger(__name__)

# Batches one run takes at most, each committed: a backlog (the first run after an upgrade) drains
# over a few runs rather than in one long transaction.
MAX_BATCHES = 20


def crosscheck_job(now=None) -> int:
    checked = 0
    for _ in range(MAX_BATCHES):
        taken = crosscheck_visits(now=now or utcnow())
        db.session.commit()
        checked += taken
        if not taken:
            break
    log.info("visits: %d cross-checked", checked)
    return checked
