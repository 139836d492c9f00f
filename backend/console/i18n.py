"""Console language: Chinese by default, English when chosen (a cookie set by ?lang=en)."""

from flask import request

LANGUAGES = ("zh", "en")


def select_locale() -> str:
    chosen = request.args.get("lang") or request.cookies.get("lang")
    return chosen if chosen in LANGUAGES else "zh"


def remember_locale(response):
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        response.set_cookie("lang", chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
