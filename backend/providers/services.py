"""Registering service providers and changing them; disabling is `is_active = False`.

Problems raised: validation_failed (422) for an unknown region or a manager who is not an active
provider manager of this provider; conflict (409) for a name or unified social credit code another provider already has.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from backend.errors import Conflict, ValidationFailed
from backend.extensions import db
from backend.providers.models import Provider
from backend.regions.models import Region
from backend.users.models import User

FIELDS = ("name", "credit_code", "contact_name", "contact_phone", "address", "region_id", "manager_id",
          "is_active")


def create_provider(fields: dict, *, by: User) -> Provider:
    provider = Provider(is_active=True)
    return _save(provider, fields)


def update_provider(provider: Provider, changes: dict, *, by: User) -> Provider:
    return _save(provider, changes)


def _save(provider: Provider, changes: dict) -> Provider:
    if changes.get("region_id") is not None and db.session.get(Region, changes["region_id"]) is None:
        raise ValidationFailed("region_id", _l("no such region"))
    if changes.get("manager_id") is not None:
        # The provider's own manager, no longer a government supervisor with region-wide powers.
        manager = db.session.get(User, changes["manager_id"])
        if manager is None or manager.role != "provider_manager" or not manager.is_active \
                or provider.id is None or manager.provider_id != provider.id:
            raise ValidationFailed("manager_id", _l("must be an active provider manager of this provider"))
    for name in FIELDS:
        if name in changes:
            setattr(provider, name, changes[name])
    try:
        with db.session.begin_nested():
            db.session.add(provider)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_l("another provider has this name or credit code")) from None
    return provider
