"""Follow-up verbs: open, notify, resolve automatically; who sees which follow-up; read state of
notifications. (Claim, comment, resolve and reopen live in backend/followups/actions.py, escalation
in backend/followups/escalation.py.)

Services add and flush; the caller commits. Opening is idempotent by dedupe key: a concurrent
or repeated open of the same key returns the follow-up that exists.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import event, func, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from backend.extensions import db
from backend.followups.models import ACTIVE, Followup, FollowupEvent, Notification, NotificationKey
from backend.providers.models import Provider
from backend.regions.models import Region
from backend.scope import region_ids_clause
from backend.users.models import User


def open_followup(*, kind: str, dedupe_key: str, owner_id: int | None, at: datetime, summary: str,
                  priority: str = "normal", elder_id: int | None = None, task_id: int | None = None,
                  subject_user_id: int | None = None, provider_id: int | None = None,
                  region_id: int | None = None, due_at: datetime | None = None, details: dict | None = None,
                  by_system: str = "sync") -> Followup:
    existing = db.session.execute(select(Followup).where(Followup.dedupe_key == dedupe_key)).scalar_one_or_none()
    if existing is not None:
        return existing
    rules = current_app.config["FOLLOWUP_RULES"][kind]
    followup = Followup(kind=kind, dedupe_key=dedupe_key, owner_id=owner_id, opened_at=at, summary=summary,
                        priority=priority, elder_id=elder_id, task_id=task_id, subject_user_id=subject_user_id,
                        provider_id=provider_id, region_id=region_id, details=details or {},
                        due_at=due_at or at + timedelta(minutes=rules["due_minutes"]))
    try:
        with db.session.begin_nested():
            db.session.add(followup)
            db.session.flush()
    except IntegrityError:  # opened by a concurrent transaction a moment ago
        return db.session.execute(select(Followup).where(Followup.dedupe_key == dedupe_key)).scalar_one()
    db.session.add(FollowupEvent(followup_id=followup.id, at=at, action="opened", by_system=by_system,
                                 data={"owner_id": owner_id, "priority": priority}))
    if owner_id is not None:
        notify(owner_id, "assigned", at=at, followup=followup, title="新的跟进事项：" + summary,
               step=f"{followup.escalation_level}")
    return followup


def notify(user_id: int, event: str, *, at: datetime, title: str, body: str = "", followup: Followup | None = None,
           task_id: int | None = None, step: str = "0") -> None:
    """One notification per (person, event, subject, step); repeats are ignored."""
    subject = f"f{followup.id}" if followup is not None else f"t{task_id}"
    key = f"{event}:{subject}:{user_id}:{step}"
    claimed = db.session.execute(insert(NotificationKey).values(dedupe_key=key).on_conflict_do_nothing()
                                 .returning(NotificationKey.dedupe_key)).first()
    if claimed is None:
        return
    db.session.add(Notification(user_id=user_id, event=event, followup_id=followup.id if followup else None,
                                task_id=task_id if task_id else (followup.task_id if followup else None),
                                dedupe_key=key, title=title[:200], body=body, created_at=at))


def auto_resolve(dedupe_key: str, *, code: str, at: datetime, note: str, by_system: str = "sync") -> Followup | None:
    """Resolve an open follow-up because the facts changed (e.g. evidence arrived late)."""
    followup = db.session.execute(select(Followup).where(Followup.dedupe_key == dedupe_key)
                                  .with_for_update()).scalar_one_or_none()
    if followup is None or followup.status == "resolved":
        return followup
    followup.status = "resolved"
    followup.resolved_at = at
    followup.resolution_code = code
    followup.resolution_note = note
    db.session.add(FollowupEvent(followup_id=followup.id, at=at, action="auto_resolved", by_system=by_system,
                                 note=note, data={"resolution_code": code}))
    return followup


def supervisor_map():
    """SQL: every region with its nearest active supervisor (the one whose subtree holds the region
    with the longest path; the lowest user id among equals), as (region_id, user_id) rows. Regions
    nobody supervises are absent. The one definition: the sweep's follow-ups join it once per
    statement, region_supervisor() reads one row of it."""
    region, scope = aliased(Region), aliased(Region)
    ranked = (
        select(region.id.label("region_id"), User.id.label("user_id"),
               func.row_number().over(partition_by=region.id,
                                      order_by=(func.length(scope.path).desc(), User.id)).label("nearness"))
        .select_from(region).join(scope, region.path.startswith(scope.path))
        .join(User, User.region_id == scope.id)
        .where(User.role == "supervisor", User.is_active.is_(True))
        .subquery()
    )
    return select(ranked.c.region_id, ranked.c.user_id).where(ranked.c.nearness == 1).subquery("supervisors")


def region_supervisor(region_id: int | None) -> User | None:
    """The nearest active supervisor whose subtree holds the region (a community, or a provider's
    region), from supervisor_map().

    Remembered for the rest of the transaction (a push batch asks once per community, not once
    per item); the cache goes with the session's transaction.
    """
    if region_id is None:
        return None
    cache = db.session.info.setdefault("region_supervisor", {})
    if region_id not in cache:
        supervisors = supervisor_map()
        cache[region_id] = db.session.execute(
            select(supervisors.c.user_id).where(supervisors.c.region_id == region_id)).scalar()
    supervisor_id = cache[region_id]
    return db.session.get(User, supervisor_id) if supervisor_id is not None else None


@event.listens_for(Session, "after_transaction_end")
def _forget_supervisors(session, transaction):
    if transaction.parent is None:
        session.info.pop("region_supervisor", None)


def due_minutes(followup: Followup) -> int:
    """How long the first owner has: the kind's rule, shorter for an urgent welfare check."""
    rules = current_app.config["FOLLOWUP_RULES"][followup.kind]
    if followup.priority == "urgent" and "urgent_due_minutes" in rules:
        return rules["urgent_due_minutes"]
    return rules["due_minutes"]


