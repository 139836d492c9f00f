"""/reviews: the queue, decisions and their history, unlocks; /callbacks: draws, the list, outcomes.

Supervisors (their region subtree) and admins; a provider manager reads its provider's queue and
decisions and answers requests for an explanation (it never decides). A task, review or call-back
out of scope answers 404.
"""

from flask import g
from sqlalchemy import select, true

from backend.api import Blueprint
from backend.auth.access import roles
from backend.clock import utcnow
from backend.extensions import db
from backend.pagination import paginate
from backend.reviews import explanations, sampling, services
from backend.reviews.models import Callback, Review
from backend.scope import scoped_or_404, tasks_clause
from backend.tasks.models import Task
from schemas.reviews import (
    CallbackListArgs,
    CallbackPageSchema,
    CallbackRecordSchema,
    CallbackSchema,
    DrawCreateSchema,
    DrawResultSchema,
    ExplainSchema,
    ExplanationSchema,
    QueueArgs,
    QueuePageSchema,
    ReviewCreateSchema,
    ReviewListArgs,
    ReviewPageSchema,
    ReviewSchema,
    UnlockSchema,
)

blp = Blueprint("reviews", __name__, url_prefix="/api/v1/reviews", description="Reviews of visits")
callbacks_blp = Blueprint("callbacks", __name__, url_prefix="/api/v1/callbacks",
                          description="Phone call-backs (电话回访) to a monthly random sample of visits")


@blp.get("/queue")
@roles("admin", "supervisor", "provider_manager")
@blp.arguments(QueueArgs, location="query")
@blp.response(200, QueuePageSchema)
def review_queue(args):
    """Visits needing review with no current approval or rejection, oldest first; those awaiting
    an explanation stay, marked."""
    query = services.review_queue(g.user, provider_id=args.get("provider_id"), flag=args.get("flag"),
                                  date_from=args.get("date_from"), date_to=args.get("date_to"))
    page = paginate(query, page=args["page"], per_page=args["per_page"])
    return {**page, "items": services.queue_entries(page["items"])}


@blp.post("")
@roles("admin", "supervisor")
@blp.arguments(ReviewCreateSchema)
@blp.response(201, ReviewSchema)
def create_review(body):
    """Approve, reject or ask for an explanation, with a reason code of that decision."""
    task = scoped_or_404(Task, body["task_id"], tasks_clause(g.user), what="task")
    review = services.decide(task, body["decision"], body["reason_code"], body["comment"], by=g.user, at=utcnow())
    db.session.commit()
    return review


@blp.get("")
@roles("admin", "supervisor", "provider_manager")
@blp.arguments(ReviewListArgs, location="query")
@blp.response(200, ReviewPageSchema)
def list_reviews(args):
    """Every decision on a visit, first to last, superseded ones included."""
    task = scoped_or_404(Task, args["task_id"], tasks_clause(g.user), what="task")
    return paginate(services.history(task), page=args["page"], per_page=args["per_page"])


@blp.post("/<int:review_id>/unlock")
@roles("admin")
@blp.arguments(UnlockSchema)
@blp.response(200, ReviewSchema)
def unlock_review(body, review_id):
    review = scoped_or_404(Review, review_id, true(), what="review", for_update=True)  # admins see every review
    services.unlock(review, body["reason"], by=g.user, at=utcnow())
    db.session.commit()
    return review


@blp.post("/<int:review_id>/explanation")
@roles("provider_manager")
@blp.arguments(ExplainSchema)
@blp.response(201, ExplanationSchema)
def explain_review(body, review_id):
    """The provider's manager answers a request for an explanation of one of its visits."""
    review = scoped_or_404(Review, review_id, Review.task_id.in_(select(Task.id).where(tasks_clause(g.user))),
                           what="review", for_update=True)
    explanation = explanations.explain(review, body["text"], by=g.user, at=utcnow())
    db.session.commit()
    return explanation


@callbacks_blp.post("/draws")
@roles("admin", "supervisor")
@callbacks_blp.arguments(DrawCreateSchema)
@callbacks_blp.response(200, DrawResultSchema)
def draw_callbacks(body):
    """Each provider's draw for an ended month: the existing one, or a new one (logged with its seed)."""
    draws = sampling.draw_callbacks(body["month"], share=body["share"], seed=body["seed"], by=g.user, at=utcnow(),
                                    redraw=body["redraw"], reason=body["reason"])
    db.session.commit()
    return {"month": body["month"], "draws": draws}


@callbacks_blp.get("")
@roles("admin", "supervisor")
@callbacks_blp.arguments(CallbackListArgs, location="query")
@callbacks_blp.response(200, CallbackPageSchema)
def list_callbacks(args):
    return paginate(sampling.listed(g.user, args), page=args["page"], per_page=args["per_page"])


@callbacks_blp.post("/<int:callback_id>")
@roles("admin", "supervisor")
@callbacks_blp.arguments(CallbackRecordSchema)
@callbacks_blp.response(200, CallbackSchema)
def record_callback(body, callback_id):
    """The elder reached (confirming the visit or not, and their satisfaction) or unreachable."""
    callback = scoped_or_404(Callback, callback_id, sampling.callbacks_clause(g.user), what="callback",
                             for_update=True)
    sampling.record_callback(callback, by=g.user, at=utcnow(), **body)
    db.session.commit()
    return callback
