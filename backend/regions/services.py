"""Building the region tree: creating, renaming and deleting districts, streets and communities.

Problems raised: validation_failed (422) when a level does not fit its parent or the parent is
unknown; conflict (409) for a name taken under the same parent, a code taken anywhere, or
deleting a region that still has children, elders or users.
"""

from contextlib import contextmanager

from flask_babel import gettext, lazy_gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, literal, select, update
from sqlalchemy.exc import IntegrityError

from backend.elders.models import Elder
from backend.errors import Conflict, ValidationFailed
from backend.extensions import db
from backend.providers.models import Provider
from backend.regions.codes import code_problem, prefix_of
from backend.regions.models import PARENT_LEVEL, ROOT_LEVELS, Region
from backend.users.models import User, user_communities

BELONGS = {
    "city": lazy_gettext("a city has no parent"),
    "district": lazy_gettext("a district belongs to a city, or to none"),
    "street": lazy_gettext("a street belongs to a district"),
    "community": lazy_gettext("a community belongs to a street"),
}


def create_region(*, name: str, level: str, parent_id: int | None, code: str | None, by: User) -> Region:
    parent = _parent(level, parent_id)
    _check_code(level, code, parent)
    region = Region(name=name, level=level, parent_id=parent_id, code=code)
    with _unique_names():
        db.session.add(region)
        db.session.flush()
    # The path holds the region's own id, known only after the insert.
    region.path = (parent.path if parent else "/") + f"{region.id}/"
    db.session.flush()
    return region


def update_region(region: Region, changes: dict, *, by: User) -> Region:
    """Rename a region or change its code. Only a district ever moves: under a city, or out from
    under one (parent_id null), taking its streets and communities along."""
    if "parent_id" in changes and changes["parent_id"] != region.parent_id:
        if region.level != "district":
            raise ValidationFailed("parent_id", gettext("only a district can be moved, between cities"))
        _move(region, _parent(region.level, changes["parent_id"]))
    if "code" in changes and changes["code"] != region.code:
        _check_code(region.level, changes["code"], region.parent)
        if changes["code"] is not None:
            _check_children_codes(region, changes["code"])
    elif "parent_id" in changes:
        _check_code(region.level, region.code, region.parent)
    for name in ("name", "code"):
        if name in changes:
            setattr(region, name, changes[name])
    with _unique_names():
        db.session.flush()
    return region


def _parent(level: str, parent_id: int | None) -> Region | None:
    """The parent a region of `level` would have, checked against the tree's levels."""
    parent = None
    if parent_id is not None:
        parent = db.session.get(Region, parent_id)
        if parent is None:
            raise ValidationFailed("parent_id", gettext("no such region"))
    if (parent is None and level not in ROOT_LEVELS) or (parent is not None and parent.level != PARENT_LEVEL[level]):
        raise ValidationFailed("parent_id", str(BELONGS[level]))
    return parent


def _check_code(level: str, code: str | None, parent: Region | None) -> None:
    if code is None:
        return
    problem = code_problem(level, code, parent.level if parent else None, parent.code if parent else None)
    if problem:
        raise ValidationFailed("code", problem)


def _check_children_codes(region: Region, code: str) -> None:
    """A new code must still be extended by the codes the region's children already have."""
    prefix = prefix_of(region.level, code)
    stray = db.session.execute(select(Region.code).where(
        Region.parent_id == region.id, Region.code.is_not(None), ~Region.code.startswith(prefix))).first()
    if stray:
        raise ValidationFailed("code", gettext("a region below has code %(code)s, which does not begin with "
                                               "%(prefix)s", code=stray.code, prefix=prefix))


def _move(district: Region, city: Region | None) -> None:
    """Re-root a district's subtree: every path under it gets the city's path in front (or loses it)."""
    old, new = district.path, (city.path if city else "/") + f"{district.id}/"
    db.session.execute(
        update(Region).where(Region.path.startswith(old, autoescape=True))
        .values(path=literal(new) + func.substr(Region.path, len(old) + 1))
        .execution_options(synchronize_session=False))
    db.session.expire_all()
    district.parent = city


def delete_region(region: Region, *, by: User) -> None:
    for what, used in (
        ("regions below it", exists().where(Region.parent_id == region.id)),
        ("elders", exists().where(Elder.community_id == region.id)),
        ("users", exists().where(User.region_id == region.id)),
        ("community workers", exists().where(user_communities.c.region_id == region.id)),
    ):
        if db.session.execute(select(used)).scalar():
            raise Conflict(_l("region %(region_id)s still has %(what)s", region_id=region.id, what=what))
    # Providers only note where they are based; they outlive the region.
    for provider in db.session.execute(select(Provider).where(Provider.region_id == region.id)).scalars():
        provider.region_id = None
    try:
        with db.session.begin_nested():
            db.session.delete(region)
            db.session.flush()
    except IntegrityError:  # something was attached to it meanwhile
        raise Conflict(_l("region %(region_id)s is in use", region_id=region.id)) from None


@contextmanager
def _unique_names():
    try:
        with db.session.begin_nested():
            yield
    except IntegrityError:
        raise Conflict(_l("another region has this name under the same parent, or this code")) from None
