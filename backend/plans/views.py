"""Endpoints of the plans domain."""

from flask_smorest import Blueprint

blp = Blueprint("plans", __name__, url_prefix="/api/v1/plans")
