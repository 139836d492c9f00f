"""Endpoints of the elders domain."""

from flask_smorest import Blueprint

blp = Blueprint("elders", __name__, url_prefix="/api/v1/elders")
