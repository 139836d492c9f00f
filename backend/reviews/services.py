"""Review verbs: the queue of visits awaiting a decision, decide, unlock, and what a decision means
for a visit (its current decision; rejected visits are not payable).

Services add and flush; the caller commits. A visit's current decision is its latest review, the
one no later review supersedes: nothing is written on the visit itself.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from backend.clock import local_midnight
from backend.console.display import label
from backend.errors import Conflict, Forbidden, NotFound, Problem, ValidationFailed
from backend.extensions import db
from backend.followups.services import notify, region_supervisor
from backend.plans.models import CarePlan
from backend.providers.models import Provider
from backend.reviews.models import Review
from backend.reviews.verification import FINAL  # decisions that take a visit out of the queue
from backend.scope import tasks_clause
from backend.tasks.models import Task
from backend.users.models import User
from backend.visits.models import Visit
from schemas.reviews import REASON_CODES

REVIEWERS = ("admin", "supervisor")


@dataclass
class QueueEntry:
    visit: Visit
    provider_id: int | None
    current_review: Review | None

    @property
    def awaiting_explanation(self) -> bool:
        return self.current_review is not None and self.current_review.decision == "explanation_requested"


def current_review(task_id: int, *, for_update: bool = False) -> Review | None:
    query = select(Review).where(Review.task_id == task_id, Review.superseded_by_id.is_(None))
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.execute(query).scalar_one_or_none()


def payable_clause(task_id_column):
    """SQL: the task's visit is payable, i.e. its current decision is not a rejection."""
    return ~exists().where(Review.task_id == task_id_column, Review.superseded_by_id.is_(None),
                           Review.decision == "rejected")


def is_payable(task_id: int) -> bool:
    review = current_review(task_id)
    return review is None or review.decision != "rejected"


def decide(task: Task, decision: str, reason_code: str, comment: str | None, *, by: User,
           at: datetime) -> Review:
    """Record a decision on the task's visit; it supersedes the visit's current one.

    Raises Forbidden (not a supervisor or admin), NotFound (the task has no visit),
    ValidationFailed (a reason code of another decision; `other` without a comment),
    409 review_locked (the current decision's window has passed and no admin unlocked it),
    Conflict (another decision on the visit was recorded at the same moment).
    """
    if by.role not in REVIEWERS:
        raise Forbidden(_l("only supervisors and admins decide on visits"))
    if reason_code not in REASON_CODES.get(decision, ()):
        raise ValidationFailed("reason_code", _l("not a reason for %(decision)s: use one of %(codes)s",
                                                 decision=decision, codes=", ".join(REASON_CODES.get(decision, ()))))
    comment = (comment or "").strip() or None
    if reason_code == "other" and comment is None:
        raise ValidationFailed("comment", _l("required when the reason code is other"))
    visit = db.session.execute(select(Visit).where(Visit.task_id == task.id)).scalar_one_or_none()
    if visit is None:
        raise NotFound("visit", _l("this task has no visit to decide on"))
    previous = current_review(task.id, for_update=True)
    if previous is not None and previous.is_locked_at(at):
        raise Problem("review_locked", _l("the decision of %(decided_on)s locked on %(locks_on)s; an admin must unlock "
                                          "it first", decided_on=f"{previous.decided_at:%Y-%m-%d}",
                                          locks_on=f"{previous.locks_at:%Y-%m-%d}"),
                      status=409, review_id=previous.id)
    review = Review(task_id=task.id, visit_id=visit.id, seq=previous.seq + 1 if previous else 1, decision=decision,
                    reason_code=reason_code, comment=comment, decided_by_id=by.id, decided_at=at)
    try:
        with db.session.begin_nested():
            db.session.add(review)
            db.session.flush()
    except IntegrityError:  # (task_id, seq) taken: a concurrent decision won
        raise Conflict(_l("another decision on this visit was recorded a moment ago; reload it")) from None
    if previous is not None:
        previous.superseded_by_id = review.id
    if decision == "explanation_requested":
        _ask_for_explanation(task, visit, review, at)
    db.session.flush()
    return review


