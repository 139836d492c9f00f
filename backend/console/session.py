"""Who is signed in to the console: a server-signed session cookie naming the user.

The console is for supervisors and admins, and for provider managers on the pages marked
`open_to_provider_managers` (their own provider's; every other page answers 403). It signs in
through the same service as the API (throttling and disabled accounts included) and every page
narrows its data with the same scope clauses. Forms carry a CSRF token (Flask-WTF) checked on every POST.
"""

from functools import wraps

from flask import g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l

from backend.errors import Forbidden
from backend.extensions import db
from backend.users.models import User

CONSOLE_ROLES = ("admin", "supervisor", "provider_manager")
OFFICE_ROLES = ("admin", "supervisor")


def sign_in(user: User) -> None:
    session.clear()
    session["user_id"] = user.id
    session["password_hash_tail"] = user.password_hash[-12:]  # a password change signs everyone out
    session.permanent = True


def sign_out() -> None:
    session.clear()


def load_console_user() -> User | None:
    user_id = session.get("user_id")
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.role not in CONSOLE_ROLES \
            or user.password_hash[-12:] != session.get("password_hash_tail"):
        session.clear()
        return None
    return user


def console_login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        user = load_console_user()
        if user is None:
            return redirect(url_for("console.sign_in_page", next=request.full_path.rstrip("?")))
        g.user = user
        if user.role not in OFFICE_ROLES and not getattr(view, "open_to_provider_managers", False):
            raise Forbidden(_l("this page is for supervisors and administrators"))
        return view(*args, **kwargs)
    return wrapper


def open_to_provider_managers(view):
    """Mark a console page (under @console_login_required) as one provider managers may open: its
    data must already be narrowed by the scope clauses, which give them only their provider's."""
    view.open_to_provider_managers = True
    return view
