"""Console page of the review queue: visits needing review with no final decision, oldest first,
each linking to its history page where the decision is made."""

from flask import g, render_template
from sqlalchemy import select

from backend.console.display import N_
from backend.console.forms import invalid_fields_message, load_query, repeated
from backend.console.session import console_login_required
from backend.console.views import bp, page
from backend.extensions import db
from backend.pagination import paginate
from backend.providers.models import Provider
from backend.reviews import services as reviews
from schemas.reviews import QueueArgs
from schemas.visitlog import VISIT_FLAGS

FILTERS = ("provider_id", "flag", "date_from", "date_to")
FIELD_NAMES = {"provider_id": N_("Provider"), "flag": N_("Flag"), "date_from": N_("From"), "date_to": N_("To"),
               "page": N_("Page")}

page("console.review_queue", N_("Review queue"), N_("Visits waiting for a supervisor's decision."), order=20)


@bp.get("/reviews")
@console_login_required
def review_queue():
    args, errors = load_query(QueueArgs())
    query = repeated(FILTERS)
    result = {"items": [], "meta": {"page": 1, "pages": 0, "total": 0}}
    if not errors:
        result = paginate(reviews.review_queue(g.user, provider_id=args.get("provider_id"), flag=args.get("flag"),
                                               date_from=args.get("date_from"), date_to=args.get("date_to")),
                          page=args["page"], per_page=args["per_page"])
    providers = dict(db.session.execute(select(Provider.id, Provider.name).order_by(Provider.name)).all())
    error = invalid_fields_message(errors, FIELD_NAMES) if errors else None
    return render_template("console/reviews.html", entries=reviews.queue_entries(result["items"]),
                           meta=result["meta"], query=query, providers=providers, flags=VISIT_FLAGS,
                           error=error), 422 if error else 200