def followups_clause(user: User):
    """Follow-ups a user may see: admins all; supervisors their region subtree (and, for follow-ups
    with no community such as worker patterns, those of providers in it) plus their own; field
    staff only those they own; provider managers those they own and their provider's."""
    if user.role == "admin":
        return true()
    if user.role == "provider_manager":
        return (Followup.owner_id == user.id) | (Followup.provider_id == user.provider_id)
    if user.role != "supervisor":
        return Followup.owner_id == user.id
    mine = (Followup.owner_id == user.id) | (Followup.claimed_by_id == user.id)
    if user.region_id is None:
        return mine
    providers = select(Provider.id).where(region_ids_clause(user, Provider.region_id))
    return (mine | region_ids_clause(user, Followup.region_id)
            | (Followup.region_id.is_(None) & Followup.provider_id.in_(providers)))


def listed(user: User, args: dict, *, now: datetime):
    """The follow-ups a user may see, filtered as the list arguments say (status, kind, priority,
    overdue, owner=me), most urgent first: the API's list and the console's page alike."""
    query = select(Followup).where(followups_clause(user))
    if args.get("status"):
        query = query.where(Followup.status.in_(args["status"]))
    for name in ("kind", "priority"):
        if name in args:
            query = query.where(getattr(Followup, name) == args[name])
    if args.get("overdue") is not None:
        overdue = Followup.status.in_(ACTIVE) & (Followup.due_at <= now)
        query = query.where(overdue if args["overdue"] else ~overdue)
    if args.get("owner") == "me":
        query = query.where(Followup.owner_id == user.id)
    return query.order_by(Followup.due_at, Followup.id)


def is_visible(followup: Followup, user: User) -> bool:
    return db.session.execute(select(Followup.id).where(Followup.id == followup.id,
                                                        followups_clause(user))).first() is not None


def supervises(followup: Followup, user: User) -> bool:
    """An admin, or a supervisor whose scope holds the follow-up."""
    if user.role == "admin":
        return True
    return user.role == "supervisor" and is_visible(followup, user)


def mark_read(notification: Notification, *, at: datetime) -> Notification:
    if notification.read_at is None:
        notification.read_at = at
    return notification


def mark_all_read(user: User, *, at: datetime) -> int:
    """Mark every unread notification of the user read; phones see it on their next pull.

    Row by row through the ORM, so the change number is taken at commit, after the row locks,
    in the same order as every other writer (never the other way round, which could deadlock)."""
    unread = db.session.execute(select(Notification).where(Notification.user_id == user.id,
                                                            Notification.read_at.is_(None))).scalars().all()
    for notification in unread:
        notification.read_at = at
    return len(unread)
