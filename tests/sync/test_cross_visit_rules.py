"""The cross-visit rules as pure functions: overlapping visits and impossible travel, on the later visit."""

from datetime import UTC, datetime, timedelta

from sync import rules
from sync.rules import Stop

T0 = datetime(2030, 1, 7, 1, 0, tzinfo=UTC)  # any instant: the rules only compare times
HOME_A = (41.80, 123.40)
NEXT_DOOR = (41.801, 123.401)  # about 140 m away
FAR = (42.00, 123.40)          # about 22 km north


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def test_the_later_of_two_overlapping_visits_is_flagged():
    flags = rules.cross_visit_flags([Stop(2, at(30), at(60), NEXT_DOOR, NEXT_DOOR),
                                     Stop(1, at(0), at(40), HOME_A, HOME_A)])
    assert flags == {1: set(), 2: {"overlapping_visit"}}


def test_touching_visits_are_not_overlapping_within_a_minute():
    assert not rules.overlapping(at(40), at(39.5))
    assert rules.overlapping(at(40), at(38))


def test_a_long_visit_overlaps_every_visit_begun_inside_it():
    stops = [Stop(1, at(0), at(300)), Stop(2, at(60), at(90)), Stop(3, at(120), at(150))]
    assert rules.cross_visit_flags(stops) == {1: set(), 2: {"overlapping_visit"}, 3: {"overlapping_visit"}}


def test_a_trip_faster_than_the_threshold_flags_the_later_visit():
    stops = [Stop(1, at(0), at(40), HOME_A, HOME_A), Stop(2, at(50), at(80), FAR, FAR)]  # 22 km in 10 min
    assert rules.cross_visit_flags(stops) == {1: set(), 2: {"impossible_travel"}}
    # The same trip in 40 minutes is 33 km/h: plausible at 60, not at 30.
    slow = [Stop(1, at(0), at(40), HOME_A, HOME_A), Stop(2, at(80), at(100), FAR, FAR)]
    assert rules.cross_visit_flags(slow) == {1: set(), 2: set()}
    assert rules.cross_visit_flags(slow, max_kmh=30)[2] == {"impossible_travel"}


def test_neighbours_and_unknown_places_are_never_impossible():
    assert not rules.impossible_travel(400, 0)       # within the allowance, even at once
    stops = [Stop(1, at(0), at(40), HOME_A, HOME_A), Stop(2, at(41), at(60), None, None)]
    assert rules.cross_visit_flags(stops)[2] == set()
    assert rules.cross_visit_flags([Stop(1, at(0), at(40), HOME_A, HOME_A),
                                    Stop(2, at(41), at(60), NEXT_DOOR, NEXT_DOOR)])[2] == set()


def test_the_new_flags_are_review_flags():
    assert {"overlapping_visit", "impossible_travel"} <= rules.REVIEW_FLAGS
