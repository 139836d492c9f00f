"""Building the region tree: creating, renaming and deleting districts, streets and communities.

Problems raised: validation_failed (422) when a level does not fit its parent or the parent is
unknown; conflict (409) for a name taken under the same parent, a code taken anywhere, or
deleting a region that still has children, elders or users.
"""

from contextlib import contextmanager

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from backend.elders.models import Elder
from backend.errors import Conflict, ValidationFailed
from backend.extensions import db
from backend.providers.models import Provider
from backend.regions.models import PARENT_LEVEL, Region
from backend.users.models import User, user_communities


def create_region(*, name: str, level: str, parent_id: int | None, code: str | None, by: User) -> Region:
    parent = None
    if parent_id is not None:
        parent = db.session.get(Region, parent_id)
        if parent is None:
            raise ValidationFailed("parent_id", "no such region")
    wanted = PARENT_LEVEL[level]
    if wanted is None and parent is not None:
        raise ValidationFailed("parent_id", f"a {level} has no parent")
    if wanted is not None and (parent is None or parent.level != wanted):
        raise ValidationFailed("parent_id", f"a {level} belongs to a {wanted}")
    region = Region(name=name, level=level, parent_id=parent_id, code=code)
    with _unique_names():
        db.session.add(region)
        db.session.flush()
    # The path holds the region's own id, known only after the insert.
    region.path = (parent.path if parent else "/") + f"{region.id}/"
    db.session.flush()
    return region


def update_region(region: Region, changes: dict, *, by: User) -> Region:
    """Rename a region or change its code; its place in the tree never moves."""
    for name in ("name", "code"):
        if name in changes:
            setattr(region, name, changes[name])
    with _unique_names():
        db.session.flush()
    return region


def delete_region(region: Region, *, by: User) -> None:
    for what, used in (
        ("regions below it", exists().where(Region.parent_id == region.id)),
        ("elders", exists().where(Elder.community_id == region.id)),
        ("users", exists().where(User.region_id == region.id)),
        ("community workers", exists().where(user_communities.c.region_id == region.id)),
    ):
        if db.session.execute(select(used)).scalar():
            raise Conflict(f"region {region.id} still has {what}")
    # Providers only note where they are based; they outlive the region.
    for provider in db.session.execute(select(Provider).where(Provider.region_id == region.id)).scalars():
        provider.region_id = None
    try:
        with db.session.begin_nested():
            db.session.delete(region)
            db.session.flush()
    except IntegrityError:  # something was attached to it meanwhile
        raise Conflict(f"region {region.id} is in use") from None


@contextmanager
def _unique_names():
    try:
        with db.session.begin_nested():
            yield
    except IntegrityError:
        raise Conflict("another region has this name under the same parent, or this code") from None
