"""Login throttling, shared by every server process through the login_throttle table.

Three counters per failed password, so that people sharing an address (a carrier NAT, a street
office) never lock each other out:

- per account, wherever the attempts come from: after a few free failures each further attempt
  waits a delay that doubles with every failure, up to a cap of minutes. The real user waits too,
  so it stays short; it is the only brake on guesses spread over many addresses.
- per account and address: the hard stop. One address guessing one account is locked out of that
  account for a while; the account's user elsewhere is not.
- per address across accounts: only for sprays, far above the typos of everyone behind it.

Attempts refused with 429 are not counted, so hammering never lengthens a wait. The throttle runs
on the app's clock (backend/clock.py), which tests and drills move; tokens keep real time, as
their verification does.

Problems raised: too_many_requests (429, with Retry-After).
"""

import math
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from backend.auth.models import LoginThrottle
from backend.clock import utcnow
from backend.errors import Problem
from backend.extensions import db


def check(username: str, client_ip: str | None, *, now: datetime | None = None) -> None:
    """Refuse the attempt with too_many_requests while any of its counters makes it wait."""
    now = now or utcnow()
    keys = list(_keys(username, client_ip).values())
    waits = db.session.execute(
        select(LoginThrottle.locked_until).where(LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now)
    ).scalars().all()
    if waits:
        retry = max(1, math.ceil((max(waits) - now).total_seconds()))
        raise Problem("too_many_requests", headers={"Retry-After": str(retry)}, retry_after=retry)


def record_failure(username: str, client_ip: str | None, *, now: datetime | None = None) -> None:
    """Count a wrong password against each counter. The caller commits although the request
    fails: the failure must count (auth.services.RECORDED_REFUSALS)."""
    now = now or utcnow()
    keys = _keys(username, client_ip)
    ordered = sorted(keys.values())  # rows are locked in one order by every process
    db.session.execute(insert(LoginThrottle).values(
        [{"key": key, "failures": 0, "window_started_at": now, "last_failure_at": now} for key in ordered]
    ).on_conflict_do_nothing(index_elements=["key"]))
    rows = db.session.execute(
        select(LoginThrottle).where(LoginThrottle.key.in_(ordered)).order_by(LoginThrottle.key)
        .with_for_update().execution_options(populate_existing=True)
    ).scalars()
    by_key = {row.key: row for row in rows}
    config = current_app.config
    _count_growing(by_key[keys["account"]], now, config)
    if "pair" in keys:
        _count_windowed(by_key[keys["pair"]], now, config, config["LOGIN_PAIR_MAX_FAILURES"])
        _count_windowed(by_key[keys["address"]], now, config, config["LOGIN_ADDRESS_MAX_FAILURES"])


def forget(username: str, client_ip: str | None) -> None:
    """A correct password forgets the account's failures and this address's for the account (the
    address's spray count stays)."""
    keys = _keys(username, client_ip)
    db.session.execute(delete(LoginThrottle).where(
        LoginThrottle.key.in_([keys["account"]] + ([keys["pair"]] if "pair" in keys else []))))


def _keys(username: str, client_ip: str | None) -> dict[str, str]:
    name = username.lower()
    keys = {"account": f"account:{name}"}
    if client_ip:
        # An address never contains "/", so the first one ends it.
        keys["pair"] = f"pair:{client_ip}/{name}"
        keys["address"] = f"address:{client_ip}"
    return keys


def _count_growing(row: LoginThrottle, now: datetime, config) -> None:
    if now - row.last_failure_at > config["LOGIN_FAILURE_WINDOW"]:
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    row.last_failure_at = now
    beyond = row.failures - config["LOGIN_ACCOUNT_FREE_FAILURES"]
    if beyond >= 0:
        # The exponent is bounded so the product stays a valid timedelta however long it goes on.
        delay = min(config["LOGIN_ACCOUNT_DELAY"] * 2 ** min(beyond, 30), config["LOGIN_ACCOUNT_MAX_DELAY"])
        row.locked_until = now + delay


def _count_windowed(row: LoginThrottle, now: datetime, config, limit: int) -> None:
    if now - row.window_started_at > config["LOGIN_FAILURE_WINDOW"]:
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= limit:
        row.locked_until = now + config["LOGIN_LOCKOUT"]
        row.failures, row.window_started_at = 0, now
