"""Logging in, refreshing and logging out (repeated failures are throttled by auth/throttle.py).

Problems raised: invalid_credentials (401), account_disabled (403), too_many_requests (429),
invalid_refresh_token (401), refresh_token_reused (401).

Services add and flush; the view commits, and commits too when a refusal of RECORDED_REFUSALS
fails the request, so that what it wrote on the way sticks.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from backend.auth import throttle
from backend.auth.models import RefreshToken
from backend.auth.tokens import encode_access_token, hash_refresh_token, new_refresh_token
from backend.columns import utcnow
from backend.errors import Problem
from backend.extensions import db
from backend.users.models import User

# Refusals whose writes the view commits before the problem goes out: a wrong password counted
# by the throttle, a reused refresh token's family revoked.
RECORDED_REFUSALS = frozenset({"invalid_credentials", "refresh_token_reused"})

# Compared against when the username is unknown, so a miss costs as much as a hit.
_DUMMY_HASH = None


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_at: datetime
    user: User


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def login(username: str, password: str, device_id: str, *, client_ip: str | None, now=None) -> TokenPair:
    now = now or utcnow()
    throttle.check(username, client_ip)
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not check_password_hash(user.password_hash, password):
        if user is None:
            check_password_hash(_dummy_hash(), password)
        throttle.record_failure(username, client_ip)
        raise Problem("invalid_credentials")
    if not user.is_active:
        raise Problem("account_disabled")
    throttle.forget(username, client_ip)
    return _issue(user, device_id, family_id=secrets.token_hex(16), now=now)


def refresh(token: str, device_id: str, *, now=None) -> TokenPair:
    """Rotate a refresh token. A token used twice revokes its whole family (it was stolen)."""
    now = now or utcnow()
    row = db.session.execute(
        select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise Problem("invalid_refresh_token")
    if row.device_id != device_id:
        raise Problem("invalid_refresh_token", _l("the refresh token belongs to another device"))
    # Conditional UPDATE: of two concurrent refreshes with one token, exactly one wins.
    won = db.session.execute(
        update(RefreshToken).where(RefreshToken.id == row.id, RefreshToken.rotated_at.is_(None))
        .values(rotated_at=now)
    ).rowcount
    if not won:
        revoke_family(row.family_id, now=now)
        raise Problem("refresh_token_reused")
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Problem("account_disabled")
    return _issue(user, device_id, family_id=row.family_id, now=now)


def logout(token: str, *, now=None) -> None:
    row = db.session.execute(
        select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token))
    ).scalar_one_or_none()
    if row is not None:
        revoke_family(row.family_id, now=now or utcnow())


def revoke_family(family_id: str, *, now) -> None:
    db.session.execute(
        update(RefreshToken).where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _issue(user: User, device_id: str, *, family_id: str, now) -> TokenPair:
    config = current_app.config
    refresh_token = new_refresh_token()
    expires_at = now + config["REFRESH_TOKEN_LIFETIME"]
    db.session.add(RefreshToken(user_id=user.id, family_id=family_id, device_id=device_id,
                                token_hash=hash_refresh_token(refresh_token), issued_at=now,
                                expires_at=expires_at))
    access = encode_access_token(config["TOKEN_SECRET"], user_id=user.id, role=user.role,
                                 device_id=device_id, family_id=family_id, now=now,
                                 lifetime=config["ACCESS_TOKEN_LIFETIME"])
    return TokenPair(access, refresh_token, int(config["ACCESS_TOKEN_LIFETIME"].total_seconds()),
                     expires_at, user)


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(8))
    return _DUMMY_HASH
