"""Scheduled task jobs: plain functions, safe to run twice and on several hosts at once."""

import logging

from backend.clock import utcnow
from backend.extensions import db
from backend.followups.opening import open_missed_followups
from backend.tasks.generation import generate_tasks
from backend.tasks.sweep import advance_floor, sweep

log = logging.getLogger(__name__)


def generate_tasks_job(now=None) -> int:
    result = generate_tasks(now=now or utcnow())
    db.session.commit()
    log.info("task generation: %d slots considered, %d tasks created", result.considered, result.created)
    return result.created


def sweep_job(now=None):
    """The sweep, then at once the missed tasks' follow-ups, then the sweep's floor, each in its
    own transaction.

    Detection commits first, so it never waits on the heavier follow-up writes; the second step
    opens what is missing for any missed task, so if it fails (or the process dies in between),
    the next run opens what this one did not."""
    now = now or utcnow()
    result = sweep(now=now)
    db.session.commit()
    if not result.ran:
        log.info("sweep: another sweep holds the lock; skipped")
        return result
    log.info("sweep: %d late, %d missed", result.late, result.missed)
    # After an outage the sweep may mark visits that ended long ago: look back that far once.
    result.followups = open_missed_followups(now=now, since=result.oldest_missed_window_end)
    db.session.commit()
    log.info("sweep: %d missed-visit follow-ups opened", result.followups)
    # Last, in a short transaction of its own (it locks the floor against inserts of earlier
    # tasks): months that no longer hold a scheduled task drop out of the next sweep's reads.
    floor = advance_floor(now=now)
    db.session.commit()
    log.info("sweep: reads tasks from %s on", floor.isoformat() if floor else "nowhere (none scheduled)")
    return result
