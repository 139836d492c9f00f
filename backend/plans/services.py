"""Care plans and patrol plans, and keeping their tasks in step with them.

A change to *when* visits happen (dates, items, the patrol tier) starts a new plan revision: the
plan's future unstarted tasks are cancelled and the new schedule's tasks generated at once. A
change of *who* visits only reassigns tasks. Tasks already started or finished are never touched.

Problems raised: not_found (404) for a plan outside the caller's scope; validation_failed (422),
naming the field, for an unknown or inactive elder, provider or service type, an assignee who is
not an active caregiver of the plan's provider, a worker who does not cover the elder's community,
a minimum duration longer than its window, dates out of order or in the past; conflict (409) for
editing an ended plan or a service-type code already taken; version_conflict (409) when an edit
names a stale version.
"""

from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified

from backend.clock import local_midnight, local_today
from backend.elders.models import Elder
from backend.errors import Conflict, ValidationFailed
from backend.extensions import db
from backend.plans.models import CarePlan, CarePlanItem, PatrolPlan, ServiceType
from backend.providers.models import Provider
from backend.scope import region_ids_clause, scoped_or_404
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task
from backend.tasks.recurrence import parse_hhmm
from backend.tasks.services import cancel_future, future_unstarted, reassign
from backend.users.models import User
from backend.versions import check_version

SCHEDULE_FIELDS = ("service_type", "recurrence", "min_duration_minutes")
TYPE_FIELDS = ("name_zh", "name_en", "default_min_minutes", "late_start_minutes", "missed_grace_minutes",
               "is_active")


# ------------------------------------------------------------------ service types

def create_service_type(fields: dict, *, by: User) -> ServiceType:
    """Add one of the local "N" services; the built-in ten exist already."""
    service_type = _filled(ServiceType(code=fields["code"], is_builtin=False, is_active=True),
                           {name: fields[name] for name in TYPE_FIELDS if name in fields})
    try:
        with db.session.begin_nested():
            db.session.add(service_type)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_l("service type %(code)s exists", code=fields["code"])) from None
    return service_type


def update_service_type(service_type: ServiceType, changes: dict, *, by: User) -> ServiceType:
    """Rename, retime or retire a type; plans already using it keep it."""
    _filled(service_type, {name: changes[name] for name in TYPE_FIELDS if name in changes})
    db.session.flush()
    return service_type


# ------------------------------------------------------------------ scope

def plans_clause(viewer: User, elder_id_column):
    """Plans a viewer may read: admins all, supervisors those of the elders in their subtree."""
    if viewer.role == "admin":
        return true()
    if viewer.role == "supervisor":
        return elder_id_column.in_(select(Elder.id).where(region_ids_clause(viewer, Elder.community_id)))
    return false()


def visible_plan(model, plan_id: int, *, viewer: User, for_update: bool = False):
    """A CarePlan or PatrolPlan in the viewer's scope (locked for an edit when asked), or not_found."""
    return scoped_or_404(model, plan_id, plans_clause(viewer, model.elder_id),
                         what="care plan" if model is CarePlan else "patrol plan", for_update=for_update)


# ------------------------------------------------------------------ care plans

def create_care_plan(*, elder_id: int, provider_id: int, starts_on: date, ends_on: date | None, items: list[dict],
                     by: User, now: datetime) -> CarePlan:
    elder = _active_elder(elder_id)
    provider = db.session.get(Provider, provider_id)
    if provider is None or not provider.is_active:
        raise ValidationFailed("provider_id", _l("no such active provider"))
    _check_dates(starts_on, ends_on, now=now)
    plan = CarePlan(elder_id=elder.id, provider_id=provider.id, starts_on=starts_on, ends_on=ends_on,
                    status="active", revision=1, revised_at=now)
    plan.items = [CarePlanItem(**_checked_item(i, item, provider.id)) for i, item in enumerate(items)]
    db.session.add(plan)
    db.session.flush()
    generate_tasks(now=now, care_plan_ids=[plan.id])
    return plan


