"""Endpoints of the regions domain."""

from flask_smorest import Blueprint

blp = Blueprint("regions", __name__, url_prefix="/api/v1/regions")
