"""The rows a pull sends, read with Core statements and built straight in their wire shape.

A pull is the hottest read of the API, so its rows skip the ORM and the per-row marshmallow
dump: each builder gives exactly what `schemas/sync.py` (the contract) would dump, datetimes
as ISO 8601 strings, keys in the schema's order. tests/visits/test_pull.py holds them to it.
"""

from datetime import date, datetime

from sqlalchemy import bindparam, or_, select, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by, array_agg

from backend.clock import local_today
from backend.elders.models import Assessment, Elder, ElderCategory
from backend.extensions import db
from backend.followups.models import Followup, Notification
from backend.plans.models import PatrolPlan
from backend.plates.models import DoorPlate
from backend.regions.models import Region
from backend.tasks.models import Task, TaskRemoval

tasks = Task.__table__
elders = Elder.__table__
followups = Followup.__table__
notifications = Notification.__table__
removals = TaskRemoval.__table__
_plans = PatrolPlan.__table__

# What the pull logic needs of a task besides its wire fields: its place in the change order
# and whether the phone still holds it.
TASK_COLUMNS = (tasks.c.id, tasks.c.version, tasks.c.kind, tasks.c.status, tasks.c.elder_id, tasks.c.service_type,
                _plans.c.modes.label("patrol_modes"), tasks.c.window_start_at, tasks.c.window_end_at,
                tasks.c.min_duration_minutes, tasks.c.change_seq, tasks.c.assignee_id)
TASKS_FROM = tasks.outerjoin(_plans, _plans.c.id == tasks.c.patrol_plan_id)
FOLLOWUP_COLUMNS = (followups.c.id, followups.c.version, followups.c.kind, followups.c.priority, followups.c.status,
                    followups.c.elder_id, followups.c.task_id, followups.c.summary, followups.c.opened_at,
                    followups.c.due_at, followups.c.escalation_level, followups.c.details)
NOTIFICATION_COLUMNS = (notifications.c.id, notifications.c.event, notifications.c.followup_id,
                        notifications.c.task_id, notifications.c.title, notifications.c.body,
                        notifications.c.created_at, notifications.c.read_at)


# The statements of a snapshot and of a delta's first page, built once.
SNAPSHOT_TASKS = (select(*TASK_COLUMNS).select_from(TASKS_FROM)
                  .where(tasks.c.assignee_id == bindparam("user_id"), tasks.c.status != "cancelled",
                         tasks.c.window_end_at > bindparam("start_at"), tasks.c.window_start_at < bindparam("end_at"),
                         tasks.c.window_start_at >= bindparam("start_floor"),
                         tasks.c.change_seq <= bindparam("high"))
                  .order_by(tasks.c.change_seq, tasks.c.id).limit(bindparam("limit")))
SNAPSHOT_TASKS_AFTER = SNAPSHOT_TASKS.where(
    tuple_(tasks.c.change_seq, tasks.c.id) > tuple_(bindparam("after_seq"), bindparam("after_id")))
OPEN_FOLLOWUPS = (select(*FOLLOWUP_COLUMNS)
                  .where(followups.c.owner_id == bindparam("user_id"), followups.c.status != "resolved")
                  .order_by(followups.c.id))
CHANGED_FOLLOWUPS = (select(*FOLLOWUP_COLUMNS)
                     .where(followups.c.owner_id == bindparam("user_id"), followups.c.change_seq > bindparam("low"),
                            followups.c.change_seq <= bindparam("high"))
                     .order_by(followups.c.id))
RECENT_NOTIFICATIONS = (select(*NOTIFICATION_COLUMNS)
                        .where(notifications.c.user_id == bindparam("user_id"),
                               notifications.c.created_at > bindparam("horizon"),
                               or_(notifications.c.read_at.is_(None), notifications.c.created_at > bindparam("since")))
                        .order_by(notifications.c.id))
