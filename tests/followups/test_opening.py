"""Opening missed-visit follow-ups: the sweep's second step, in its own transaction, idempotent."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from backend.extensions import db
from backend.followups.models import Followup, FollowupEvent, Notification
from backend.followups.opening import open_missed_followups
from backend.followups.services import region_supervisor, supervisor_map
from backend.followups.triggers import after_late_evidence
from backend.tasks import jobs
from backend.tasks.generation import generate_tasks
from backend.tasks.jobs import sweep_job
from backend.tasks.models import Task, TaskEvent
from backend.tasks.services import transition
from backend.tasks.sweep import sweep
from tests.followups.conftest import MEAL, count


@pytest.fixture
def yesterdays_meals(city, manager, make_care_plan, clock):
    """Yesterday's meal visits at three elders, none checked in; the clock is today 10:00."""
    for elder in (city.elder_a1, city.elder_a2, city.elder_b1):
        make_care_plan(elder, city.provider, [("meal", MEAL, 20, city.caregiver)])
    generate_tasks(now=clock() - timedelta(days=1), horizon_days=2)
    db.session.commit()


@pytest.fixture
def swept(yesterdays_meals, clock):
    """The same visits marked missed by the detection transaction alone: no follow-ups yet."""
    assert sweep(now=clock()).missed == 3
    db.session.commit()
    return db.session.execute(select(Task).where(Task.status == "missed").order_by(Task.id)).scalars().all()


def test_the_sweep_alone_records_the_missed_visits_and_opens_nothing(swept):
    events = db.session.execute(select(TaskEvent.to_status, TaskEvent.by_system)).all()
    assert events == [("missed", "sweep")] * 3
    assert count(Followup) == 0


def test_the_second_step_opens_each_follow_up_once_with_its_owner_event_and_notification(swept, manager, clock):
    assert open_missed_followups(now=clock()) == 3
    db.session.commit()
    followups = db.session.execute(select(Followup).order_by(Followup.task_id)).scalars().all()
    assert [f.task_id for f in followups] == [t.id for t in swept]
    assert {f.owner_id for f in followups} == {manager.id} and {f.opened_at for f in followups} == {clock()}
    assert count(FollowupEvent, FollowupEvent.action == "opened") == 3
    assigned = db.session.execute(select(Notification.user_id).where(Notification.event == "assigned")).scalars()
    assert list(assigned) == [manager.id] * 3
    assert open_missed_followups(now=clock() + timedelta(minutes=5)) == 0
    db.session.commit()
    assert (count(Followup), count(FollowupEvent), count(Notification)) == (3, 3, 3)


def test_when_the_second_step_fails_the_next_run_opens_what_is_missing(yesterdays_meals, clock, monkeypatch):
    def broken(*, now, since=None):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(jobs, "open_missed_followups", broken)
    with pytest.raises(RuntimeError):
        sweep_job()
    db.session.rollback()
    assert count(Task, Task.status == "missed") == 3 and count(Followup) == 0  # detection is committed
    monkeypatch.undo()
    clock.advance(minutes=5)
    again = sweep_job()
    assert (again.missed, again.followups) == (0, 3)
    assert count(Followup, Followup.kind == "missed_visit", Followup.owner_id.is_not(None)) == 3


def test_the_second_step_looks_back_a_bounded_time_unless_the_sweep_marked_older_visits(swept, app, clock):
    lookback = app.config["MISSED_FOLLOWUP_LOOKBACK_DAYS"]
    later = clock() + timedelta(days=lookback + 2)
    assert open_missed_followups(now=later) == 0               # ended before the lookback: left alone
    assert open_missed_followups(now=later, since=swept[0].window_end_at) == 3
    db.session.commit()


def test_after_a_long_outage_the_job_opens_follow_ups_for_everything_it_marked(yesterdays_meals, app, clock):
    clock.advance(days=app.config["MISSED_FOLLOWUP_LOOKBACK_DAYS"] + 5)  # the scheduler was down
    result = sweep_job()
    assert result.missed >= 3 and result.followups == result.missed


def test_a_late_check_in_between_the_two_steps_gets_no_follow_up(swept, clock):
    late = swept[0]
    transition(late, "completed", at=clock(), by_system="sync",
               reason="after_missed: evidence arrived after the task was marked missed")
    after_late_evidence(late, at=clock())
    db.session.commit()
    assert open_missed_followups(now=clock()) == 2
    db.session.commit()
    assert db.session.execute(select(Followup).where(Followup.task_id == late.id)).first() is None


def test_one_supervisor_lookup_answers_for_communities_and_streets(city):
    # The nearest one wins: sup_a for street A and its communities, the district's elsewhere.
    supervisors = dict(db.session.execute(select(supervisor_map())).all())
    assert supervisors[city.community_a1.id] == supervisors[city.street_a.id] == city.supervisor_a.id
    assert supervisors[city.district.id] == city.supervisor_all.id
    for region in (city.community_a1, city.community_b1, city.street_b, city.district):
        assert region_supervisor(region.id).id == supervisors[region.id]
    city.supervisor_a.is_active = False
    db.session.commit()
    assert region_supervisor(city.community_a2.id) == city.supervisor_all


def test_two_processes_opening_at_once_open_each_follow_up_exactly_once(swept, app, clock):
    start, opened = threading.Barrier(2), []

    def run():
        with app.app_context():
            start.wait()
            opened.append(open_missed_followups(now=clock()))
            db.session.commit()
            db.session.remove()

    for _ in range(5):  # several rounds: each time both start together
        db.session.execute(text("DELETE FROM notifications"))
        db.session.execute(text("DELETE FROM followup_events"))
        db.session.execute(text("DELETE FROM followups"))
        db.session.commit()
        opened.clear()
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(opened) == 3
        assert (count(Followup), count(FollowupEvent), count(Notification)) == (3, 3, 3)


def test_a_task_a_push_is_completing_is_left_alone_and_never_followed_up(swept, clock):
    held = swept[0]
    with db.engine.connect() as push:  # a push batch: its tasks locked, the check-in not yet committed
        push.execute(select(Task.id).where(Task.id == held.id).with_for_update())
        assert open_missed_followups(now=clock()) == 2  # skipped, not waited for
        db.session.commit()
        push.execute(text("UPDATE tasks SET status = 'completed' WHERE id = :id"), {"id": held.id})
        push.commit()
    assert open_missed_followups(now=clock() + timedelta(minutes=5)) == 0
    db.session.commit()
    assert db.session.execute(select(Followup).where(Followup.task_id == held.id)).first() is None
