"""The settlement world: the city's provider with priced services, care plans with their funding,
completed visits made by direct inserts in the clock's month, and month helpers."""

import uuid
from datetime import date, timedelta

import pytest

from backend.clock import care_tz, local_midnight
from backend.elders.models import Assessment
from backend.extensions import db
from backend.plans.models import CarePlan
from backend.settlement.models import FundingRule, Price
from backend.tasks.models import Task
from backend.visits.models import Visit


def month_of(day: date) -> str:
    return f"{day:%Y-%m}"


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


@pytest.fixture
def months(clock):
    """(first day of the clock's month, first day of the next) in the care time zone."""
    today = clock().astimezone(care_tz()).date()
    first = today.replace(day=1)
    return first, next_month(first)


@pytest.fixture
def into_next_month(clock, months):
    """Move the clock two days into the next month, when the clock's month can be issued."""
    def move():
        clock.set(local_midnight(months[1]) + timedelta(days=2, hours=3))
    return move


@pytest.fixture
def api(client, login):
    headers = {}

    def call(user, method, path, **kwargs):
        if user.id not in headers:
            headers[user.id] = login(user)
        return getattr(client, method)("/api/v1" + path, headers={**headers[user.id], **kwargs.pop("headers", {})},
                                       **kwargs)
    return call


@pytest.fixture
def make_price(city, months):
    def make(service_type="meal", unit="visit", price_fen=1500, rounding_minutes=15, effective_on=None,
             provider=None, ends_on=None):
        price = Price(service_type=service_type, unit=unit, price_fen=price_fen, rounding_minutes=rounding_minutes,
                      effective_on=effective_on or months[0] - timedelta(days=60), ends_on=ends_on,
                      provider_id=provider.id if provider else None)
        db.session.add(price)
        db.session.commit()
        return price
    return make


@pytest.fixture
def eligible(city, clock):
    """Make an elder eligible: 低保 and a recent moderate-loss assessment (level 2)."""
    def make(elder, categories=("low_income",), level=2, assessed_days_ago=30):
        elder.categories = list(categories)
        elder.assessments.append(Assessment(assessed_on=clock().date() - timedelta(days=assessed_days_ago),
                                            self_care=20, motion=10, mental=20, perception=10, total=60,
                                            level=level))
        db.session.commit()
        return elder
    return make


@pytest.fixture
def make_plan(city, months):
    def make(elder=None, provider=None, funding="government", cap_fen=None, cap_minutes=None):
        elder, provider = elder or city.elder_a1, provider or city.provider
        plan = CarePlan(elder_id=elder.id, provider_id=provider.id, starts_on=months[0] - timedelta(days=90),
                        revised_at=local_midnight(months[0]) - timedelta(days=90))
        db.session.add(plan)
        db.session.flush()
        if funding is not None:
            db.session.add(FundingRule(care_plan_id=plan.id, kind=funding, monthly_cap_fen=cap_fen,
                                       monthly_cap_minutes=cap_minutes))
        db.session.commit()
        return plan
    return make


@pytest.fixture
def make_visit(city, months):
    """make_visit(plan, day=3, minutes=30, window=60, …) → a completed visit on the `day`-th of the
    clock's month (or of `month`), starting at 09:00 local in a window of `window` minutes."""
    def make(plan, *, day=3, minutes=30, window=60, service_type="meal", min_minutes=0, flags=(), month=None,
             user=None):
        first = month or months[0]
        start = local_midnight(first + timedelta(days=day - 1)) + timedelta(hours=9)
        user = user or city.caregiver
        task = Task(kind="service", service_type=service_type, elder_id=plan.elder_id, assignee_id=user.id,
                    care_plan_id=plan.id, source_key=f"test:{uuid.uuid4()}", window_start_at=start,
                    window_end_at=start + timedelta(minutes=window), min_duration_minutes=min_minutes,
                    status="completed", status_changed_at=start + timedelta(minutes=minutes),
                    missed_after_at=start + timedelta(hours=4))
        db.session.add(task)
        db.session.flush()
        visit = Visit(task_id=task.id, user_id=user.id, started_at=start, ended_at=start + timedelta(minutes=minutes),
                      duration_seconds=minutes * 60, is_verified=not flags, flags=sorted(flags),
                      needs_review=bool(flags), satisfaction=5)
        db.session.add(visit)
        db.session.commit()
        return visit
    return make


@pytest.fixture
def provider_manager(city, make_user):
    """manager1 of city.provider: the provider_manager role, scoped to that provider."""
    user = make_user("manager1", "caregiver", provider_id=city.provider.id)
    user.role = "provider_manager"
    db.session.commit()
    return user


@pytest.fixture
def other_manager(city, make_user):
    user = make_user("manager2", "caregiver", provider_id=city.other_provider.id)
    user.role = "provider_manager"
    db.session.commit()
    return user
