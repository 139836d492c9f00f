"""Prices, funding rules with their eligibility check, and the co-pay share table.

Services add and flush; the caller commits. Problems raised: validation_failed (422) for an
unknown service type or provider, or dates out of order; not_eligible (422, naming the unmet
rule in `rule` and under `errors.kind`) when a government or co-paid plan's elder does not
qualify and self-pay was not accepted instead.
"""

from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select

from backend.console.display import label
from backend.errors import Problem, ValidationFailed
from backend.extensions import db
from backend.i18n import N_, is_english
from backend.plans.models import CarePlan, ServiceType
from backend.providers.models import Provider
from backend.settlement.models import CopayShare, FundingRule, Price
from backend.users.models import User

RULE_MESSAGES = {
    "age": N_("the elder is younger than %(age)s"),
    "category": N_("the elder is in no qualifying category (%(categories)s)"),
    "assessment_missing": N_("the elder has no capability assessment"),
    "assessment_stale": N_("the latest capability assessment is older than %(days)s days"),
    "assessment_level": N_("the latest capability assessment's level is not a qualifying one (%(levels)s)"),
}


# ---------------------------------------------------------------- prices

def create_price(fields: dict, *, by: User, at: datetime) -> Price:
    """A new price row. Prices are never edited: a change is a new row from a later date (or a
    row with `ends_on` closing the old one), and issued statements keep the amounts they froze."""
    if db.session.get(ServiceType, fields["service_type"]) is None:
        raise ValidationFailed("service_type", _l("no such service type"))
    if fields.get("provider_id") is not None and db.session.get(Provider, fields["provider_id"]) is None:
        raise ValidationFailed("provider_id", _l("no such provider"))
    if fields.get("ends_on") is not None and fields["ends_on"] < fields["effective_on"]:
        raise ValidationFailed("ends_on", _l("must not be before effective_on"))
    price = Price(**fields, created_by_id=by.id, created_at=at)
    db.session.add(price)
    db.session.flush()
    return price


def prices_query(*, service_type: str | None = None, provider_id: int | None = None, on: date | None = None):
    query = select(Price)
    if service_type is not None:
        query = query.where(Price.service_type == service_type)
    if provider_id is not None:
        query = query.where(or_(Price.provider_id.is_(None), Price.provider_id == provider_id))
    if on is not None:
        query = query.where(Price.effective_on <= on, or_(Price.ends_on.is_(None), Price.ends_on >= on))
    return query.order_by(Price.service_type, Price.effective_on.desc(), Price.id.desc())


class PriceBook:
    """Every price a provider may be paid, loaded once; `at(service_type, day)` picks the one in
    force that day: the provider's own contract first, then the latest effective date."""

    def __init__(self, provider_id: int):
        self.rows = db.session.execute(prices_query(provider_id=provider_id)).scalars().all()

    def at(self, service_type: str, day: date) -> Price | None:
        best = None
        for price in self.rows:
            if price.service_type != service_type or price.effective_on > day:
                continue
            if price.ends_on is not None and price.ends_on < day:
                continue
            key = (price.provider_id is not None, price.effective_on, price.id)
            if best is None or key > best[0]:
                best = (key, price)
        return best[1] if best else None


# ---------------------------------------------------------------- co-pay shares

def copay_table() -> list[dict]:
    """The table admins edit; while it is empty, the defaults of COPAY_DEFAULT_SHARES."""
    rows = db.session.execute(select(CopayShare).order_by(CopayShare.category.nulls_last(),
                                                          CopayShare.assessment_level.nulls_last())).scalars().all()
    if rows:
        return [{"category": r.category, "assessment_level": r.assessment_level,
                 "government_percent": r.government_percent} for r in rows]
    return [dict(row) for row in current_app.config["COPAY_DEFAULT_SHARES"]]


def replace_copay_table(rows: list[dict], *, by: User) -> list[dict]:
    """The whole table at once. Raises validation_failed for two rows of one category and level."""
    seen = set()
    for i, row in enumerate(rows):
        key = (row.get("category"), row.get("assessment_level"))
        if key in seen:
            raise ValidationFailed(f"shares.{i}", _l("another row has this category and level"))
        seen.add(key)
    db.session.execute(delete(CopayShare))
    db.session.add_all([CopayShare(category=r.get("category"), assessment_level=r.get("assessment_level"),
                                   government_percent=r["government_percent"]) for r in rows])
    db.session.flush()
    return copay_table()


def government_percent(categories: list[str], level: int | None, table: list[dict]) -> int:
    """The largest share of every row matching the elder (a NULL category or level matches any)."""
    matching = [row["government_percent"] for row in table
                if (row["category"] is None or row["category"] in categories)
                and (row["assessment_level"] is None or row["assessment_level"] == level)]
    return max(matching, default=0)


# ---------------------------------------------------------------- funding and eligibility

def unmet_rule(elder, *, today: date) -> str | None:
    """The first eligibility rule for government-bought or co-paid services the elder fails, or None."""
    config = current_app.config
    age = today.year - elder.birth_on.year - ((today.month, today.day) < (elder.birth_on.month, elder.birth_on.day))
    if age < config["ELIGIBILITY_MIN_AGE"]:
        return "age"
    if not set(elder.categories) & set(config["ELIGIBILITY_CATEGORIES"]):
        return "category"
    assessment = elder.latest_assessment
    if assessment is None:
        return "assessment_missing"
    if (today - assessment.assessed_on).days > config["ELIGIBILITY_ASSESSMENT_MAX_AGE_DAYS"]:
        return "assessment_stale"
    if assessment.level not in config["ELIGIBILITY_LEVELS"]:
        return "assessment_level"
    return None


def rule_message(rule: str):
    """The unmet rule in the reader's language, naming the qualifying categories and assessment
    levels as people know them (低保, 中度失能), not by their codes."""
    config = current_app.config
    comma = ", " if is_english() else "、"
    return _l(RULE_MESSAGES[rule],
              age=config["ELIGIBILITY_MIN_AGE"],
              categories=comma.join(label("category", code) for code in config["ELIGIBILITY_CATEGORIES"]),
              days=config["ELIGIBILITY_ASSESSMENT_MAX_AGE_DAYS"],
              levels=comma.join(label("capability", level) for level in config["ELIGIBILITY_LEVELS"]))


def funding_of(plan: CarePlan) -> FundingRule | None:
    return db.session.get(FundingRule, plan.id)


def set_funding(plan: CarePlan, fields: dict, *, by: User, today: date, at: datetime) -> FundingRule:
    """Set who pays for the plan. A government or co-paid plan whose elder fails an eligibility
    rule is refused (not_eligible naming the rule), or saved as self-pay with `refused_rule` when
    `or_self_pay` is true."""
    kind, refused = fields["kind"], None
    if kind in ("government", "copay"):
        refused = unmet_rule(plan.elder, today=today)
        if refused is not None and not fields.get("or_self_pay"):
            reason = rule_message(refused)
            raise Problem("not_eligible", reason, errors={"kind": [reason]}, rule=refused)
        if refused is not None:
            kind = "self_pay"
    rule = funding_of(plan) or FundingRule(care_plan_id=plan.id)
    rule.kind, rule.refused_rule = kind, refused
    rule.monthly_cap_fen = fields.get("monthly_cap_fen")
    rule.monthly_cap_minutes = fields.get("monthly_cap_minutes")
    rule.updated_by_id, rule.updated_at = by.id, at
    db.session.add(rule)
    db.session.flush()
    return rule
