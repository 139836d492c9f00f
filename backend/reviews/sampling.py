"""Phone call-backs (电话回访): the monthly random draw of completed visits per provider, and what
the elder said when called.

A draw is reproducible: the population is the provider's completed service visits whose window
started in the month (care time zone), sorted by task id; the sample is `random.Random(seed)`
over it, the seed derived from month, provider and round unless one is given. Each draw is kept
with its seed, share, population size and a digest of the population's task ids, so anyone can
check it; drawing again returns it, and only an admin's redraw (with a reason) replaces it.
"""

import hashlib
import math
import random
from datetime import date, datetime
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from backend.clock import local_midnight
from backend.errors import Conflict, Forbidden, ValidationFailed
from backend.extensions import db
from backend.followups.services import open_followup
from backend.plans.models import CarePlan
from backend.reviews.models import Callback, CallbackDraw
from backend.reviews.services import REVIEWERS, answerable_for, provider_of
from backend.scope import tasks_clause
from backend.tasks.models import Task
from backend.users.models import User
from backend.visits.models import Visit

# A call-back satisfaction this far from the one recorded at check-out is a disagreement.
SATISFACTION_GAP = 2


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The UTC instants at which a "YYYY-MM" month begins and ends in the care time zone."""
    try:
        first = datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise ValidationFailed("month", _l("not a month: use YYYY-MM")) from None
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return local_midnight(first), local_midnight(following)


def default_seed(month: str, provider_id: int, round_: int = 1) -> int:
    digest = hashlib.sha256(f"callbacks:{month}:provider:{provider_id}:round:{round_}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # 63 bits: fits a signed BIGINT


def sample(task_ids: list[int], share: float, seed: int) -> list[int]:
    """ceil(share × n) of the ids (at least one when there are any), in ascending order."""
    ordered = sorted(task_ids)
    if not ordered:
        return []
    size = min(len(ordered), max(1, math.ceil(Decimal(str(share)) * len(ordered))))
    return sorted(random.Random(seed).sample(ordered, size))


def population(month: str, provider_id: int) -> list[int]:
    start, end = month_bounds(month)
    return list(db.session.execute(_population_query(start, end).where(CarePlan.provider_id == provider_id)
                                   .order_by(Task.id)).scalars())


def _population_query(start: datetime, end: datetime):
    return (select(Task.id).join(CarePlan, Task.care_plan_id == CarePlan.id).join(Visit, Visit.task_id == Task.id)
            .where(Task.kind == "service", Task.status == "completed", Task.window_start_at >= start,
                   Task.window_start_at < end))


def draw_callbacks(month: str, *, share: float | None = None, seed: int | None = None, by: User | None,
                   at: datetime, redraw: bool = False, reason: str | None = None) -> list[CallbackDraw]:
    """Each provider's draw for the month: the existing one, or a new one with its call-backs.

    `by` None is the command line. Supervisors draw with the defaults; a share, a seed or a
    redraw is for admins. A redraw is the next round: the previous round's unfinished
    call-backs are cancelled, those already made stay. Raises Forbidden, ValidationFailed
    (month, share, reason, or a month that has not ended).
    """
    if by is not None and by.role not in REVIEWERS:
        raise Forbidden(_l("only supervisors and admins draw call-backs"))
    if by is not None and by.role != "admin" and (share is not None or seed is not None or redraw):
        raise Forbidden(_l("only admins choose the share or the seed, or redraw"))
    start, end = month_bounds(month)
    if end > at:
        raise ValidationFailed("month", _l("the month has not ended yet: its population is not complete"))
    share = current_app.config["CALLBACK_SHARE"] if share is None else share
    if not 0 < share <= 1:
        raise ValidationFailed("share", _l("must be more than 0 and at most 1"))
    reason = (reason or "").strip() or None
    if redraw and reason is None:
        raise ValidationFailed("reason", _l("required for a redraw"))
    with_visits = _population_query(start, end).with_only_columns(CarePlan.provider_id)
    already = select(CallbackDraw.provider_id).where(CallbackDraw.month == month)
    provider_ids = sorted(set(db.session.execute(with_visits.union(already)).scalars()))
    return [_draw_one(month, provider_id, share, seed, by, at, redraw, reason) for provider_id in provider_ids]


def _latest_draw(month: str, provider_id: int) -> CallbackDraw | None:
    return db.session.execute(select(CallbackDraw).where(CallbackDraw.month == month,
                                                         CallbackDraw.provider_id == provider_id)
                              .order_by(CallbackDraw.round.desc()).limit(1)).scalar_one_or_none()


def _draw_one(month, provider_id, share, seed, by, at, redraw, reason) -> CallbackDraw:
    latest = _latest_draw(month, provider_id)
    if latest is not None and not redraw:
        return latest
    round_ = latest.round + 1 if latest else 1
    seed = default_seed(month, provider_id, round_) if seed is None else seed
    ids = population(month, provider_id)
    drawn = sample(ids, share, seed)
    draw = CallbackDraw(month=month, provider_id=provider_id, round=round_, seed=seed, share=share,
                        population=len(ids), population_digest=hashlib.sha256(
                            ",".join(map(str, ids)).encode()).hexdigest(),
                        drawn_task_ids=drawn, drawn_by_id=by.id if by else None, drawn_at=at, reason=reason)
    try:
        with db.session.begin_nested():
            db.session.add(draw)
            db.session.flush()
    except IntegrityError:  # drawn by a concurrent request a moment ago
        return _latest_draw(month, provider_id)
    if latest is not None:
        for callback in db.session.execute(select(Callback).where(
                Callback.draw_id == latest.id, Callback.status.in_(("pending", "unreachable")))).scalars():
            callback.status = "cancelled"
    db.session.add_all(Callback(draw_id=draw.id, task_id=task_id, status="pending") for task_id in drawn)
    db.session.flush()
    return draw


def record_callback(callback: Callback, *, status: str = "done", confirmed: bool | None = None,
                    satisfaction: int | None = None, note: str | None = None, by: User,
                    at: datetime) -> Callback:
    """Record a call: the elder unreachable (may be tried again), or reached, confirming the visit
    or not, with their satisfaction. A denial, or a satisfaction SATISFACTION_GAP or more away
    from the one recorded at the visit, opens an unverified_visit follow-up.

    Raises Forbidden, Conflict (already recorded, or cancelled by a redraw), ValidationFailed
    (`confirmed` missing when reached, or given when unreachable).
    """
    if by.role not in REVIEWERS:
        raise Forbidden(_l("only supervisors and admins record call-backs"))
    if callback.status in ("done", "cancelled"):
        raise Conflict(_l("this call-back is %(callback_status)s", callback_status=callback.status))
    if status == "unreachable" and (confirmed is not None or satisfaction is not None):
        raise ValidationFailed("confirmed", _l("not with an unreachable elder"))
    if status == "done" and confirmed is None:
        raise ValidationFailed("confirmed", _l("required when the elder was reached"))
    callback.status, callback.is_confirmed, callback.satisfaction = status, confirmed, satisfaction
    callback.note = (note or "").strip() or None
    callback.called_by_id, callback.called_at, callback.attempts = by.id, at, callback.attempts + 1
    if status == "done":
        _compare(callback, at)
    db.session.flush()
    return callback


def _compare(callback: Callback, at: datetime) -> None:
    task = callback.task
    visit = db.session.execute(select(Visit).where(Visit.task_id == task.id)).scalar_one()
    disagreements = []
    if not callback.is_confirmed:
        disagreements.append("elder_denies_visit")
    if (callback.satisfaction is not None and visit.satisfaction is not None
            and abs(callback.satisfaction - visit.satisfaction) >= SATISFACTION_GAP):
        disagreements.append("satisfaction_disagrees")
    if not disagreements:
        return
    provider = provider_of(task)
    followup = open_followup(
        kind="unverified_visit", dedupe_key=f"unverified_visit:callback:{callback.id}",
        owner_id=answerable_for(task), at=at, by_system="callback",
        priority="high" if "elder_denies_visit" in disagreements else "normal",
        summary=("电话回访：老人否认接受过此次服务" if not callback.is_confirmed else "电话回访：满意度与上门记录不符")
        + f"（{task.elder.name}）",
        elder_id=task.elder_id, task_id=task.id, subject_user_id=visit.user_id,
        provider_id=provider.id if provider else None, region_id=task.elder.community_id,
        details={"source": "callback", "callback_id": callback.id, "draw_id": callback.draw_id,
                 "disagreements": disagreements, "confirmed": callback.is_confirmed,
                 "callback_satisfaction": callback.satisfaction, "visit_satisfaction": visit.satisfaction,
                 "note": callback.note})
    callback.followup_id = followup.id


def callbacks_clause(user: User):
    """Call-backs a user may see: admins all, supervisors those of tasks in their region subtree."""
    if user.role == "admin":
        return true()
    return Callback.task_id.in_(select(Task.id).where(tasks_clause(user)))


def listed(user: User, args: dict):
    """The call-backs a user may see, filtered as the list arguments say (month, provider,
    status), by month then visit: the API's list and the console's page alike."""
    query = (select(Callback).join(CallbackDraw, Callback.draw_id == CallbackDraw.id)
             .where(callbacks_clause(user))
             .options(selectinload(Callback.draw), selectinload(Callback.task).selectinload(Task.elder)))
    if "month" in args:
        query = query.where(CallbackDraw.month == args["month"])
    if "provider_id" in args:
        query = query.where(CallbackDraw.provider_id == args["provider_id"])
    if args.get("status"):
        query = query.where(Callback.status.in_(args["status"]))
    return query.order_by(CallbackDraw.month, Callback.task_id, Callback.id)
