"""A transaction that loses a deadlock or a serialization conflict is run again, then 503."""

import psycopg.errors
import pytest

from backend.errors import Problem
from backend.retries import ATTEMPTS, _retrying


class Losing:
    """A view that loses to another transaction `times` times, then answers."""

    def __init__(self, times, error=psycopg.errors.DeadlockDetected):
        self.times, self.error, self.calls = times, error, 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.times:
            raise self.error("deadlock detected")
        return "done"


def test_a_view_that_lost_a_deadlock_is_run_again(app):
    view = Losing(ATTEMPTS - 1)
    with app.test_request_context():
        assert _retrying(view)() == "done"
    assert view.calls == ATTEMPTS


def test_a_view_that_keeps_losing_answers_503_with_retry_after(app):
    view = Losing(ATTEMPTS, psycopg.errors.SerializationFailure)
    with app.test_request_context(), pytest.raises(Problem) as raised:
        _retrying(view)()
    assert raised.value.code == 503 and raised.value.problem_headers["Retry-After"]
    assert view.calls == ATTEMPTS


def test_other_database_errors_are_not_retried(app):
    view = Losing(1, psycopg.errors.UniqueViolation)
    with app.test_request_context(), pytest.raises(psycopg.errors.UniqueViolation):
        _retrying(view)()
    assert view.calls == 1


def test_every_view_of_the_app_retries(app):
    assert all(getattr(view, "_retries_lost_transactions", False) for view in app.view_functions.values())