def update_care_plan(plan: CarePlan, changes: dict, *, by: User, now: datetime) -> CarePlan:
    """Change dates and items. `items` is the whole new list; an item naming its `id` is kept."""
    _check_editable(plan, changes)
    starts_on, ends_on = changes.get("starts_on", plan.starts_on), changes.get("ends_on", plan.ends_on)
    _check_dates(starts_on, ends_on, now=now, past_end_allowed=ends_on == plan.ends_on)
    rescheduled = (starts_on, ends_on) != (plan.starts_on, plan.ends_on)
    if "items" in changes:
        wanted = list(_matched_items(plan, changes["items"]))
    else:
        wanted = [(item, _values(item)) for item in plan.items]
    rescheduled |= {item.id for item, _ in wanted if item} != {item.id for item in plan.items} or any(
        item is None or _schedule(_values(item)) != _schedule(values) for item, values in wanted)

    if rescheduled:
        cancel_future(future_unstarted(now=now, care_plan_id=plan.id), at=now, reason="plan_changed", by=by)
        plan.starts_on, plan.ends_on = starts_on, ends_on
        plan.items = [_filled(item or CarePlanItem(), values) for item, values in wanted]
        plan.revision += 1
        plan.revised_at = plan.updated_at = now
        db.session.flush()
        generate_tasks(now=now, care_plan_ids=[plan.id])
    else:
        for item, values in wanted:
            if item.assignee_id != values["assignee_id"]:
                item.assignee_id = values["assignee_id"]
                assignee = db.session.get(User, item.assignee_id) if item.assignee_id else None
                for task in future_unstarted(now=now, care_plan_item_id=item.id):
                    reassign(task, assignee, at=now, by=by)
        plan.updated_at = now
        db.session.flush()
    return plan


def end_care_plan(plan: CarePlan, *, ends_on: date, by: User, now: datetime) -> CarePlan:
    """Make `ends_on` the last day of service and cancel the scheduled tasks after it. The plan
    is `ended` once that day is past; until then it stays active with the end date set."""
    _end(plan, ends_on, now=now)
    cancel_future(_scheduled_after(Task.care_plan_id == plan.id, ends_on), at=now, reason="plan_ended", by=by)
    db.session.flush()
    return plan


# ------------------------------------------------------------------ patrol plans

def create_patrol_plan(*, elder_id: int, worker_id: int, tier: str | None, modes: list[str], starts_on: date,
                       ends_on: date | None, by: User, now: datetime) -> PatrolPlan:
    elder = _active_elder(elder_id)
    worker = _covering_worker(worker_id, elder)
    _check_dates(starts_on, ends_on, now=now)
    plan = PatrolPlan(elder=elder, worker_id=worker.id, tier=tier, modes=modes, starts_on=starts_on,
                      ends_on=ends_on, status="active", revision=1, revised_at=now)
    db.session.add(plan)
    db.session.flush()
    generate_tasks(now=now, patrol_plan_ids=[plan.id])
    return plan


