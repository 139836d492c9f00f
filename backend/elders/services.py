"""Registering elders, editing them under optimistic concurrency, and recording assessments.

Problems raised: not_found (404) for an elder outside the caller's scope; validation_failed (422)
for a region that is not a community, a birth date in the future, an identity document number
malformed for its type or whose birth date or gender (its 17th digit) disagree with birth_on and
gender, an age under ELDER_MIN_AGE in a category that requires it, a move away from the patrol
worker's communities, an assessment dated in the future; conflict (409) for an ID-card number
another elder has; version_conflict (409) when an edit names a stale version.
"""

from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from backend.clock import local_today
from backend.elders import risk
from backend.elders.assessment import capability_level
from backend.elders.models import Assessment, Elder, ElderCategory
from backend.errors import Conflict, ValidationFailed
from backend.extensions import db
from backend.plans.services import check_patrol_workers_follow, follow_risk_tier
from backend.plates.services import issue_plate
from backend.regions.models import Region
from backend.scope import elders_clause, scoped_or_404
from backend.tasks.models import Task
from backend.users.models import User
from backend.versions import check_version
from schemas.identity import age_on, document_birth_date, document_gender, document_problem

FIELDS = ("name", "gender", "birth_on", "id_document_type", "id_card_no", "phone", "address", "lat", "lon",
          "community_id", "categories", "risk_tier", "care_notes", "emergency_contacts", "is_active")


def visible_elder(elder_id: int, *, viewer: User, for_update: bool = False) -> Elder:
    """The elder, if the viewer's scope holds them (locked for an edit when asked); otherwise
    not_found, so ids of other scopes leak nothing."""
    return scoped_or_404(Elder, elder_id, elders_clause(viewer), what="elder", for_update=for_update)


def listed(user: User, args: dict):
    """The elders a user may see, filtered as the list arguments say (community, category, risk
    tier, active, register status, a name containing `q`), by name: the API's list and the
    console's page alike."""
    query = select(Elder).where(elders_clause(user)).options(selectinload(Elder.community))
    for name in ("community_id", "risk_tier", "is_active", "status"):
        if name in args:
            query = query.where(getattr(Elder, name) == args[name])
    if "category" in args:
        query = query.where(exists().where(ElderCategory.elder_id == Elder.id,
                                           ElderCategory.category == args["category"]))
    if "q" in args:
        query = query.where(Elder.name.contains(args["q"], autoescape=True))
    return query.order_by(Elder.name, Elder.id)


def create_elder(fields: dict, *, by: User, now: datetime) -> Elder:
    """Register an elder and issue their door plate in the same transaction, so their first visit
    can be proven at the door. The elder starts at the risk tier the register suggests
    (backend/elders/risk.py), so their patrols start at the frequency their risk asks for; a tier
    sent otherwise is recorded as set by the caller, as an edit's would be."""
    elder = Elder(address="", care_notes="", emergency_contacts=[], is_active=True)
    _apply(elder, fields, now=now)
    suggested = risk.suggest(elder, now=now).tier
    if "risk_tier" not in fields:
        elder.risk_tier = suggested
    elif elder.risk_tier != suggested:
        elder.risk_tier_set_by_id, elder.risk_tier_set_at = by.id, now
    _save(elder)
    issue_plate(elder, "static", by=by, at=now)
    return elder


def update_elder(elder: Elder, changes: dict, *, by: User, now: datetime) -> Elder:
    """Apply an edit made against `changes["version"]`. A new risk tier reschedules the patrol
    plans that follow it; a move to another community needs patrol workers who cover it."""
    check_version(elder, changes.get("version"), what="elder")
    if changes.get("is_active") and elder.status != "active":  # only the register brings them back
        raise ValidationFailed("is_active", _l("only the register brings an elder who is not active back"))
    old_tier, old_community = elder.risk_tier, elder.community_id
    _apply(elder, changes, now=now)
    if elder.community_id != old_community:
        check_patrol_workers_follow(elder)
        _move_unstarted_tasks(elder)
    if elder.risk_tier != old_tier:
        # A tier edited here carries no reason (PUT /elders/{id}/risk-tier does): the last
        # override's reason no longer explains the tier in force.
        elder.risk_tier_reason, elder.risk_tier_set_by_id, elder.risk_tier_set_at = None, by.id, now
    # Touching the row bumps the version even when only categories (another table) changed.
    elder.updated_at = now
    _save(elder)
    if elder.risk_tier != old_tier:
        follow_risk_tier(elder, old_tier=old_tier, by=by, now=now)
    return elder


def _move_unstarted_tasks(elder: Elder) -> None:
    """Visits not yet started follow the elder to their new community, so the new community's
    supervisors and figures own them; visits already made stay where they were made."""
    tasks = db.session.execute(select(Task).where(
        Task.elder_id == elder.id, Task.status == "scheduled", Task.community_id != elder.community_id)).scalars()
    for task in tasks:
        task.community_id = elder.community_id


