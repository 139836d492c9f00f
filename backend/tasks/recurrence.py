"""Plan recurrences and patrol periods turned into concrete visit windows."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from backend.clock import local_at, local_midnight


@dataclass(frozen=True)
class Window:
    start: datetime  # UTC
    end: datetime    # UTC


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def recurs_on(recurrence: dict, day: date) -> bool:
    freq = recurrence["freq"]
    if freq == "daily":
        return True
    if freq == "weekly":
        return day.isoweekday() in recurrence.get("weekdays", ())
    if freq == "monthly":
        return day.day in recurrence.get("monthdays", ())
    raise ValueError(f"unknown recurrence frequency {freq!r}")


def care_window(recurrence: dict, day: date, tz: ZoneInfo) -> Window:
    """The window on `day`; an end at or before the start runs into the next day (night care)."""
    start_t, end_t = parse_hhmm(recurrence["start"]), parse_hhmm(recurrence["end"])
    end_day = day + timedelta(days=1) if end_t <= start_t else day
    return Window(local_at(day, start_t, tz), local_at(end_day, end_t, tz))


def period_bounds(period: str, day: date) -> tuple[date, date]:
    """The patrol period (week Mon–Sun, calendar month or quarter) holding `day`: [first, last+1)."""
    if period == "week":
        first = day - timedelta(days=day.isoweekday() - 1)
        return first, first + timedelta(days=7)
    if period == "month":
        first = day.replace(day=1)
    elif period == "quarter":
        first = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    else:
        raise ValueError(f"unknown patrol period {period!r}")
    months = 1 if period == "month" else 3
    year, month = divmod(first.month - 1 + months, 12)
    return first, first.replace(year=first.year + year, month=month + 1)


def periods_overlapping(period: str, start: date, end: date):
    """Every period touching the dates [start, end)."""
    first, after = period_bounds(period, start)
    while first < end:
        yield first, after
        first, after = period_bounds(period, after)


def patrol_window(first: date, after: date, tz: ZoneInfo) -> Window:
    return Window(local_midnight(first, tz), local_midnight(after, tz))
