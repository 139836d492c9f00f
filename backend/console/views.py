"""The server-rendered console for supervisors and admins: sign-in, home, navigation and error pages.

The pages themselves live in pages_*.py, one module per concept; each registers its routes on
`bp` and its place in the navigation with `page()`. backend/app.py imports them.
"""

from urllib.parse import urlencode

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale, refresh
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from backend.auth import services as auth_services
from backend.auth.views import refusals_recorded
from backend.console.display import FILTERS, problem_message, template_helpers
from backend.console.i18n import remember_locale
from backend.console.session import (
    CONSOLE_ROLES,
    OFFICE_ROLES,
    console_login_required,
    open_to_provider_managers,
    sign_in,
    sign_out,
)
from backend.errors import Problem
from backend.extensions import csrf, db
from backend.providers.models import Provider

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/static")


@bp.before_request
def _per_request():
    # The locale and the CSRF token are per request, never inherited from an enclosing app context.
    refresh()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    if request.method == "POST":
        csrf.protect()


@bp.after_request
def _remember_locale(response):
    # The protective headers are every response's: backend/security_headers.py.
    return remember_locale(response)


@bp.get("/login")
def sign_in_page():
    return render_template("console/login.html", next=_safe_next())


@bp.post("/login")
def sign_in_submit():
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    try:
        with refusals_recorded():
            pair = auth_services.login(username, password, "console", client_ip=request.remote_addr)
    except Problem as problem:
        db.session.rollback()
        message = {"too_many_requests": _("Too many attempts. Try again later."),
                   "account_disabled": _("This account is disabled.")}.get(
            problem.problem_code, _("Wrong username or password."))
        return render_template("console/login.html", error=message, username=username, next=_safe_next()), \
            problem.code
    if pair.user.role not in CONSOLE_ROLES:
        db.session.rollback()
        return render_template("console/login.html", error=_("The console is for supervisors and administrators."),
                               username=username, next=_safe_next()), 403
    db.session.rollback()  # the console keeps no refresh token: its session cookie is the credential
    sign_in(pair.user)
    return redirect(_safe_next() or url_for("console.home"))


@bp.post("/logout")
def sign_out_submit():
    sign_out()
    flash(_("You have signed out."))
    return redirect(url_for("console.sign_in_page"))


@bp.get("/")
@console_login_required
@open_to_provider_managers
def home():
    from backend.fieldapp.links import app_address, insecure_for_phones, qr_data_uri

    address = app_address(request)
    provider = db.session.get(Provider, g.user.provider_id) if g.user.role == "provider_manager" else None
    return render_template("console/home.html", pages=registered_pages(), app_address=address,
                           provider_name=provider.name if provider else None,
                           app_qr=qr_data_uri(address), app_insecure=insecure_for_phones(request))


def _safe_next() -> str | None:
    target = request.values.get("next") or ""
    # Only paths inside the console: never an open redirect.
    return target if target.startswith("/console/") and not target.startswith("//") else None


_PAGES: list[tuple[int, str, str, str, tuple[str, ...]]] = []


def page(endpoint: str, label: str, description: str = "", *, order: int = 100, roles=OFFICE_ROLES):
    """Register a console page in the navigation (label is a msgid, translated when shown);
    `order` places it, lowest first; `roles` are those who see it listed."""
    _PAGES.append((order, endpoint, label, description, tuple(roles)))


def registered_pages():
    user = getattr(g, "user", None)
    return [(endpoint, label, description) for _order, endpoint, label, description, roles in sorted(_PAGES)
            if endpoint in current_app.view_functions and (user is None or user.role in roles)]


@bp.app_context_processor
def _navigation():
    return {"console_pages": registered_pages, "current_user": lambda: getattr(g, "user", None),
            "get_locale": get_locale, "lang_url": _lang_url, **template_helpers()}


def _lang_url(code: str) -> str:
    """This page again in another language (a POST's page falls back to its GET address)."""
    args = request.args.copy()
    args["lang"] = code
    return request.path + "?" + urlencode(list(args.items(multi=True)))


for _name, _filter in FILTERS.items():
    bp.add_app_template_filter(_filter, _name)


@bp.errorhandler(Problem)
def _problem_page(problem: Problem):
    db.session.rollback()
    return render_template("console/error.html", message=problem_message(problem), status=problem.code), \
        problem.code


@bp.errorhandler(CSRFError)
def _csrf_page(error: CSRFError):
    return render_template("console/error.html", status=400,
                           message=_("The form has expired. Go back, reload the page and try again.")), 400
