"""Worker patterns: caregivers whose missed-or-unverified share of the last 30 days is too high.

One aggregate over the window's ended service tasks (completed or missed) per caregiver, with
unverified meaning a completed visit awaiting review or rejected on review (its verification
state, backend/reviews/verification.py): a flagged visit a supervisor approved no longer counts.
Over WORKER_PATTERN_THRESHOLD, with at least WORKER_PATTERN_MIN_TASKS ended tasks, the caregiver's
provider manager gets a worker_pattern follow-up (the region supervisor when the provider has no
manager). A caregiver with one still unresolved gets no other; the dedupe key (one per caregiver
per day) makes a re-run open nothing.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Float, and_, case, cast, func, select

from backend.clock import local_today
from backend.extensions import db
from backend.followups.models import Followup
from backend.followups.services import open_followup, region_supervisor
from backend.providers.models import Provider
from backend.reviews import verification
from backend.tasks.models import Task
from backend.users.models import User
from backend.visits.models import Visit

WINDOW_DAYS = 30


def open_worker_pattern_followups(*, now: datetime) -> int:
    """Open a worker_pattern follow-up for every caregiver over the threshold. Caller commits."""
    config = current_app.config
    since = now - timedelta(days=WINDOW_DAYS)
    ended = func.count(Task.id)
    missed = func.sum(case((Task.status == "missed", 1), else_=0))
    state = verification.state(verification.CURRENT.decision)
    unverified = func.sum(case((and_(Task.status == "completed",
                                     state.in_((verification.AWAITING_REVIEW, verification.REJECTED_ON_REVIEW))),
                                1), else_=0))
    already = select(Followup.subject_user_id).where(Followup.kind == "worker_pattern",
                                                     Followup.status.in_(("open", "claimed")),
                                                     Followup.subject_user_id.is_not(None))
    rows = db.session.execute(
        select(Task.assignee_id, ended, missed, unverified)
        .join(User, User.id == Task.assignee_id)
        .outerjoin(Visit, Visit.task_id == Task.id)
        .outerjoin(verification.CURRENT, verification.joins_current(Task.id))
        .where(User.role == "caregiver", User.is_active.is_(True), Task.kind == "service",
               Task.status.in_(("completed", "missed")), Task.window_start_at >= since, Task.window_start_at < now,
               Task.assignee_id.not_in(already))
        .group_by(Task.assignee_id)
        .having(ended >= config["WORKER_PATTERN_MIN_TASKS"],
                cast(missed + unverified, Float) >= cast(ended, Float) * config["WORKER_PATTERN_THRESHOLD"])
        .order_by(Task.assignee_id)
    ).all()
    opened = 0
    for user_id, ended_count, missed_count, unverified_count in rows:
        if _open_one(db.session.get(User, user_id), ended_count, missed_count, unverified_count, now):
            opened += 1
    return opened


def _open_one(caregiver: User, ended: int, missed: int, unverified: int, now: datetime) -> bool:
    provider = db.session.get(Provider, caregiver.provider_id) if caregiver.provider_id else None
    owner_id = provider.manager_id if provider else None
    if owner_id is None:
        supervisor = region_supervisor(provider.region_id if provider else None)
        owner_id = supervisor.id if supervisor else None
    share = (missed + unverified) / ended
    key = f"worker_pattern:user:{caregiver.id}:{local_today(now):%Y-%m-%d}"
    followup = open_followup(
        kind="worker_pattern", dedupe_key=key, owner_id=owner_id, at=now, by_system="worker_pattern",
        summary=f"护理员近{WINDOW_DAYS}天漏访或未核验比例偏高：{caregiver.display_name or caregiver.username}"
                f"（{share:.0%}）",
        subject_user_id=caregiver.id, provider_id=provider.id if provider else None,
        details={"window_days": WINDOW_DAYS, "ended": ended, "missed": missed, "unverified": unverified,
                 "share": round(share, 4), "threshold": current_app.config["WORKER_PATTERN_THRESHOLD"]})
    return followup.opened_at == now  # not one resolved earlier today
