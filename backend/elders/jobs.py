"""Scheduled register upkeep for elders: plain functions, safe to run twice."""

import logging

from backend.clock import utcnow
from backend.elders.services import refresh_advanced_age
from backend.extensions import db

log = logging.getLogger(__name__)


def advanced_age_job(now=None) -> int:
    changed = refresh_advanced_age(now=now or utcnow())
    db.session.commit()
    log.info("elders: advanced_age changed on %d elders", changed)
    return changed
