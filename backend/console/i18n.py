"""Console language: Chinese by default, English when chosen (a cookie set by ?lang=en)."""

from flask import request

from backend.i18n import LANGUAGES


def remember_locale(response):
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        response.set_cookie("lang", chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                            secure=request.is_secure)
    return response
