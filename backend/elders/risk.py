"""The risk tier an elder's register suggests, and a supervisor's override of it.

Regional patrol rules tier elders by risk (high: at least weekly; key groups: at least monthly;
others quarterly: config PATROL_FREQUENCY). The suggestion reads what the register knows: the
elder's categories, age and latest capability assessment (GB/T 42195-2022 level). It is advice:
the tier in force is the elder's `risk_tier`, which a supervisor may set otherwise, giving a reason.

Problems raised by set_risk_tier: version_conflict (409) when the edit names a stale version;
validation_failed (422) for a blank reason.
"""

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from backend.clock import local_today
from backend.elders.models import Elder
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.plans.services import follow_risk_tier
from backend.users.models import User
from backend.versions import check_version

# Living without family at hand: with moderate loss of capability, one fall goes unnoticed.
ALONE = ("solitary", "special_family")
# The groups national guidance names for regular visiting care, at least monthly.
KEY_CATEGORIES = ("solitary", "empty_nest", "left_behind", "special_family", "disabled")
ADVANCED_AGE = 80
# Why a tier is suggested (display.LABELS["risk_reason"] names them), in the order they are checked.
REASONS = ("severe_capability_loss", "alone_with_moderate_loss", "key_category", "advanced_age",
           "capability_loss")


@dataclass(frozen=True)
class Suggestion:
    tier: str
    reasons: tuple[str, ...]


def age_on(birth_on: date, day: date) -> int:
    return day.year - birth_on.year - ((day.month, day.day) < (birth_on.month, birth_on.day))


def suggest(elder: Elder, *, now: datetime) -> Suggestion:
    """The tier the register suggests for `elder`, with the reasons of that tier (none for general)."""
    categories = set(elder.categories)
    assessment = elder.latest_assessment
    level = assessment.level if assessment is not None else None
    high, key = [], []
    if level is not None and level >= 3:
        high.append("severe_capability_loss")
    if level is not None and level >= 2 and categories & set(ALONE):
        high.append("alone_with_moderate_loss")
    if categories & set(KEY_CATEGORIES):
        key.append("key_category")
    if age_on(elder.birth_on, local_today(now)) >= ADVANCED_AGE or "advanced_age" in categories:
        key.append("advanced_age")
    if level is not None and level >= 1:
        key.append("capability_loss")
    if high:
        return Suggestion("high", tuple(high))
    if key:
        return Suggestion("key", tuple(key))
    return Suggestion("general", ())


def standing(elder: Elder, *, now: datetime) -> dict:
    """The tier in force, the suggestion beside it, and the override's reason, author and time."""
    suggestion = suggest(elder, now=now)
    return {"elder_id": elder.id, "risk_tier": elder.risk_tier, "suggested_tier": suggestion.tier,
            "suggestion_reasons": list(suggestion.reasons),
            "differs_from_suggestion": elder.risk_tier != suggestion.tier, "reason": elder.risk_tier_reason,
            "set_by_id": elder.risk_tier_set_by_id, "set_at": elder.risk_tier_set_at, "version": elder.version}


def set_risk_tier(elder: Elder, tier: str, reason: str, *, version: int | None, by: User, now: datetime) -> Elder:
    """A supervisor sets the elder's tier, suggested or not, with the reason; the patrol plans that
    follow the tier are rescheduled when its frequency changed."""
    check_version(elder, version, what="elder")
    if not reason.strip():
        raise ValidationFailed("reason", _l("say why the tier is set"))
    old_tier = elder.risk_tier
    elder.risk_tier = tier
    elder.risk_tier_reason = reason.strip()
    elder.risk_tier_set_by_id = by.id
    elder.risk_tier_set_at = now
    elder.updated_at = now
    db.session.flush()
    if tier != old_tier:
        follow_risk_tier(elder, old_tier=old_tier, by=by, now=now)
    return elder
