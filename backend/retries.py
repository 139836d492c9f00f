"""A request whose transaction lost a deadlock or a serialization conflict is run again.

PostgreSQL resolves a deadlock by failing one of the transactions in it, and either may be
chosen; nothing of that transaction was committed, so running the whole view again is safe.
Locks are taken in one order where we could see the cycle (tasks by id, generated slots by
source key, the change-feed counter then the audit head, each last); this is for what is left.
After the last attempt the caller gets 503 with Retry-After, which phones and the console retry,
never a 500.
"""

import logging
import random
import time
from functools import wraps

import psycopg.errors
from flask import Flask
from sqlalchemy.exc import DBAPIError

from backend.errors import Problem
from backend.extensions import db

log = logging.getLogger(__name__)

ATTEMPTS = 3
RETRYABLE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)


def retry_lost_transactions(app: Flask) -> None:
    """Wrap every view registered so far (call after the blueprints are)."""
    for endpoint, view in list(app.view_functions.items()):
        if not getattr(view, "_retries_lost_transactions", False):
            app.view_functions[endpoint] = _retrying(view)


def lost_to_another(error: Exception) -> bool:
    return isinstance(error.orig if isinstance(error, DBAPIError) else error, RETRYABLE)


def _retrying(view):
    @wraps(view)
    def run(*args, **kwargs):
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return view(*args, **kwargs)
            except (DBAPIError, *RETRYABLE) as error:
                if not lost_to_another(error):
                    raise
                db.session.rollback()
                log.warning("transaction lost to another (attempt %d of %d): %s", attempt, ATTEMPTS,
                            str(error).splitlines()[0])
                if attempt == ATTEMPTS:
                    raise Problem("service_unavailable", headers={"Retry-After": "1"}) from None
                time.sleep(random.uniform(0.01, 0.05) * attempt)  # apart, so they do not meet again

    run._retries_lost_transactions = True
    return run
