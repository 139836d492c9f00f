"""Turning plans into visit tasks for a rolling horizon.

Each task's `source_key` names its plan slot and plan revision, and is unique in the database:
re-running generation inserts nothing twice (INSERT … ON CONFLICT DO NOTHING), whichever process
runs it. A plan edit bumps the plan's revision; only slots starting after the revision took
effect are generated for it, so tasks already started or done are never duplicated.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import itemgetter

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from backend.changefeed import next_seq
from backend.clock import care_tz, local_midnight, local_today
from backend.elders.models import Elder
from backend.extensions import db
from backend.plans.models import CarePlan, PatrolPlan, ServiceType
from backend.tasks.models import Task
from backend.tasks.recurrence import care_window, patrol_window, periods_overlapping, recurs_on

CHUNK = 500


@dataclass
class GenerationResult:
    considered: int = 0
    created: int = 0


def generate_tasks(*, now: datetime, horizon_days: int | None = None,
                   care_plan_ids=None, patrol_plan_ids=None) -> GenerationResult:
    """Create the missing tasks of active plans from today to the horizon, for elders still active
    in the register (not deceased, moved out, in hospital or switched off). Caller commits."""
    horizon_days = horizon_days or current_app.config["TASK_HORIZON_DAYS"]
    today = local_today(now)
    until = today + timedelta(days=horizon_days)
    rows = list(_care_rows(today, until, care_plan_ids)) + list(_patrol_rows(today, until, patrol_plan_ids))
    set_deadlines(rows)
    _set_communities(rows)
    result = GenerationResult(considered=len(rows))
    if rows:
        seq = next_seq(db.session)
        for row in rows:
            row["change_seq"] = seq
            row["created_at"] = row["updated_at"] = row["status_changed_at"] = now
        # In source-key order: two generations inserting the same slots at once (two plans revised
        # together, or beside the hourly job) wait for each other's keys in one order, never in a cycle.
        rows.sort(key=itemgetter("source_key"))
        for start in range(0, len(rows), CHUNK):
            result.created += _insert_ignoring_existing(rows[start:start + CHUNK])
    return result


def _care_rows(today: date, until: date, plan_ids):
    tz = care_tz()
    query = select(CarePlan).join(Elder, CarePlan.elder_id == Elder.id).where(
        CarePlan.status == "active", CarePlan.starts_on < until, Elder.is_active.is_(True))
    if plan_ids is not None:
        query = query.where(CarePlan.id.in_(plan_ids))
    for plan in db.session.execute(query).scalars():
        first = max(today, plan.starts_on)
        last = min(until, plan.ends_on + timedelta(days=1)) if plan.ends_on else until
        kept = _kept_from_earlier_revisions(plan, first, tz) if plan.revision > 1 else Counter()
        for item in plan.items:
            for offset in range((last - first).days):
                day = first + timedelta(days=offset)
                if not recurs_on(item.recurrence, day):
                    continue
                window = care_window(item.recurrence, day, tz)
                if window.start < plan.revised_at:
                    continue
                if kept[item.service_type, day] > 0:  # that day's visit was already started or done
                    kept[item.service_type, day] -= 1
                    continue
                yield {
                    "kind": "service", "service_type": item.service_type, "elder_id": plan.elder_id,
                    "assignee_id": item.assignee_id, "care_plan_id": plan.id, "care_plan_item_id": item.id,
                    "patrol_plan_id": None, "provider_id": plan.provider_id,
                    "window_start_at": window.start, "window_end_at": window.end,
                    "min_duration_minutes": item.min_duration_minutes,
                    "source_key": f"care:{item.id}:r{plan.revision}:{window.start:%Y%m%dT%H%MZ}",
                }


def _kept_from_earlier_revisions(plan: CarePlan, first: date, tz) -> Counter:
    """How many visits per (service type, local day) earlier revisions still hold (not cancelled)."""
    rows = db.session.execute(
        select(Task.service_type, Task.window_start_at).where(
            Task.care_plan_id == plan.id, Task.status != "cancelled",
            Task.window_start_at >= local_midnight(first, tz),
            Task.source_key.not_like(f"care:%:r{plan.revision}:%"),
        )
    )
    return Counter((service, start.astimezone(tz).date()) for service, start in rows)


def _patrol_rows(today: date, until: date, plan_ids):
    tz = care_tz()
    periods = current_app.config["PATROL_FREQUENCY"]
    query = select(PatrolPlan).join(Elder, PatrolPlan.elder_id == Elder.id).where(
        PatrolPlan.status == "active", PatrolPlan.starts_on < until, Elder.is_active.is_(True))
    if plan_ids is not None:
        query = query.where(PatrolPlan.id.in_(plan_ids))
    for plan in db.session.execute(query).scalars():
        period = periods[plan.effective_tier]
        for first, after in periods_overlapping(period, max(today, plan.starts_on), until):
            first = max(first, plan.starts_on)
            if plan.ends_on:
                after = min(after, plan.ends_on + timedelta(days=1))
            if after <= first:
                continue
            window = patrol_window(first, after, tz)
            # A new plan covers the period it starts in; a revised one takes over from the next.
            if window.end <= plan.revised_at or (plan.revision > 1 and window.start < plan.revised_at):
                continue
            yield {
                "kind": "patrol", "service_type": None, "elder_id": plan.elder_id,
                "assignee_id": plan.worker_id, "care_plan_id": None, "care_plan_item_id": None,
                "patrol_plan_id": plan.id, "provider_id": None,
                "window_start_at": window.start, "window_end_at": window.end,
                "min_duration_minutes": 0,
                "source_key": f"patrol:{plan.id}:r{plan.revision}:{first:%Y%m%d}",
            }


def set_deadlines(rows: list[dict]) -> None:
    """Late and missed deadlines from each service type's rules (patrols: the configured grace)."""
    types = {t.code: t for t in db.session.execute(select(ServiceType)).scalars()}
    patrol_grace = timedelta(minutes=current_app.config["PATROL_MISSED_GRACE_MINUTES"])
    for row in rows:
        service = types.get(row["service_type"])
        if service is None:
            row["late_after_at"] = None
            row["missed_after_at"] = row["window_end_at"] + patrol_grace
        else:
            row["late_after_at"] = row["window_start_at"] + timedelta(minutes=service.late_start_minutes)
            row["missed_after_at"] = row["window_end_at"] + timedelta(minutes=service.missed_grace_minutes)


def _set_communities(rows: list[dict]) -> None:
    """Each task carries its elder's community (for the visit log's scope), read in chunks."""
    elder_ids = sorted({row["elder_id"] for row in rows})
    community = {}
    for start in range(0, len(elder_ids), CHUNK * 10):
        community.update(db.session.execute(select(Elder.id, Elder.community_id)
                                            .where(Elder.id.in_(elder_ids[start:start + CHUNK * 10]))).all())
    for row in rows:
        row["community_id"] = community[row["elder_id"]]


def _insert_ignoring_existing(rows: list[dict]) -> int:
    statement = insert(Task.__table__).values(rows).on_conflict_do_nothing(
        index_elements=["source_key", "window_start_at"])
    return len(db.session.execute(statement.returning(Task.id)).all())


def ensure_service_types() -> None:
    """The built-in 10+N types exist on every database (admins add the N)."""
    from backend.plans.models import BUILTIN_SERVICE_TYPES

    have = set(db.session.execute(select(ServiceType.code)).scalars())
    for code, zh, en, minutes in BUILTIN_SERVICE_TYPES:
        if code not in have:
            db.session.add(ServiceType(code=code, name_zh=zh, name_en=en, is_builtin=True,
                                       default_min_minutes=minutes))
