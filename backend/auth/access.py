"""Who is calling: the bearer-token gate in front of every API endpoint, and role checks.

Every /api/v1 endpoint needs a valid access token unless its view is marked @public; views
narrow further with @roles(...). Scope (which rows a user may see) lives in backend/scope.py.
"""

from functools import wraps

import jwt
from flask import Flask, current_app, g, request

from backend.auth.tokens import decode_access_token
from backend.errors import Forbidden, Problem
from backend.extensions import db
from backend.users.models import User

PUBLIC_PATHS = ("/api/v1/openapi.json", "/api/v1/docs")


def public(view):
    view.is_public = True
    return view


def roles(*allowed: str):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if g.user.role not in allowed:
                raise Forbidden()
            return view(*args, **kwargs)
        return wrapper
    return decorator


def current_user() -> User:
    return g.user


def install_gate(app: Flask) -> None:
    @app.before_request
    def _authenticate():
        if not request.path.startswith("/api/"):
            return None
        view = app.view_functions.get(request.endpoint or "")
        if view is None or getattr(view, "is_public", False) or request.path.startswith(PUBLIC_PATHS):
            return None
        g.user, g.token_claims = authenticate_bearer(request.headers.get("Authorization", ""))
        return None


def authenticate_bearer(header: str) -> tuple[User, dict]:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem("unauthorized", "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    try:
        claims = decode_access_token(current_app.config["TOKEN_SECRET"], token)
    except jwt.ExpiredSignatureError:
        raise Problem("token_expired", headers={
            "WWW-Authenticate": 'Bearer error="invalid_token", error_description="expired"'}) from None
    except jwt.InvalidTokenError:
        raise Problem("invalid_token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    user = db.session.get(User, int(claims["sub"]))
    if user is None:
        raise Problem("invalid_token")
    if not user.is_active:
        raise Problem("account_disabled")
    return user, claims
