"""Cross-visit checks (issue 12, item 11): one caregiver's overlapping visits and impossible trips
are flagged on the later visit by the job, reach the review queue and the visit-log filter, and
count per caregiver in the monthly report."""

import random
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.visits.crosscheck import crosscheck_visits
from backend.visits.jobs import crosscheck_job
from backend.visits.models import Visit, VisitItem, VisitItemId
from sync import rules


@pytest.fixture
def far_elder(city, make_elder):
    """An elder about 22 km north of city.elder_a1 (41.8 N, 123.4 E)."""
    return make_elder(city.community_a2, "远郊老人", lat=42.0, lon=123.4)


def _flags(visit):
    db.session.expire_all()
    return db.session.get(Visit, visit.id).flags


def test_an_overlapping_pair_flags_the_later_visit_only(city, make_visit, clock):
    start = clock() - timedelta(days=1)
    first = make_visit(start=start)                                    # 10–40 minutes past
    second = make_visit(city.elder_a2, start=start + timedelta(minutes=20))  # 30–60: began before first ended
    assert crosscheck_job(now=clock()) >= 2
    assert _flags(first) == [] and _flags(second) == ["overlapping_visit"]
    again = db.session.get(Visit, second.id)
    assert again.needs_review is True and again.crosschecked_at == clock()
    assert crosscheck_job(now=clock()) == 0  # nothing waits any more


def test_an_impossible_trip_flags_the_later_visit_and_a_plausible_one_does_not(city, far_elder, make_visit, clock):
    start = clock() - timedelta(days=2)
    home = make_visit(start=start)                                           # ends at +40 min
    rushed = make_visit(far_elder, start=start + timedelta(minutes=35))      # begins at +45: 22 km in 5 min
    later = make_visit(start=start + timedelta(minutes=35, hours=3))         # back in 2.5 h: fine
    crosscheck_job(now=clock())
    assert _flags(home) == [] and _flags(rushed) == ["impossible_travel"] and _flags(later) == []
    assert db.session.get(Visit, rushed.id).needs_review is True


def test_visits_of_two_caregivers_never_overlap_each_other(city, make_visit, clock):
    start = clock() - timedelta(days=1)
    make_visit(start=start)
    other = make_visit(city.elder_a2, city.other_provider, start=start + timedelta(minutes=20))
    crosscheck_job(now=clock())
    assert _flags(other) == []


def test_an_earlier_visit_uploaded_late_flags_the_later_one_already_checked(city, make_visit, clock):
    start = clock() - timedelta(days=1)
    later = make_visit(start=start + timedelta(minutes=20))
    crosscheck_job(now=clock())
    assert _flags(later) == []
    make_visit(city.elder_a2, start=start)  # its evidence arrives a day late
    crosscheck_job(now=clock())
    assert _flags(later) == ["overlapping_visit"]


def test_a_flag_comes_off_when_the_times_no_longer_overlap(city, make_visit, clock):
    start = clock() - timedelta(days=1)
    first = make_visit(start=start)
    second = make_visit(city.elder_a2, start=start + timedelta(minutes=20))
    crosscheck_job(now=clock())
    row = db.session.get(Visit, first.id)
    row.ended_at, row.crosschecked_at = start + timedelta(minutes=25), None  # corrected evidence, as a push would
    db.session.commit()
    crosscheck_job(now=clock())
    assert _flags(second) == [] and db.session.get(Visit, second.id).needs_review is False


def test_the_review_queue_and_the_visit_log_filter_show_the_flag(city, api, make_visit, clock):
    start = clock() - timedelta(days=1)
    make_visit(start=start)
    second = make_visit(city.elder_a2, start=start + timedelta(minutes=20))
    crosscheck_job(now=clock())
    queue = api(city.supervisor_a, "get", "/reviews/queue", query_string={"flag": "overlapping_visit"}).get_json()
    assert [item["task_id"] for item in queue["items"]] == [second.task_id]
    listed = api(city.admin, "get", "/audit/visits", query_string={"flag": "overlapping_visit"}).get_json()
    assert [item["id"] for item in listed["items"]] == [second.task_id]


