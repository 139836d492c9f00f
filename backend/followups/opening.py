"""Opening follow-ups and notifications in bulk, as set-based SQL, for the sweep.

Each statement reads the rows the current transaction stamped with change number `seq` (the
tasks the sweep just marked), so it touches only them, and inserts with ON CONFLICT DO NOTHING
on the unique dedupe keys, so a re-run opens and notifies nothing twice.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Integer, String, case, cast, func, insert, literal, null, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from backend.elders.models import Elder
from backend.extensions import db
from backend.followups.models import Followup, FollowupEvent, Notification
from backend.plans.models import CarePlan
from backend.providers.models import Provider
from backend.regions.models import Region
from backend.tasks.models import Task
from backend.users.models import User


def _insert(table):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def region_supervisor_of(community_path_column):
    """SQL: the nearest active supervisor whose subtree holds the community (None if nobody)."""
    scope = aliased(Region)
    return (select(User.id).join(scope, User.region_id == scope.id)
            .where(User.role == "supervisor", User.is_active.is_(True), community_path_column.startswith(scope.path))
            .order_by(func.length(scope.path).desc(), User.id).limit(1).scalar_subquery())


def open_missed_visit_followups(*, seq: int, now: datetime) -> int:
    """A missed_visit follow-up for every task this transaction marked missed.

    Service visits go to the provider's manager first, patrols (and providers without a manager)
    to the supervisor of the elder's region.
    """
    due = now + timedelta(minutes=current_app.config["FOLLOWUP_RULES"]["missed_visit"]["due_minutes"])
    community = aliased(Region)
    supervisor = region_supervisor_of(community.path)
    owner = case((Task.kind == "service", func.coalesce(Provider.manager_id, supervisor)), else_=supervisor)
    priority = case((Elder.risk_tier == "high", literal("high")), else_=literal("normal"))
    summary = case((Task.kind == "patrol", literal("巡访未完成")), else_=literal("上门服务未完成（漏访）"))
    rows = (
        select(literal("missed_visit"), priority, literal("open"),
               literal("missed_visit:task:") + cast(Task.id, String), Task.elder_id, Task.id, Task.assignee_id,
               CarePlan.provider_id, Elder.community_id, owner,
               literal(now, type_=Followup.opened_at.type), literal(due, type_=Followup.due_at.type), literal(0),
               summary, literal(seq), literal(1), literal(now, type_=Followup.created_at.type),
               literal(now, type_=Followup.updated_at.type))
        .select_from(Task).join(Elder, Task.elder_id == Elder.id).join(community, Elder.community_id == community.id)
        .outerjoin(CarePlan, Task.care_plan_id == CarePlan.id).outerjoin(Provider, CarePlan.provider_id == Provider.id)
        .where(Task.change_seq == seq, Task.status == "missed")
    )
    columns = ["kind", "priority", "status", "dedupe_key", "elder_id", "task_id", "subject_user_id", "provider_id",
               "region_id", "owner_id", "opened_at", "due_at", "escalation_level", "summary", "change_seq",
               "version", "created_at", "updated_at"]
    statement = _insert(Followup.__table__).from_select(columns, rows).on_conflict_do_nothing(
        index_elements=["dedupe_key"])
    db.session.execute(statement)
    # Counted, not taken from rowcount: drivers disagree on it for INSERT … SELECT … ON CONFLICT.
    opened = db.session.execute(select(func.count()).select_from(Followup).where(
        *_new_followups(seq=seq, now=now, kind="missed_visit"))).scalar()
    if opened:
        _record_opened(seq=seq, now=now, kind="missed_visit")
        _notify_owners_of_new(seq=seq, now=now, kind="missed_visit")
    return opened


def _new_followups(*, seq: int, now: datetime, kind: str):
    """The follow-ups of `kind` this transaction just opened (stamped `seq`, opened at `now`)."""
    return (Followup.change_seq == seq, Followup.kind == kind, Followup.opened_at == now,
            Followup.escalation_level == 0)


def _record_opened(*, seq: int, now: datetime, kind: str) -> None:
    rows = select(Followup.id, literal(now, type_=FollowupEvent.at.type), literal("opened"), literal("sweep"),
                  literal({}, type_=FollowupEvent.data.type)).where(*_new_followups(seq=seq, now=now, kind=kind))
    statement = insert(FollowupEvent.__table__).from_select(
        ["followup_id", "at", "action", "by_system", "data"], rows)
    db.session.execute(statement)


def _notify_owners_of_new(*, seq: int, now: datetime, kind: str) -> None:
    rows = (
        # The same key services.notify() gives: "assigned:f<followup>:<user>:<escalation step>".
        select(Followup.owner_id, literal("assigned"), Followup.id, Followup.task_id,
               literal("assigned:f") + cast(Followup.id, String) + literal(":") + cast(Followup.owner_id, String)
               + literal(":0"),
               literal("新的跟进事项：") + Followup.summary, Followup.summary,
               literal(now, type_=Notification.created_at.type), literal(seq))
        .where(*_new_followups(seq=seq, now=now, kind=kind), Followup.owner_id.is_not(None))
    )
    columns = ["user_id", "event", "followup_id", "task_id", "dedupe_key", "title", "body", "created_at",
               "change_seq"]
    db.session.execute(_insert(Notification.__table__).from_select(columns, rows)
                       .on_conflict_do_nothing(index_elements=["dedupe_key"]))


def notify_late_starts(*, seq: int, now: datetime) -> None:
    """Tell the assignee (and the provider's manager) that a visit window opened with no check-in."""
    base = select(Task).where(Task.change_seq == seq, Task.late_at == now, Task.assignee_id.is_not(None)).subquery()
    title = literal("服务已开始但尚未签到")
    assignee_rows = select(
        base.c.assignee_id, literal("late_start"), cast(null(), Integer), base.c.id,
        literal("late_start:t") + cast(base.c.id, String) + literal(":") + cast(base.c.assignee_id, String)
        + literal(":0"),
        title, literal("请尽快签到，或说明原因"), literal(now, type_=Notification.created_at.type), literal(seq)
    ).where(base.c.assignee_id.is_not(None))  # a WHERE: SQLite cannot parse "FROM (…) ON CONFLICT"
    manager_rows = select(
        Provider.manager_id, literal("late_start"), cast(null(), Integer), base.c.id,
        literal("late_start:t") + cast(base.c.id, String) + literal(":") + cast(Provider.manager_id, String)
        + literal(":0"),
        title, literal("护理员尚未签到"), literal(now, type_=Notification.created_at.type), literal(seq)
    ).select_from(base).join(CarePlan, base.c.care_plan_id == CarePlan.id).join(
        Provider, CarePlan.provider_id == Provider.id).where(Provider.manager_id.is_not(None))
    columns = ["user_id", "event", "followup_id", "task_id", "dedupe_key", "title", "body", "created_at",
               "change_seq"]
    for rows in (assignee_rows, manager_rows):
        db.session.execute(_insert(Notification.__table__).from_select(columns, rows)
                           .on_conflict_do_nothing(index_elements=["dedupe_key"]))
