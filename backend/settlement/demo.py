"""The demo city's settlement: prices of the bureau (补助标准), each family bed's funding by its
elder's eligibility, and the previous month's statement of the second provider issued (the first
provider's stays a draft, for a supervisor to issue in a walk-through)."""

from datetime import date, timedelta

from sqlalchemy import select

from backend.extensions import db
from backend.plans.models import CarePlan
from backend.settlement import lifecycle
from backend.settlement.models import FundingRule, Price
from backend.settlement.pricing import unmet_rule

# (service type, unit, fen, rounding minutes)
PRICES = [("meal", "visit", 1500, 15), ("cleaning", "hour", 4000, 15), ("bathing", "visit", 6000, 15),
          ("medical", "visit", 3000, 15), ("companionship", "hour", 3000, 30)]
GOVERNMENT_CATEGORIES = {"extreme_poverty", "low_income"}


def seed_settlement(providers, history_from: date, today: date, issuer, now) -> None:
    starts = history_from - timedelta(days=90)
    db.session.add_all([Price(service_type=code, unit=unit, price_fen=fen, rounding_minutes=rounding,
                              effective_on=starts) for code, unit, fen, rounding in PRICES])
    # The bureau's price of meals rose from the first of this month: last month's statement keeps 15 yuan.
    db.session.add(Price(service_type="meal", unit="visit", price_fen=1800, rounding_minutes=15,
                         effective_on=today.replace(day=1)))
    for plan in db.session.execute(select(CarePlan).order_by(CarePlan.id)).scalars():
        refused = unmet_rule(plan.elder, today=today)
        if refused is not None:
            kind = "self_pay"
        elif set(plan.elder.categories) & GOVERNMENT_CATEGORIES:
            kind = "government"
        else:
            kind = "copay"
        db.session.add(FundingRule(care_plan_id=plan.id, kind=kind, refused_rule=refused,
                                   monthly_cap_fen=60000 if kind != "self_pay" else None, updated_at=now))
    db.session.flush()
    lifecycle.issue(providers[1], f"{history_from:%Y-%m}", by=issuer, at=now)
