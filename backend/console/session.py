"""Who is signed in to the console: a server-signed session cookie naming the user.

The console is for supervisors and admins. It signs in through the same service as the API
(throttling and disabled accounts included) and every page narrows its data with the same scope
clauses. Forms carry a CSRF token (Flask-WTF) checked on every POST.
"""

from functools import wraps

from flask import g, redirect, request, session, url_for

from backend.extensions import db
from backend.users.models import User

CONSOLE_ROLES = ("admin", "supervisor")


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
        return view(*args, **kwargs)
    return wrapper