def add_assessment(elder: Elder, fields: dict, *, by: User, now: datetime) -> Assessment:
    """Record a capability assessment; the server computes its total and level."""
    if fields["assessed_on"] > local_today(now):
        raise ValidationFailed("assessed_on", _l("is in the future"))
    scores = {name: fields[name] for name in ("self_care", "motion", "mental", "perception", "is_coma",
                                              "has_dementia", "care_risk_events_30d")}
    total, level = capability_level(**scores)
    assessment = Assessment(elder_id=elder.id, assessed_on=fields["assessed_on"], total=total, level=level,
                            assessor_id=by.id, created_at=now, **scores)
    db.session.add(assessment)
    # The latest assessment is part of the elder as phones see it: touch the row so it syncs.
    elder.updated_at = now
    db.session.flush()
    db.session.expire(elder, ["assessments"])
    return assessment


def _apply(elder: Elder, fields: dict, *, now: datetime) -> None:
    if "community_id" in fields:
        region = db.session.get(Region, fields["community_id"])
        if region is None or region.level != "community":
            raise ValidationFailed("community_id", _l("must name a community"))
    for name in FIELDS:
        if name in fields:
            setattr(elder, name, fields[name])
    today = local_today(now)
    if elder.birth_on > today:
        raise ValidationFailed("birth_on", _l("is in the future"))
    _check_document(elder, fields)
    _check_age(elder, fields, today)


def _check_document(elder: Elder, fields: dict) -> None:
    """The number suits its document type, and the birth date and gender it states are the elder's."""
    elder.id_document_type = elder.id_document_type or "resident_id"
    if not elder.id_card_no:
        return
    # A number is checked when it or its type is sent (rows registered before a rule came stay
    # editable); a field the edit did not send is not the one to blame.
    if "id_card_no" in fields or "id_document_type" in fields:
        problem = document_problem(elder.id_document_type, elder.id_card_no)
        if problem:
            raise ValidationFailed("id_card_no" if "id_card_no" in fields else "id_document_type", _l(problem))
    if document_birth_date(elder.id_document_type, elder.id_card_no) not in (None, elder.birth_on):
        field = "id_card_no" if "id_card_no" in fields else "birth_on"
        raise ValidationFailed(field, _l("the ID-card number and birth_on name different birth dates"))
    if not {"id_card_no", "id_document_type", "gender"} & set(fields):
        return
    if document_gender(elder.id_document_type, elder.id_card_no) not in (None, elder.gender):
        field = "id_card_no" if "id_card_no" in fields else "gender"
        raise ValidationFailed(field, _l("the gender disagrees with the ID number's 17th digit (odd for men)"))


def _check_age(elder: Elder, fields: dict, today: date) -> None:
    """Categories that need an elder of ELDER_MIN_AGE or more get one; advanced_age follows the
    birth date whatever was sent."""
    config = current_app.config
    age = age_on(elder.birth_on, today)
    needs_age = set(elder.categories) & set(config["ELDER_MIN_AGE_CATEGORIES"])
    if {"birth_on", "categories"} & set(fields) and needs_age and age < config["ELDER_MIN_AGE"]:
        raise ValidationFailed("categories" if "categories" in fields else "birth_on",
                               _l("the categories chosen need an age of at least %(age)s", age=config["ELDER_MIN_AGE"]))
    derived = [c for c in elder.categories if c != "advanced_age"]
    if age >= config["ADVANCED_AGE"]:
        derived.append("advanced_age")
    if sorted(derived) != sorted(elder.categories):
        elder.categories = derived


def refresh_advanced_age(*, now: datetime) -> int:
    """Elders who turned ADVANCED_AGE (or whose birth date was corrected) get or lose advanced_age;
    each touched row syncs to phones. Returns how many changed."""
    today = local_today(now)
    years = current_app.config["ADVANCED_AGE"]
    try:
        cutoff = today.replace(year=today.year - years)
    except ValueError:  # 29 February: those born on 1 March turn that age today
        cutoff = date(today.year - years, 3, 1)
    has = exists().where(ElderCategory.elder_id == Elder.id, ElderCategory.category == "advanced_age")
    wrong = select(Elder).where(or_(and_(Elder.birth_on <= cutoff, ~has), and_(Elder.birth_on > cutoff, has))) \
        .with_for_update(skip_locked=True, of=Elder)
    changed = 0
    for elder in db.session.execute(wrong).scalars():
        derived = [c for c in elder.categories if c != "advanced_age"]
        if elder.birth_on <= cutoff:
            derived.append("advanced_age")
        elder.categories = derived
        elder.updated_at = now
        changed += 1
    db.session.flush()
    return changed


def _save(elder: Elder) -> Elder:
    try:
        with db.session.begin_nested():
            db.session.add(elder)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_l("another elder has this ID-card number")) from None
    except StaleDataError:  # another edit committed between our read and our write
        raise Conflict(_l("elder %(elder_id)s changed meanwhile", elder_id=elder.id), code="version_conflict") from None
    return elder