def unlock(review: Review, reason: str, *, by: User, at: datetime) -> Review:
    """Let a new decision replace a locked one. Admins only, with a reason; kept on the review.

    Raises Forbidden (not an admin), ValidationFailed (no reason), Conflict (a superseded
    decision: only the current one can be unlocked), 409 review_not_locked.
    """
    if by.role != "admin":
        raise Forbidden(_l("only admins unlock decisions"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("reason", _l("required"))
    if not review.is_current:
        raise Conflict(_l("a later decision superseded this one; only the current decision can be unlocked"))
    if not review.is_locked_at(at):
        raise Problem("review_not_locked", _l("this decision is not locked"), status=409)
    review.unlocked_at, review.unlocked_by_id, review.unlock_reason = at, by.id, reason
    db.session.flush()
    return review


def review_queue(user: User, *, provider_id: int | None = None, flag: str | None = None,
                 date_from: date | None = None, date_to: date | None = None):
    """SQL: visits needing review in the user's scope with no current approval or rejection,
    oldest window first."""
    decided = exists().where(Review.task_id == Visit.task_id, Review.superseded_by_id.is_(None),
                             Review.decision.in_(FINAL))
    query = (select(Visit).join(Task, Visit.task_id == Task.id)
             .where(Visit.needs_review.is_(True), ~decided, tasks_clause(user))
             .options(selectinload(Visit.task).selectinload(Task.elder)))
    if provider_id is not None:
        query = query.where(Task.care_plan_id.in_(select(CarePlan.id).where(CarePlan.provider_id == provider_id)))
    if flag is not None:  # flags are a JSON list of names: match the quoted name, wildcards escaped
        escaped = flag.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
        query = query.where(cast(Visit.flags, String).like(f'%"{escaped}"%', escape="\\"))
    if date_from is not None:
        query = query.where(Task.window_start_at >= local_midnight(date_from))
    if date_to is not None:
        query = query.where(Task.window_start_at < local_midnight(date_to + timedelta(days=1)))
    return query.order_by(Task.window_start_at, Visit.id)


def queue_entries(visits: list[Visit]) -> list[QueueEntry]:
    """A page of queued visits with their provider and current decision, in two queries."""
    task_ids = [v.task_id for v in visits]
    reviews = {r.task_id: r for r in db.session.execute(
        select(Review).where(Review.task_id.in_(task_ids), Review.superseded_by_id.is_(None))).scalars()}
    plan_ids = {v.task.care_plan_id for v in visits if v.task.care_plan_id is not None}
    providers = dict(db.session.execute(select(CarePlan.id, CarePlan.provider_id)
                                        .where(CarePlan.id.in_(plan_ids))).all()) if plan_ids else {}
    return [QueueEntry(v, providers.get(v.task.care_plan_id), reviews.get(v.task_id)) for v in visits]


def history(task: Task):
    """SQL: every decision on the task's visit, first to last."""
    return select(Review).where(Review.task_id == task.id).order_by(Review.seq)


def provider_of(task: Task) -> Provider | None:
    if task.care_plan_id is None:
        return None
    return db.session.get(Provider, db.session.get(CarePlan, task.care_plan_id).provider_id)


def answerable_for(task: Task) -> int | None:
    """Who answers for a visit: the provider's manager, else the supervisor of the elder's region."""
    provider = provider_of(task)
    if provider is not None and provider.manager_id is not None:
        return provider.manager_id
    supervisor = region_supervisor(task.elder.community_id)
    return supervisor.id if supervisor else None


def _ask_for_explanation(task: Task, visit: Visit, review: Review, at: datetime) -> None:
    """The provider's manager hears of it; without one, whoever made the visit."""
    provider = provider_of(task)
    user_id = provider.manager_id if provider is not None and provider.manager_id else visit.user_id
    # Stored once for a reader not known yet, so in the default language, whoever decided.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        reason = label("reason", review.reason_code)
    notify(user_id, "explanation_asked", at=at, task_id=task.id, step=f"review{review.id}",
           title=f"上门记录需要说明：{task.elder.name}",
           body=reason + (f"：{review.comment}" if review.comment else ""))
