"""The provider's answer to a supervisor's request for an explanation of a visit.

Services add and flush; the caller commits. The answer is kept beside the request (one per
request) and the supervisor who asked hears of it; deciding again is the supervisor's, never the
provider's (a provider manager cannot review its own visits).
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from backend.errors import Conflict, Forbidden, ValidationFailed
from backend.extensions import db
from backend.followups.services import notify
from backend.reviews.models import Review, ReviewExplanation
from backend.reviews.services import provider_of
from backend.users.models import User


def explain(review: Review, text: str, *, by: User, at: datetime) -> ReviewExplanation:
    """Answer the request `review` with `text`.

    Raises Forbidden (not the manager of the visit's provider), Conflict (the review is not a
    current request for an explanation, or it was answered already), ValidationFailed (no text).
    """
    provider = provider_of(review.task)
    if by.role != "provider_manager" or provider is None or by.provider_id != provider.id:
        raise Forbidden(_l("only the manager of the visit's provider answers for it"))
    if review.decision != "explanation_requested" or not review.is_current:
        raise Conflict(_l("no explanation is being asked for on this decision"))
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("text", _l("required"))
    explanation = ReviewExplanation(review_id=review.id, text=text, explained_by_id=by.id, explained_at=at)
    try:
        with db.session.begin_nested():
            db.session.add(explanation)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_l("this request was answered already")) from None
    notify(review.decided_by_id, "explanation_given", at=at, task_id=review.task_id, step=f"review{review.id}",
           title=f"机构已作说明：{review.task.elder.name}", body=text[:300])
    return explanation