def test_a_push_sends_a_changed_visit_back_to_the_cross_check(field, clock):
    f = field
    assert f.phone.push([f.phone.item("check_in", f.task.id, f.start, location=f.at_door)]).status_code == 200
    visit = db.session.execute(select(Visit).where(Visit.task_id == f.task.id)).scalar_one()
    assert visit.crosschecked_at is None
    crosscheck_job(now=clock())
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).crosschecked_at is not None
    check_out = f.phone.item("check_out", f.task.id, f.start + timedelta(minutes=30), qr=f.qr, location=f.at_door,
                             services=[{"service_type": "meal", "outcome": "done"}], satisfaction=5)
    pushed = f.phone.push([check_out])
    assert pushed.status_code == 200 and pushed.get_json()["results"][0]["status"] == "accepted", pushed.get_json()
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).crosschecked_at is None


def test_visits_older_than_the_lookback_are_marked_without_a_judgement(app, city, make_visit, clock):
    start = clock() - timedelta(days=app.config["CROSSCHECK_LOOKBACK_DAYS"] + 1)
    make_visit(start=start)
    second = make_visit(city.elder_a2, start=start + timedelta(minutes=20))
    crosscheck_job(now=clock())
    assert _flags(second) == [] and db.session.get(Visit, second.id).crosschecked_at == clock()


def _item(visit, kind, at, place):
    """A check-in or check-out of the visit, with a GPS fix at `place` or none."""
    window = db.session.get(Visit, visit.id).window_start_at
    item_id = str(uuid.uuid4())
    db.session.add(VisitItemId(id=item_id, window_start_at=window))  # the push claims the id first
    db.session.flush()
    item = VisitItem(id=item_id, user_id=visit.user_id, device_id="phone-test", seq=visit.id * 2 + len(kind),
                     type=kind, task_id=visit.task_id, captured_at=at, captured_at_corrected=at, received_at=at,
                     clock_offset_seconds=0, lat=place and place[0], lon=place and place[1], flags=[],
                     fingerprint="0" * 64, payload={}, window_start_at=window)
    db.session.add(item)
    db.session.flush()
    return item.id


def test_batches_judge_a_busy_day_as_the_rule_judges_the_whole_sequence(city, far_elder, make_visit, clock):
    """The job's judgement in SQL and batches agrees with sync.rules.cross_visit_flags, the rule
    over one caregiver's whole sequence, on visits of random times, lengths, homes and GPS fixes."""
    rng = random.Random(20261206)
    homes = [city.elder_a1, city.elder_a2, far_elder]
    fixes = [None, (41.8, 123.4), (42.0, 123.4), (41.9, 123.5)]
    start, stops = clock() - timedelta(days=2), []
    for _ in range(60):
        start += timedelta(minutes=rng.randrange(0, 90))
        home = rng.choice(homes)
        visit = make_visit(home, start=start, commit=False)
        visit.ended_at = visit.started_at + timedelta(minutes=rng.randrange(0, 180))
        home = (home.lat, home.lon) if home.lat is not None else None
        at_in, at_out = rng.choice(fixes), rng.choice(fixes)
        visit.check_in_item_id = _item(visit, "check_in", visit.started_at, at_in)
        visit.check_out_item_id = _item(visit, "check_out", visit.ended_at, at_out)
        stops.append(rules.Stop(visit.id, visit.started_at, visit.ended_at, at_in or home, at_out or at_in or home))
    db.session.commit()
    while crosscheck_visits(now=clock(), batch=7):
        pass
    db.session.commit()
    expected = rules.cross_visit_flags(stops, max_kmh=60)
    assert {flag for found in expected.values() for flag in found} == set(rules.CROSS_VISIT_FLAGS)
    assert {stop.id: set(_flags(stop)) for stop in stops} == expected
