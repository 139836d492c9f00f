"""Opening follow-ups and notifications in bulk, as set-based SQL, for the sweep.

The statements after the first read the rows the current transaction stamped with change number
`seq` (the tasks the sweep just flagged, the follow-ups this step just opened), so they touch
only those, and insert with ON CONFLICT DO NOTHING on the unique dedupe keys (a notification's
claimed in notification_keys by the same statement), so a re-run opens and notifies nothing twice.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Integer, String, case, cast, exists, func, literal, null, select
from sqlalchemy.dialects.postgresql import distinct_on, insert

from backend.changefeed import next_seq
from backend.elders.models import Elder
from backend.extensions import among, db
from backend.followups.models import Followup, FollowupEvent, Notification, NotificationKey
from backend.followups.services import supervisor_map
from backend.plans.models import CarePlan
from backend.providers.models import Provider
from backend.tasks.models import Task


def open_missed_followups(*, now: datetime, since: datetime | None = None) -> int:
    """A missed_visit follow-up (with its opening event and the owner's notification) for every
    missed task that has none yet; returns how many were opened. The caller commits.

    The second step of the sweep, in its own transaction: it catches up whatever an earlier run
    left unopened (a failure or a crash after the sweep committed). Service visits go to the
    provider's manager first, patrols (and providers without a manager) to the supervisor of the
    elder's region. Safe beside pushes and another run of itself: the tasks are locked FOR UPDATE
    SKIP LOCKED and re-checked, so a task a late check-in is completing is left alone (and, once
    completed, never followed up); the unique dedupe key settles the rest.

    It looks only at tasks whose window ended in the last MISSED_FOLLOWUP_LOOKBACK_DAYS (or since
    `since`, when that is earlier), through the (status, window_end_at) index, so a run with
    nothing to open costs little however much history the table holds.
    """
    seq = next_seq(db.session)  # first, before any row lock, as every writer does
    key = literal("missed_visit:task:") + cast(Task.id, String)
    lookback = now - timedelta(days=current_app.config["MISSED_FOLLOWUP_LOOKBACK_DAYS"])
    since = min(since, lookback) if since is not None else lookback
    missing = (Task.status == "missed", Task.window_end_at >= since, ~exists().where(Followup.dedupe_key == key))
    ids = db.session.execute(select(Task.id).where(*missing).order_by(Task.id)
                             .with_for_update(skip_locked=True, of=Task)).scalars().all()
    if not ids:
        return 0
    due = now + timedelta(minutes=current_app.config["FOLLOWUP_RULES"]["missed_visit"]["due_minutes"])
    supervisors = supervisor_map()
    owner = case((Task.kind == "service", func.coalesce(Provider.manager_id, supervisors.c.user_id)),
                 else_=supervisors.c.user_id)
    priority = case((Elder.risk_tier == "high", literal("high")), else_=literal("normal"))
    summary = case((Task.kind == "patrol", literal("巡访未完成")), else_=literal("上门服务未完成（漏访）"))
    rows = (
        select(literal("missed_visit"), priority, literal("open"), key, Task.elder_id, Task.id, Task.assignee_id,
               CarePlan.provider_id, Elder.community_id, owner,
               literal(now, type_=Followup.opened_at.type), literal(due, type_=Followup.due_at.type), literal(0),
               summary, literal(seq), literal(1), literal(now, type_=Followup.created_at.type),
               literal(now, type_=Followup.updated_at.type))
        .select_from(Task).join(Elder, Task.elder_id == Elder.id)
        .outerjoin(supervisors, supervisors.c.region_id == Elder.community_id)
        .outerjoin(CarePlan, Task.care_plan_id == CarePlan.id).outerjoin(Provider, CarePlan.provider_id == Provider.id)
        # The ids themselves, not a subquery: the planner then knows how many rows follow and
        # hashes the supervisor map once instead of probing it per row.
        .where(among(Task.id, ids))
    )
    columns = ["kind", "priority", "status", "dedupe_key", "elder_id", "task_id", "subject_user_id", "provider_id",
               "region_id", "owner_id", "opened_at", "due_at", "escalation_level", "summary", "change_seq",
               "version", "created_at", "updated_at"]
    statement = insert(Followup.__table__).from_select(columns, rows).on_conflict_do_nothing(
        index_elements=["dedupe_key"]).returning(Followup.__table__.c.id)
    opened = len(db.session.execute(statement).all())
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
    insert_notifications(columns, rows)


def notify_late_starts(*, seq: int, now: datetime, begun) -> None:
    """Tell the assignee (and the provider's manager) that a visit window opened with no check-in.
    `begun`: the sweep's bound on the tasks' window start (from its floor to now), the same the
    late flags were set under: it keeps the lookup to those months (tasks are partitioned by it)."""
    base = select(Task).where(Task.change_seq == seq, Task.late_at == now, Task.assignee_id.is_not(None),
                              begun).subquery()
    title = literal("服务已开始但尚未签到")
    assignee_rows = select(
        base.c.assignee_id, literal("late_start"), cast(null(), Integer), base.c.id,
        literal("late_start:t") + cast(base.c.id, String) + literal(":") + cast(base.c.assignee_id, String)
        + literal(":0"),
        title, literal("请尽快签到，或说明原因"), literal(now, type_=Notification.created_at.type), literal(seq)
    )
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
        insert_notifications(columns, rows)


def insert_notifications(columns: list[str], rows) -> None:
    """Insert the notifications `rows` selects (values for `columns`, in order) whose dedupe key
    was never used, in one statement: it claims the keys in notification_keys, whose primary key
    settles a re-run or a concurrent run, and inserts the rows whose key it claimed."""
    new = rows.cte("new")
    values = dict(zip(columns, new.c, strict=True))
    claimed = (insert(NotificationKey).from_select(["dedupe_key"], select(values["dedupe_key"]).distinct())
               .on_conflict_do_nothing().returning(NotificationKey.dedupe_key).cte("claimed"))
    chosen = (select(*values.values()).join(claimed, claimed.c.dedupe_key == values["dedupe_key"])
              .ext(distinct_on(values["dedupe_key"])))
    db.session.execute(insert(Notification.__table__).from_select(columns, chosen))
