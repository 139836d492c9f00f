"""GET/POST /users, GET/PATCH /users/{id}, GET /users/me: accounts, managed by admins."""

from flask import g
from sqlalchemy import or_, select

from backend import clock
from backend.api import Blueprint
from backend.auth.access import roles
from backend.extensions import db
from backend.pagination import paginate
from backend.scope import scoped_or_404
from backend.users import services
from backend.users.models import User
from schemas.users import UserCreateSchema, UserListArgs, UserPageSchema, UserSchema, UserUpdateSchema

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Accounts")


@blp.get("")
@roles("admin", "supervisor", "provider_manager")
@blp.arguments(UserListArgs, location="query")
@blp.response(200, UserPageSchema)
def list_users(args):
    """Admins see every account; supervisors, read-only, the accounts working in their subtree;
    provider managers their provider's."""
    query = select(User).where(services.visible_users_clause(g.user))
    for name in ("role", "is_active"):
        if name in args:
            query = query.where(getattr(User, name) == args[name])
    if "q" in args:
        query = query.where(or_(User.username.contains(args["q"], autoescape=True),
                                User.display_name.contains(args["q"], autoescape=True)))
    return paginate(query.order_by(User.username), page=args["page"], per_page=args["per_page"])


@blp.get("/me")
@blp.response(200, UserSchema)
def get_me():
    """The caller's own account: role and scope."""
    return g.user


@blp.get("/<int:user_id>")
@roles("admin", "supervisor", "provider_manager")
@blp.response(200, UserSchema)
def get_user(user_id):
    return scoped_or_404(User, user_id, services.visible_users_clause(g.user), what="user")


@blp.post("")
@roles("admin")
@blp.arguments(UserCreateSchema)
@blp.response(201, UserSchema)
def create_user(args):
    """Supervisors need region_id; caregivers provider_id; community workers community_ids."""
    user = services.create_user(**args, by=g.user)
    db.session.commit()
    return user


@blp.patch("/<int:user_id>")
@roles("admin")
@blp.arguments(UserUpdateSchema)
@blp.response(200, UserSchema)
def update_user(args, user_id):
    """Edit, disable (`is_active: false`) or reset the password; a new role needs its scope."""
    user = scoped_or_404(User, user_id, services.visible_users_clause(g.user), what="user", for_update=True)
    user = services.update_user(user, args, by=g.user, now=clock.utcnow())
    db.session.commit()
    return user
