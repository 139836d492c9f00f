"""Who is calling: the bearer-token gate in front of every API endpoint, and role checks.

Every /api/v1 endpoint needs a valid access token unless its view is marked @public; views
narrow further with @roles(...). Scope (which rows a user may see) lives in backend/scope.py.
"""

from functools import wraps

import jwt
from flask import Flask, current_app, g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from backend.auth.models import RefreshToken
from backend.auth.tokens import decode_access_token
from backend.errors import Forbidden, Problem
from backend.extensions import db
from backend.users.models import User

PUBLIC_PATHS = ("/api/v1/openapi.json", "/api/v1/docs")


def public(view):
    view.is_public = True
    return view


def account_checked_by_view(view):
    """The gate checks only the token; the view checks the account row and the token's family
    itself, in a statement it runs anyway, with `check_account` (the empty pull: one round trip
    instead of four). The view
    must call `check_account` or `load_account` before it reads or writes anything for the caller."""
    view.checks_account = True
    return view


def roles(*allowed: str):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            require_role(g.user.role, allowed)
            return view(*args, **kwargs)
        return wrapper
    return decorator


def require_role(role: str, allowed) -> None:
    if role not in allowed:
        raise Forbidden()


def install_gate(app: Flask) -> None:
    @app.before_request
    def _authenticate():
        if not request.path.startswith("/api/"):
            return None
        view = app.view_functions.get(request.endpoint or "")
        if view is None or getattr(view, "is_public", False) or request.path.startswith(PUBLIC_PATHS):
            return None
        g.token_claims = bearer_claims(request.headers.get("Authorization", ""))
        if not getattr(view, "checks_account", False):
            g.user = load_account(g.token_claims)
        return None


def bearer_claims(header: str) -> dict:
    """The claims of a valid access token in an Authorization header, or a 401 problem."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem("unauthorized", _l("missing bearer token"), headers={"WWW-Authenticate": "Bearer"})
    try:
        claims = decode_access_token(current_app.config["TOKEN_SECRET"], token)
    except jwt.ExpiredSignatureError:
        raise Problem("token_expired", headers={
            "WWW-Authenticate": 'Bearer error="invalid_token", error_description="expired"'}) from None
    except jwt.InvalidTokenError:
        raise Problem("invalid_token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    return claims


def load_account(claims: dict) -> User:
    """The token's user, who must still exist and be active, and whose sign-in (the token's
    family) must not have been revoked: one query."""
    row = db.session.execute(
        select(User, _revoked(claims["fam"])).where(User.id == int(claims["sub"]))
    ).one_or_none()
    user, revoked = row if row is not None else (None, False)
    check_account(user is not None, user is not None and user.is_active, revoked)
    return user


def _revoked(family_id: str):
    """Whether an access token's family was revoked, as a column: an index lookup
    (ix_refresh_tokens_revoked_family_id). The empty pull asks the same in its own statement."""
    return select(RefreshToken.id).where(RefreshToken.family_id == family_id,
                                         RefreshToken.revoked_at.is_not(None)).exists().label("revoked")


def check_account(exists: bool, is_active: bool, family_revoked: bool) -> None:
    """What the gate requires of the account behind a valid token, as problems. A disabled
    account says so even when its sign-ins were revoked with it, so the phone can tell the user."""
    if not exists:
        raise Problem("invalid_token")
    if not is_active:
        raise Problem("account_disabled")
    if family_revoked:
        raise Problem("token_revoked", headers={
            "WWW-Authenticate": 'Bearer error="invalid_token", error_description="revoked"'})
