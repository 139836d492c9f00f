"""POST /auth/login, /auth/refresh, /auth/logout."""

from flask import request
from flask_smorest import Blueprint

from backend.auth import services
from backend.auth.access import public
from backend.extensions import db
from schemas.auth import LoginSchema, LogoutSchema, RefreshSchema, TokenPairSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign-in and tokens")


@blp.post("/login")
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
@public
def login(args):
    """Sign in with a username, password and the id of the device signing in."""
    pair = services.login(args["username"], args["password"], args["device_id"], client_ip=request.remote_addr)
    db.session.commit()
    return pair


@blp.post("/refresh")
@blp.arguments(RefreshSchema)
@blp.response(200, TokenPairSchema)
@public
def refresh(args):
    """Trade a refresh token for a new pair; the old one stops working."""
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