CHANGED_NOTIFICATIONS = (select(*NOTIFICATION_COLUMNS)
                         .where(notifications.c.user_id == bindparam("user_id"),
                                notifications.c.created_at > bindparam("horizon"),
                                notifications.c.change_seq > bindparam("low"),
                                notifications.c.change_seq <= bindparam("high"))
                         .order_by(notifications.c.id))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def task_row(task) -> dict:
    """A task for the phone. `patrol_mode` is the plan's preferred mode (door before phone)."""
    modes = task.patrol_modes
    return {
        "id": task.id, "version": task.version, "kind": task.kind, "status": task.status,
        "elder_id": task.elder_id, "service_type": task.service_type,
        "patrol_mode": modes[0] if task.kind == "patrol" and modes else None,
        "window_start_at": task.window_start_at.isoformat(), "window_end_at": task.window_end_at.isoformat(),
        "min_duration_minutes": task.min_duration_minutes,
    }


def followup_row(followup) -> dict:
    return {
        "id": followup.id, "version": followup.version, "kind": followup.kind, "priority": followup.priority,
        "status": followup.status, "elder_id": followup.elder_id, "task_id": followup.task_id,
        "summary": followup.summary, "opened_at": _iso(followup.opened_at), "due_at": _iso(followup.due_at),
        "escalation_level": followup.escalation_level, "details": dict(followup.details or {}),
    }


def notification_row(notification) -> dict:
    return {
        "id": notification.id, "event": notification.event, "followup_id": notification.followup_id,
        "task_id": notification.task_id, "title": notification.title, "body": notification.body,
        "created_at": _iso(notification.created_at), "read_at": _iso(notification.read_at),
    }


def _elder_statement():
    plates = DoorPlate.__table__
    categories = ElderCategory.__table__
    assessments = Assessment.__table__
    regions = Region.__table__
    latest_level = (select(assessments.c.level).where(assessments.c.elder_id == elders.c.id)
                    .order_by(assessments.c.assessed_on.desc(), assessments.c.id.desc()).limit(1)
                    .scalar_subquery())
    # The elder's category codes and active plate ids as sorted arrays (NULL when there are none).
    category_list = (select(array_agg(aggregate_order_by(categories.c.category, categories.c.category)))
                     .where(categories.c.elder_id == elders.c.id).scalar_subquery())
    plate_list = (select(array_agg(aggregate_order_by(plates.c.plate_id, plates.c.plate_id)))
                  .where(plates.c.elder_id == elders.c.id, plates.c.status == "active").scalar_subquery())
    return (select(elders.c.id, elders.c.version, elders.c.name, elders.c.gender, elders.c.birth_on,
                   elders.c.phone, elders.c.address, elders.c.lat, elders.c.lon, elders.c.community_id,
                   regions.c.name.label("community_name"), elders.c.risk_tier, elders.c.care_notes,
                   elders.c.emergency_contacts, latest_level.label("capability_level"),
                   category_list.label("category_list"), plate_list.label("plate_list"))
            .join_from(elders, regions, regions.c.id == elders.c.community_id)
            .where(elders.c.id.in_(bindparam("elder_ids", expanding=True))))


# Built once: the statements of the hot path take bound parameters rather than being rebuilt.
_ELDERS = _elder_statement()


def elder_rows(elder_ids: list[int]) -> list[dict]:
    """The elders' wire rows, in the order given, from one statement whatever their number."""
    if not elder_ids:
        return []
    found = {row.id: row for row in db.session.execute(_ELDERS, {"elder_ids": elder_ids})}
    today = local_today()
    return [elder_row(found[elder_id], today) for elder_id in elder_ids if elder_id in found]


def elder_row(elder, today: date) -> dict:
    """Only what a visit needs: never the ID-card number nor the birth date."""
    born = elder.birth_on
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return {
        "id": elder.id, "version": elder.version, "name": elder.name, "gender": elder.gender, "age": age,
        "phone": elder.phone, "address": elder.address, "lat": elder.lat, "lon": elder.lon,
        "community_id": elder.community_id, "community_name": elder.community_name, "risk_tier": elder.risk_tier,
        "categories": elder.category_list or [], "capability_level": elder.capability_level,
        "care_notes": elder.care_notes,
        "emergency_contacts": elder.emergency_contacts, "plate_ids": elder.plate_list or [],
    }