def update_patrol_plan(plan: PatrolPlan, changes: dict, *, by: User, now: datetime) -> PatrolPlan:
    """A new worker takes over the open tasks too; a new tier or new dates start a revision."""
    _check_editable(plan, changes)
    new_worker = None
    if changes.get("worker_id", plan.worker_id) != plan.worker_id:
        new_worker = _covering_worker(changes["worker_id"], plan.elder)
        plan.worker_id = new_worker.id
    starts_on, ends_on = changes.get("starts_on", plan.starts_on), changes.get("ends_on", plan.ends_on)
    _check_dates(starts_on, ends_on, now=now, past_end_allowed=ends_on == plan.ends_on)
    period = _period(plan.effective_tier)
    if "tier" in changes:
        plan.tier = changes["tier"]
    if "modes" in changes and changes["modes"] != plan.modes:
        plan.modes = changes["modes"]
        # Phones show each patrol task with its plan's preferred mode: a new version resends it.
        for task in future_unstarted(now=now, patrol_plan_id=plan.id, include_open_window=True):
            task.updated_at = now
            flag_modified(task, "updated_at")  # a new version even when `now` is its updated_at already
    if _period(plan.effective_tier) != period or (starts_on, ends_on) != (plan.starts_on, plan.ends_on):
        plan.starts_on, plan.ends_on = starts_on, ends_on
        _revise_patrol(plan, by=by, now=now)
    if new_worker is not None:
        for task in future_unstarted(now=now, patrol_plan_id=plan.id, include_open_window=True):
            reassign(task, new_worker, at=now, by=by)
    plan.updated_at = now
    db.session.flush()
    return plan


def end_patrol_plan(plan: PatrolPlan, *, ends_on: date, by: User, now: datetime) -> PatrolPlan:
    """As end_care_plan, for a patrol plan."""
    _end(plan, ends_on, now=now)
    cancel_future(_scheduled_after(Task.patrol_plan_id == plan.id, ends_on), at=now, reason="plan_ended", by=by)
    db.session.flush()
    return plan


def close_ended_plans(*, now: datetime) -> int:
    """Mark `ended` the active plans whose last day of service is past. Their tasks after that
    day were cancelled when the end date was set; this only keeps each plan's status true."""
    today = local_today(now)
    closed = 0
    for model in (CarePlan, PatrolPlan):
        plans = db.session.execute(select(model).where(
            model.status == "active", model.ends_on.is_not(None), model.ends_on < today)).scalars().all()
        for plan in plans:
            plan.status = "ended"
            plan.updated_at = now
        closed += len(plans)
    db.session.flush()
    return closed


def follow_risk_tier(elder: Elder, *, old_tier: str, by: User, now: datetime) -> None:
    """Reschedule the patrol plans that follow an elder's risk tier after it changed."""
    if _period(old_tier) == _period(elder.risk_tier):
        return
    plans = db.session.execute(select(PatrolPlan).where(
        PatrolPlan.elder_id == elder.id, PatrolPlan.status == "active", PatrolPlan.tier.is_(None))).scalars()
    for plan in plans.all():
        _revise_patrol(plan, by=by, now=now)


def check_patrol_workers_follow(elder: Elder) -> None:
    """An elder moving to another community keeps patrol plans only with a worker covering it."""
    plans = db.session.execute(select(PatrolPlan).where(
        PatrolPlan.elder_id == elder.id, PatrolPlan.status == "active")).scalars()
    for plan in plans.all():
        if elder.community_id not in {c.id for c in plan.worker.communities}:
            raise ValidationFailed("community_id", _l("patrol plan %(plan_id)s's worker does not cover that community; "
                                                      "give the plan another worker first", plan_id=plan.id))


# ------------------------------------------------------------------ rules and helpers

def _active_elder(elder_id: int) -> Elder:
    elder = db.session.get(Elder, elder_id)
    if elder is None or not elder.is_active:
        raise ValidationFailed("elder_id", _l("no such active elder"))
    return elder


def _covering_worker(worker_id: int, elder: Elder) -> User:
    worker = db.session.get(User, worker_id)
    if (worker is None or worker.role != "community_worker" or not worker.is_active
            or elder.community_id not in {c.id for c in worker.communities}):
        raise ValidationFailed("worker_id", _l("must be an active community worker covering the elder's community"))
    return worker


