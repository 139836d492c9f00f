"""Creating and changing accounts, and which accounts a supervisor may read.

Problems raised: validation_failed (422) when a role lacks its scope (a supervisor without a
region, a caregiver without a provider, a worker without communities), names an unknown or wrong
kind of region or provider, gives caregiver-only fields to another role, or when admins would
disable or demote themselves; conflict (409) for a taken username, for a scope change that would
leave the user's plans behind, and version_conflict (409) for a stale version.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, false, select, true, update
from sqlalchemy.exc import IntegrityError

from backend.auth.models import RefreshToken
from backend.auth.services import hash_password
from backend.elders.models import Elder
from backend.errors import Conflict, ValidationFailed
from backend.extensions import db
from backend.plans.models import CarePlan, CarePlanItem, PatrolPlan
from backend.providers.models import Provider
from backend.regions.models import Region
from backend.scope import region_ids_clause
from backend.users.models import User, user_communities
from backend.versions import check_version

SCOPE_FIELDS = ("region_id", "provider_id", "community_ids")
CAREGIVER_FIELDS = ("certificate_no", "skill_level")


def create_user(*, username: str, password: str, role: str, by: User | None, display_name: str = "",
                phone: str | None = None, region_id: int | None = None, provider_id: int | None = None,
                community_ids: list[int] | None = None, certificate_no: str | None = None,
                skill_level: int | None = None, is_active: bool = True) -> User:
    if len(password) < 8:
        raise ValidationFailed("password", _l("must be at least 8 characters"))
    user = User(username=username, password_hash=hash_password(password), role=role,
                display_name=display_name or username, phone=phone, is_active=is_active)
    apply_scope(user, region_id=region_id, provider_id=provider_id, community_ids=community_ids)
    _set_caregiver_fields(user, certificate_no=certificate_no, skill_level=skill_level)
    try:
        with db.session.begin_nested():
            db.session.add(user)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_l("username %(username)s is taken", username=username)) from None
    return user


def update_user(user: User, changes: dict, *, by: User, now: datetime) -> User:
    """Change profile, status, password or role and scope. A new password or a disabled account
    signs the user out of every device; a changed role gets the scope of the new role."""
    check_version(user, changes.get("version"), what="user")
    if user.id == by.id and changes.get("is_active") is False:
        raise ValidationFailed("is_active", _l("you cannot disable your own account"))
    if user.id == by.id and changes.get("role", user.role) != user.role:
        raise ValidationFailed("role", _l("you cannot change your own role"))
    if changes.get("is_active") is False and user.is_active:
        _check_plans_still_fit(user, leaving=True)
    for name in ("display_name", "phone", "is_active"):
        if name in changes:
            setattr(user, name, changes[name])
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
    if "password" in changes or changes.get("is_active") is False:
        _sign_out_everywhere(user, now=now)
    role_changed = changes.get("role", user.role) != user.role
    if role_changed or any(name in changes for name in SCOPE_FIELDS):
        # A new role starts from what the request says; the same role keeps what it had.
        scope = {} if role_changed else {"region_id": user.region_id, "provider_id": user.provider_id,
                                         "community_ids": [c.id for c in user.communities]}
        scope.update({name: changes[name] for name in SCOPE_FIELDS if name in changes})
        user.role = changes.get("role", user.role)
        apply_scope(user, **scope)
        _check_plans_still_fit(user)
    caregiver_fields = {name: changes.get(name, None if role_changed else getattr(user, name))
                        for name in CAREGIVER_FIELDS}
    _set_caregiver_fields(user, **caregiver_fields)
    db.session.flush()
    return user


def apply_scope(user: User, *, region_id=None, provider_id=None, community_ids=None) -> None:
    """Give a user the scope their role needs, and none that it doesn't."""
    user.region_id = user.provider_id = None
    user.region = None
    user.communities = []
    if user.role == "supervisor":
        if region_id is None:
            raise ValidationFailed("region_id", _l("a supervisor needs a region"))
        user.region = _region(region_id, "region_id")
    elif user.role in ("caregiver", "provider_manager"):
        if provider_id is None:
            raise ValidationFailed("provider_id", _l("a caregiver needs a provider") if user.role == "caregiver"
                                   else _l("a provider manager needs a provider"))
        if db.session.get(Provider, provider_id) is None:
            raise ValidationFailed("provider_id", _l("no such provider"))
        user.provider_id = provider_id
    elif user.role == "community_worker":
        ids = list(community_ids or ([region_id] if region_id is not None else []))
        if not ids:
            raise ValidationFailed("community_ids", _l("a community worker needs at least one community"))
        regions = [_region(i, "community_ids") for i in dict.fromkeys(ids)]
        if any(r.level != "community" for r in regions):
            raise ValidationFailed("community_ids", _l("must name communities, not streets or districts"))
        user.communities = regions


def visible_users_clause(viewer: User):
    """Accounts a viewer may read: admins all; supervisors the supervisors and community workers
    of their subtree and the caregivers serving its elders; provider managers their provider's."""
    if viewer.role == "admin":
        return true()
    if viewer.role == "provider_manager":
        return User.provider_id == viewer.provider_id
    if viewer.role != "supervisor":
        return false()
    in_scope = region_ids_clause(viewer, user_communities.c.region_id)
    serving = (select(CarePlanItem.assignee_id).join(CarePlan).join(Elder, CarePlan.elder_id == Elder.id)
               .where(CarePlan.status == "active", region_ids_clause(viewer, Elder.community_id)))
    return (
        region_ids_clause(viewer, User.region_id)
        | User.id.in_(select(user_communities.c.user_id).where(in_scope))
        | User.id.in_(serving)
    )


def _set_caregiver_fields(user: User, *, certificate_no, skill_level) -> None:
    if user.role != "caregiver":
        for name, value in (("certificate_no", certificate_no), ("skill_level", skill_level)):
            if value is not None:
                raise ValidationFailed(name, _l("only caregivers have one"))
    user.certificate_no = certificate_no
    user.skill_level = skill_level


def _check_plans_still_fit(user: User, *, leaving: bool = False) -> None:
    """A caregiver stays with their provider's plans and a worker with their elders' patrols; an
    account being disabled (`leaving`) must first hand all its active plans to someone else, or
    their visits would silently go missed."""
    if user.id is None:
        return
    item_elsewhere = exists().where(
        CarePlanItem.assignee_id == user.id, CarePlanItem.plan_id == CarePlan.id, CarePlan.status == "active",
        CarePlan.provider_id != user.provider_id if user.role == "caregiver" and not leaving else true(),
    )
    community_ids = [c.id for c in user.communities]
    patrol_elsewhere = exists().where(
        PatrolPlan.worker_id == user.id, PatrolPlan.status == "active", PatrolPlan.elder_id == Elder.id,
        Elder.community_id.notin_(community_ids) if user.role == "community_worker" and not leaving else true(),
    )
    if db.session.execute(select(item_elsewhere)).scalar():
        raise Conflict(_l("user %(user_id)s is assigned to care plans this change would leave; reassign them first",
                          user_id=user.id))
    if db.session.execute(select(patrol_elsewhere)).scalar():
        raise Conflict(_l("user %(user_id)s has patrol plans this change would leave; reassign them first",
                          user_id=user.id))


def _sign_out_everywhere(user: User, *, now: datetime) -> None:
    db.session.execute(update(RefreshToken).where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
                       .values(revoked_at=now))


def _region(region_id: int, field: str) -> Region:
    region = db.session.get(Region, region_id)
    if region is None:
        raise ValidationFailed(field, _l("no such region: %(region_id)s", region_id=region_id))
    return region
