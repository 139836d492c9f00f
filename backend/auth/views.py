"""POST /auth/login, /auth/refresh, /auth/logout."""

from contextlib import contextmanager

from flask import request

from backend.api import Blueprint
from backend.auth import services
from backend.auth.access import public
from backend.errors import Problem
from backend.extensions import db
from schemas.auth import LoginSchema, LogoutSchema, RefreshSchema, TokenPairSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign-in and tokens")


@contextmanager
def refusals_recorded():
    """The boundary of a sign-in: a refusal that wrote something (a failed password counted, a
    stolen token's family revoked) commits it before the problem goes out; the API's and the
    console's sign-in both run inside it."""
    try:
        yield
    except Problem as problem:
        if problem.problem_code in services.RECORDED_REFUSALS:
            db.session.commit()
        raise


@blp.post("/login")
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
@public
def login(args):
    """Sign in with a username, password and the id of the device signing in."""
    with refusals_recorded():
        pair = services.login(args["username"], args["password"], args["device_id"], client_ip=request.remote_addr)
    db.session.commit()
    return pair


@blp.post("/refresh")
@blp.arguments(RefreshSchema)
@blp.response(200, TokenPairSchema)
@public
def refresh(args):
    """Trade a refresh token for a new pair; the old one stops working."""
    with refusals_recorded():
        pair = services.refresh(args["refresh_token"], args["device_id"])
    db.session.commit()
    return pair


@blp.post("/logout")
@blp.arguments(LogoutSchema)
@blp.response(204)
@public
def logout(args):
    """Revoke the refresh token and every token rotated from the same sign-in."""
    services.logout(args["refresh_token"])
    db.session.commit()