def _checked_item(i: int, item: dict, provider_id: int) -> dict:
    service_type = db.session.get(ServiceType, item["service_type"])
    if service_type is None or not service_type.is_active:
        raise ValidationFailed(f"items.{i}.service_type", _l("no such active service type"))
    minutes = item.get("min_duration_minutes") or service_type.default_min_minutes
    if minutes > _window_minutes(item["recurrence"]):
        raise ValidationFailed(f"items.{i}.min_duration_minutes", _l("is longer than the item's time window"))
    assignee_id = item.get("assignee_id")
    if assignee_id is not None:
        assignee = db.session.get(User, assignee_id)
        if (assignee is None or assignee.role != "caregiver" or assignee.provider_id != provider_id
                or not assignee.is_active):
            raise ValidationFailed(f"items.{i}.assignee_id", _l("must be an active caregiver of the plan's provider"))
    return {"service_type": service_type.code, "recurrence": item["recurrence"],
            "min_duration_minutes": minutes, "assignee_id": assignee_id}


def _matched_items(plan: CarePlan, items: list[dict]):
    """Pair each wanted item with the existing item its `id` names (None for a new one)."""
    current = {item.id: item for item in plan.items}
    seen = set()
    for i, raw in enumerate(items):
        item = None
        if "id" in raw:
            if raw["id"] not in current or raw["id"] in seen:
                raise ValidationFailed(f"items.{i}.id", _l("not an item of this plan, or named twice"))
            seen.add(raw["id"])
            item = current[raw["id"]]
        yield item, _checked_item(i, raw, plan.provider_id)


def _values(item: CarePlanItem) -> dict:
    return {"service_type": item.service_type, "recurrence": item.recurrence,
            "min_duration_minutes": item.min_duration_minutes, "assignee_id": item.assignee_id}


def _schedule(values: dict) -> tuple:
    return tuple(values[name] for name in SCHEDULE_FIELDS)


def _filled(row, values: dict):
    for name, value in values.items():
        setattr(row, name, value)
    return row


def _window_minutes(recurrence: dict) -> int:
    start, end = parse_hhmm(recurrence["start"]), parse_hhmm(recurrence["end"])
    return ((end.hour - start.hour) * 60 + end.minute - start.minute) % (24 * 60) or 24 * 60


def _check_editable(plan, changes: dict) -> None:
    if plan.status != "active":
        raise Conflict(_l("plan %(plan_id)s has ended", plan_id=plan.id))
    check_version(plan, changes.get("version"), what="plan")


def _check_dates(starts_on: date, ends_on: date | None, *, now: datetime, past_end_allowed: bool = False) -> None:
    if ends_on is None:
        return
    if ends_on < starts_on:
        raise ValidationFailed("ends_on", _l("is before starts_on"))
    if ends_on < local_today(now) and not past_end_allowed:
        raise ValidationFailed("ends_on", _l("is in the past; end the plan instead"))


def _end(plan, ends_on: date, *, now: datetime) -> None:
    if plan.status != "active":
        raise Conflict(_l("plan %(plan_id)s has already ended", plan_id=plan.id))
    if plan.ends_on is not None and ends_on > plan.ends_on:
        raise ValidationFailed("ends_on", _l("is after the plan's end; change its dates to extend it"))
    plan.ends_on = ends_on
    # Ending a plan before its first day cancels it outright.
    if ends_on < local_today(now) or ends_on < plan.starts_on:
        plan.status = "ended"
    plan.updated_at = now


def _scheduled_after(of_plan, ends_on: date) -> list[Task]:
    after = local_midnight(ends_on + timedelta(days=1))
    query = select(Task).where(of_plan, Task.status == "scheduled", Task.window_start_at >= after)
    return db.session.execute(query.order_by(Task.id)).scalars().all()


def _period(tier: str) -> str:
    return current_app.config["PATROL_FREQUENCY"][tier]


def _revise_patrol(plan: PatrolPlan, *, by: User, now: datetime) -> None:
    cancel_future(future_unstarted(now=now, patrol_plan_id=plan.id), at=now, reason="plan_changed", by=by)
    plan.revision += 1
    plan.revised_at = plan.updated_at = now
    db.session.flush()
    generate_tasks(now=now, patrol_plan_ids=[plan.id])

