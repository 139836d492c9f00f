"""Workforce figures of a provider: service hours per caregiver in a month, counted from verified
visits only, and the certification rate (持证上岗率) of its active caregivers.

保山's standard asks that at least 90 % of professional caregivers hold a certificate; the
certificate number is what the register stores, so a caregiver with one counts as certified.
"""

from datetime import date

from sqlalchemy import and_, func, select

from backend.clock import local_midnight
from backend.extensions import db
from backend.plans.models import CarePlan
from backend.providers.models import Provider
from backend.reviews.verification import CURRENT, VERIFIED_AUTOMATICALLY, VERIFIED_ON_REVIEW, joins_current, state
from backend.tasks.models import Task
from backend.users.models import User
from backend.visits.models import Visit

CERTIFICATION_TARGET = 0.9


def month_bounds(month: str):
    """The UTC instants at which the month "YYYY-MM" begins and ends in the care time zone."""
    year, number = int(month[:4]), int(month[5:7])
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    return local_midnight(first), local_midnight(following)


def _verified_visits(*columns):
    """SELECT `columns` over the verified visits (automatically or on review) of completed service
    tasks, a visit counting by its corrected check-in and check-out times; the caller narrows it."""
    verified = state(CURRENT.decision).in_((VERIFIED_AUTOMATICALLY, VERIFIED_ON_REVIEW))
    return (select(*columns)
            .join(Task, and_(Visit.task_id == Task.id, Visit.window_start_at == Task.window_start_at))
            .outerjoin(CURRENT, joins_current(Task.id))
            .where(Task.status == "completed", and_(Visit.started_at.is_not(None), Visit.ended_at > Visit.started_at),
                   verified))


def _in_month(month: str):
    """The month's tasks, and their visits by their copy of the task's window (the partition key
    of both: one month's partitions are read)."""
    begins, ends = month_bounds(month)
    return and_(Task.window_start_at >= begins, Task.window_start_at < ends,
                Visit.window_start_at >= begins, Visit.window_start_at < ends)


SECONDS = func.extract("epoch", Visit.ended_at - Visit.started_at)


def verified_minutes_by_caregiver(provider_id: int, month: str) -> dict[int, tuple[int, int]]:
    """{caregiver id: (verified visits, verified minutes)} of the provider's service tasks whose
    window began in the month."""
    query = (_verified_visits(Visit.user_id, func.count(Visit.id), func.coalesce(func.sum(SECONDS), 0))
             .where(Task.care_plan_id.in_(select(CarePlan.id).where(CarePlan.provider_id == provider_id)),
                    _in_month(month))
             .group_by(Visit.user_id))
    return {user_id: (visits, int(total) // 60) for user_id, visits, total in db.session.execute(query)}


def figures(provider: Provider, month: str) -> dict:
    """The provider's workforce figures for the month, every active caregiver listed (those with
    no verified visit at zero) and any other who made a verified visit in it."""
    done = verified_minutes_by_caregiver(provider.id, month)
    people = db.session.execute(
        select(User).where(User.role == "caregiver", (User.provider_id == provider.id) & User.is_active.is_(True)
                           | User.id.in_(list(done) or [0])).order_by(User.username)).scalars().all()
    active = [u for u in people if u.is_active and u.provider_id == provider.id]
    certified = sum(1 for u in active if (u.certificate_no or "").strip())
    rows = [{"user_id": u.id, "username": u.username, "display_name": u.display_name,
             "certificate_no": u.certificate_no, "is_certified": bool((u.certificate_no or "").strip()),
             "verified_visits": done.get(u.id, (0, 0))[0], "service_minutes": done.get(u.id, (0, 0))[1],
             "service_hours": round(done.get(u.id, (0, 0))[1] / 60, 2)} for u in people]
    return {
        "provider_id": provider.id, "month": month,
        "caregivers": rows,
        "active_caregivers": len(active), "certified_caregivers": certified,
        "certification_rate": round(certified / len(active), 4) if active else None,
        "certification_target": CERTIFICATION_TARGET,
        "service_minutes": sum(r["service_minutes"] for r in rows),
        "service_hours": round(sum(r["service_minutes"] for r in rows) / 60, 2),
    }


def summaries(conn, provider_ids, month: str, task_ids: tuple[int, int] | None) -> dict[int, dict]:
    """The monthly report's workforce figures of each provider (by id): its active and certified
    caregivers, certification rate and verified service hours in the month, provider-wide.

    Two grouped statements for all of them, on the report's own connection (its snapshot, on the
    replica when there is one): per provider, its statement costs a scan of its month. Service
    tasks carry their care plan's provider (Task.provider_id, copied when made; plans never change
    provider), so the month is read once, from its window index; `task_ids`, the smallest and
    largest id of the month's tasks (None when it has none), bounds the visits as the report's own
    scan does (figures.visit_groups), so they are merged in id order rather than all hashed."""
    provider_ids = sorted(set(provider_ids) - {None})
    if not provider_ids:
        return {}
    minutes = {}
    if task_ids is not None:
        # Whole minutes per caregiver, as the provider's own page counts them, then added up.
        per_caregiver = (_verified_visits(Task.provider_id.label("provider_id"),
                                          func.floor(func.coalesce(func.sum(SECONDS), 0) / 60).label("minutes"))
                         .where(Task.provider_id.in_(provider_ids), _in_month(month),
                                Task.id.between(*task_ids), Visit.task_id.between(*task_ids))
                         .group_by(Task.provider_id, Visit.user_id).subquery())
        minutes = dict(conn.execute(select(per_caregiver.c.provider_id, func.sum(per_caregiver.c.minutes))
                                    .group_by(per_caregiver.c.provider_id)).all())
    people = {row.provider_id: row for row in conn.execute(
        select(User.provider_id, func.count(User.id).label("active"),
               func.count(User.id).filter(func.trim(User.certificate_no) != "").label("certified"))
        .where(User.role == "caregiver", User.provider_id.in_(provider_ids), User.is_active.is_(True))
        .group_by(User.provider_id))}
    rows = {}
    for provider_id in provider_ids:
        active = people[provider_id].active if provider_id in people else 0
        certified = people[provider_id].certified if provider_id in people else 0
        rows[provider_id] = {"provider_id": provider_id, "active_caregivers": active,
                             "certified_caregivers": certified,
                             "certification_rate": round(certified / active, 4) if active else None,
                             "service_hours": round(int(minutes.get(provider_id) or 0) / 60, 2)}
    return rows
