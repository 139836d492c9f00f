"""Creating and changing accounts.

Problems raised: validation_failed (422) when a role lacks its scope (a supervisor without a
region, a caregiver without a provider, a worker without communities) or names a wrong kind of
region; conflict (409) for a taken username; not_found (404) for unknown regions/providers.
"""

from sqlalchemy import select

from backend.auth.services import hash_password
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.extensions import db
from backend.providers.models import Provider
from backend.regions.models import Region
from backend.users.models import User


def create_user(*, username: str, password: str, role: str, by: User | None, display_name: str = "",
                phone: str | None = None, region_id: int | None = None, provider_id: int | None = None,
                community_ids: list[int] | None = None, certificate_no: str | None = None,
                skill_level: int | None = None, is_active: bool = True) -> User:
    if db.session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(f"username {username!r} is taken")
    if len(password) < 8:
        raise ValidationFailed("password", "must be at least 8 characters")
    user = User(username=username, password_hash=hash_password(password), role=role,
                display_name=display_name or username, phone=phone, is_active=is_active)
    apply_scope(user, region_id=region_id, provider_id=provider_id, community_ids=community_ids)
    user.certificate_no = certificate_no
    user.skill_level = skill_level
    db.session.add(user)
    db.session.flush()
    return user


def apply_scope(user: User, *, region_id=None, provider_id=None, community_ids=None) -> None:
    """Give a user the scope their role needs, and none that it doesn't."""
    user.region_id = user.provider_id = None
    user.communities = []
    if user.role == "supervisor":
        if region_id is None:
            raise ValidationFailed("region_id", "a supervisor needs a region")
        user.region = _region(region_id)
    elif user.role == "caregiver":
        if provider_id is None:
            raise ValidationFailed("provider_id", "a caregiver needs a provider")
        if db.session.get(Provider, provider_id) is None:
            raise NotFound("provider")
        user.provider_id = provider_id
    elif user.role == "community_worker":
        ids = list(community_ids or ([region_id] if region_id is not None else []))
        if not ids:
            raise ValidationFailed("community_ids", "a community worker needs at least one community")
        regions = [_region(i) for i in ids]
        if any(r.level != "community" for r in regions):
            raise ValidationFailed("community_ids", "must name communities, not streets or districts")
        user.communities = regions


def _region(region_id: int) -> Region:
    region = db.session.get(Region, region_id)
    if region is None:
        raise NotFound("region")
    return region
