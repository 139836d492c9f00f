"""The visit log's date filter means the visit's day (its check-in or report), a task without
evidence falls on every day of its window, and caregivers and community workers filter apart."""

import uuid
from datetime import timedelta

import pytest

from backend.clock import local_midnight, local_today
from backend.extensions import db
from backend.tasks.models import Task
from backend.visits.models import Visit
from tests.visitlog.conftest import ids


@pytest.fixture
def week(city, clock):
    """Now is a Thursday; this week's patrol window opened on Monday. One patrol reported today,
    one not yet done, one done last Monday, and a service visit checked in a day before its window."""
    clock.advance(days=3)
    class Week:
        pass

    w = Week()
    w.today = local_today(clock())
    w.monday = w.today - timedelta(days=w.today.isoweekday() - 1)
    w.opens = local_midnight(w.monday)
    w.closes = local_midnight(w.monday + timedelta(days=7))

    def task(elder, assignee, kind="patrol", start=w.opens, end=w.closes, visited=None, status="scheduled"):
        made = Task(kind=kind, service_type="meal" if kind == "service" else None, elder_id=elder.id,
                    assignee_id=assignee.id, source_key=f"manual:{uuid.uuid4()}", window_start_at=start,
                    window_end_at=end, missed_after_at=end, status=status, status_changed_at=start)
        db.session.add(made)
        db.session.flush()
        if visited is not None:
            db.session.add(Visit(task_id=made.id, user_id=assignee.id, started_at=visited, ended_at=visited,
                                 is_verified=True, flags=[]))
            db.session.flush()
        return made

    w.reported_today = task(city.elder_a1, city.worker_a, visited=clock() - timedelta(hours=1), status="completed")
    w.not_yet = task(city.elder_a2, city.worker_a)
    w.done_monday = task(city.elder_b1, city.worker_b, visited=w.opens + timedelta(hours=9), status="completed")
    w.last_week = task(city.elder_b1, city.worker_b, start=w.opens - timedelta(days=7), end=w.opens, status="missed")
    service_opens = local_midnight(w.today) + timedelta(hours=9)
    w.service_early = task(city.elder_a1, city.caregiver, kind="service", start=service_opens,
                           end=service_opens + timedelta(hours=2), visited=service_opens - timedelta(hours=20),
                           status="completed")
    db.session.commit()
    return w


def on(audit, city, first, last=None, **query):
    return set(ids(audit(city.admin, date_from=first.isoformat(), date_to=(last or first).isoformat(), **query)))


def test_a_weekly_patrol_reported_today_is_found_under_today_not_under_its_monday(week, city, audit):
    assert week.reported_today.id in on(audit, city, week.today)
    assert week.reported_today.id not in on(audit, city, week.monday)


def test_a_patrol_done_on_monday_is_found_under_monday_only(week, city, audit):
    assert week.done_monday.id in on(audit, city, week.monday)
    assert week.done_monday.id not in on(audit, city, week.today)


def test_a_task_without_evidence_is_on_every_day_of_its_window_and_no_other(week, city, audit):
    for offset in range(week.today.isoweekday()):
        assert week.not_yet.id in on(audit, city, week.monday + timedelta(days=offset))
    assert week.not_yet.id not in on(audit, city, week.monday - timedelta(days=1))
    # last week's window ends at this Monday's midnight: it is not on this Monday.
    assert week.last_week.id not in on(audit, city, week.monday)
    assert week.last_week.id in on(audit, city, week.monday - timedelta(days=1))


def test_a_check_in_before_the_window_counts_on_the_day_it_happened(week, city, audit):
    yesterday = week.today - timedelta(days=1)
    assert week.service_early.id in on(audit, city, yesterday)
    assert week.service_early.id not in on(audit, city, week.today)


def test_the_window_days_keep_the_old_meaning_under_their_own_names(week, city, audit):
    found = set(ids(audit(city.admin, window_from=week.monday.isoformat(), window_to=week.monday.isoformat())))
    assert found == {week.reported_today.id, week.not_yet.id, week.done_monday.id}


def test_window_days_out_of_order_are_422_naming_window_to(week, city, audit):
    response = audit(city.admin, window_from=week.today.isoformat(), window_to=week.monday.isoformat())
    assert response.status_code == 422 and "window_to" in response.get_json()["errors"]


def test_caregivers_and_community_workers_filter_apart(week, city, audit):
    everything = on(audit, city, week.monday - timedelta(days=1), week.today)
    assert on(audit, city, week.monday - timedelta(days=1), week.today, community_worker_id=city.worker_b.id) == \
        {week.done_monday.id, week.last_week.id}
    assert on(audit, city, week.monday - timedelta(days=1), week.today, caregiver_id=city.caregiver.id) == \
        {week.service_early.id}
    # caregiver_id keeps filtering by any assignee, as API clients know it.
    assert on(audit, city, week.monday - timedelta(days=1), week.today, caregiver_id=city.worker_a.id) == \
        {week.reported_today.id, week.not_yet.id} < everything
