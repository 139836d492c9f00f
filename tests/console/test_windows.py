"""Task windows in the console show both ends: hours within a day, dates when the window spans days."""

from datetime import UTC, datetime, timedelta

import pytest

from backend.clock import local_midnight, local_today
from backend.console.display import window


@pytest.fixture
def zh(app):
    with app.test_request_context("/console/"):
        yield


@pytest.fixture
def en(app):
    with app.test_request_context("/console/?lang=en"):
        yield


def monday_of(clock):
    today = local_today(clock())
    return today - timedelta(days=today.isoweekday() - 1)


def test_a_window_within_a_day_shows_its_hours(zh, clock):
    opens = local_midnight(local_today(clock())) + timedelta(hours=11)
    day = f"{local_today(clock()):%Y-%m-%d}"
    assert window(opens, opens + timedelta(hours=2)) == f"{day} 11:00–13:00"
    assert window(opens, opens + timedelta(hours=2), short=True) == f"{day[5:]} 11:00–13:00"


def test_a_weekly_window_shows_its_first_and_last_day(zh, clock):
    monday = monday_of(clock)
    sunday = monday + timedelta(days=6)
    text = window(local_midnight(monday), local_midnight(monday + timedelta(days=7)))
    assert text == f"{monday:%Y-%m-%d} 至 {sunday:%m-%d}"
    assert window(local_midnight(monday), local_midnight(monday + timedelta(days=7)), short=True) == \
        f"{monday:%m-%d} 至 {sunday:%m-%d}"


def test_a_monthly_window_ends_on_the_months_last_day(zh, clock):
    first = local_today(clock()).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    last = following - timedelta(days=1)
    expected = f"{first:%m-%d} 至 {last:%Y-%m-%d}" if last.year != first.year else f"{first:%m-%d} 至 {last:%m-%d}"
    assert window(local_midnight(first), local_midnight(following), short=True) == expected


def test_a_window_into_the_next_year_names_both_years(zh, clock):
    new_year = local_today(clock()).replace(year=local_today(clock()).year + 1, month=1, day=1)
    opens = local_midnight(new_year - timedelta(days=3))
    assert window(opens, local_midnight(new_year + timedelta(days=4))) == \
        f"{new_year - timedelta(days=3):%Y-%m-%d} 至 {new_year + timedelta(days=3):%Y-%m-%d}"


def test_a_window_over_midnight_shows_both_dates_and_times(zh, clock):
    opens = local_midnight(local_today(clock())) + timedelta(hours=22)
    assert window(opens, opens + timedelta(hours=4), short=True) == \
        f"{local_today(clock()):%m-%d} 22:00 至 {local_today(clock()) + timedelta(days=1):%m-%d} 02:00"


def test_a_whole_day_window_is_that_day(zh, clock):
    today = local_today(clock())
    assert window(local_midnight(today), local_midnight(today + timedelta(days=1))) == f"{today:%Y-%m-%d}"


def test_english_says_to(en, clock):
    monday = monday_of(clock)
    assert " to " in window(local_midnight(monday), local_midnight(monday + timedelta(days=7)))


def test_no_window_is_a_dash(zh):
    assert window(None, datetime.now(UTC)) == "—"
