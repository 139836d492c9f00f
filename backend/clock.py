"""Time in one place: UTC now, the care time zone, local-day boundaries."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def utcnow() -> datetime:
    """Now, in UTC. Tests and drills may set app.config["CLOCK"] to a callable to control time."""
    if has_app_context():
        clock = current_app.config.get("CLOCK")
        if clock is not None:
            return clock()
    return datetime.now(UTC)


def care_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["CARE_TIMEZONE"])


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(care_tz()).date()


def last_month(now: datetime | None = None) -> str:
    """The local month before this one, as YYYY-MM: the month a page opens on (it has ended)."""
    first = local_today(now).replace(day=1)
    return f"{first - timedelta(days=1):%Y-%m}"


def local_midnight(day: date, tz: ZoneInfo | None = None) -> datetime:
    """The UTC instant at which `day` begins in the care time zone."""
    return datetime.combine(day, time(0), tzinfo=tz or care_tz()).astimezone(UTC)


def local_at(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def days(start: date, count: int):
    return (start + timedelta(days=i) for i in range(count))
