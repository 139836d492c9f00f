"""Scheduled register jobs: plain functions, safe to run twice and on several hosts at once."""

import logging

from backend.clock import utcnow
from backend.extensions import db
from backend.register.services import resume_returned

log = logging.getLogger(__name__)


def resume_returned_job(now=None) -> int:
    resumed = resume_returned(now=now or utcnow())
    db.session.commit()
    log.info("register: %d elders back from hospital", resumed)
    return resumed
