"""Endpoints of the providers domain."""

from flask_smorest import Blueprint

blp = Blueprint("providers", __name__, url_prefix="/api/v1/providers")
