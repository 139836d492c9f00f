"""backend.jobruns.run_once: a scheduled job runs once per period, never beside itself."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from backend.extensions import db
from backend.jobruns import JobRun, daily, every, run_once

FIVE_MINUTES = every(timedelta(minutes=5))


def periods(name):
    db.session.expire_all()
    return db.session.execute(select(JobRun.period_start, JobRun.finished_at).where(JobRun.job == name)
                              .order_by(JobRun.period_start)).all()


def test_a_job_runs_once_in_its_period_and_again_in_the_next(clock):
    calls = []
    clock.set(FIVE_MINUTES(clock()) + timedelta(minutes=1))
    assert run_once("tick", FIVE_MINUTES, lambda: calls.append(clock()))
    clock.advance(minutes=3)
    assert not run_once("tick", FIVE_MINUTES, lambda: calls.append(clock()))  # same five minutes
    clock.advance(minutes=2)
    assert run_once("tick", FIVE_MINUTES, lambda: calls.append(clock()))
    assert len(calls) == 2
    [(first, done1), (second, done2)] = periods("tick")
    assert second - first == timedelta(minutes=5) and done1 and done2


def test_a_failed_run_leaves_its_period_to_the_next_try(clock):
    def broken():
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        run_once("fragile", FIVE_MINUTES, broken)
    assert periods("fragile") == []
    assert run_once("fragile", FIVE_MINUTES, lambda: None)
    assert len(periods("fragile")) == 1


def test_a_job_running_elsewhere_is_skipped(app, clock):
    calls = []
    with db.engine.connect() as elsewhere:  # another scheduler, in the middle of the job
        elsewhere.execute(text("SELECT pg_advisory_lock(hashtext('carerounds-job:busy'), hashtext(current_schema()))"))
        assert not run_once("busy", FIVE_MINUTES, lambda: calls.append(1))
        elsewhere.execute(text("SELECT pg_advisory_unlock_all()"))
        elsewhere.commit()
    assert calls == [] and periods("busy") == []
    assert run_once("busy", FIVE_MINUTES, lambda: calls.append(1)) and calls == [1]


def test_a_daily_period_is_the_care_time_zones_day(app, clock):
    morning = daily(clock())
    assert morning.astimezone(ZoneInfo(app.config["CARE_TIMEZONE"])).time().isoformat() == "00:00:00"
    assert daily(morning + timedelta(hours=23, minutes=59)) == morning
    assert daily(morning + timedelta(days=1)) == morning + timedelta(days=1)
