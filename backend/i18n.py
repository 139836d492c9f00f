"""Which language a request is answered in: Chinese unless the caller asks for English.

The console asks with its switch (?lang=en, remembered in a cookie); the API with Accept-Language.
A console page ignores Accept-Language: browsers send their own, and the console is Chinese until
someone switches it.
"""

from flask import has_request_context, request
from flask_babel import get_locale, refresh

LANGUAGES = ("zh", "en")


def select_locale() -> str:
    if not has_request_context():
        return "zh"
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(LANGUAGES, default="zh")
    return "zh"


def refresh_locale(sender, **extra) -> None:
    """Choose the language afresh for each request (connected to request_started, so before any
    before_request check can raise a problem): flask-babel keeps its choice on `g`, which outlives
    a request when an app context was pushed around several (the CLI, tests)."""
    refresh()


def N_(msgid: str) -> str:
    """Mark a string for the catalogue (pybabel extracts it) without translating it yet: tables
    built at import time, outside any request, translate when shown."""
    return msgid


def is_english() -> bool:
    """Whether messages go out in English now; outside a request (jobs, the CLI) they are Chinese."""
    return has_request_context() and str(get_locale()) == "en"
