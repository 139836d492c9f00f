"""/rectifications: orders to put things right by a deadline (限期整改), and their lifecycle.

Supervisors (providers of their region) and admins issue and decide; a provider manager reads
their provider's orders and responds. An order out of scope answers 404.
"""

from flask import g

from backend.api import Blueprint
from backend.auth.access import roles
from backend.clock import utcnow
from backend.extensions import db
from backend.pagination import paginate
from backend.rectifications import services
from backend.rectifications.models import Rectification
from backend.scope import scoped_or_404
from schemas.rectifications import (
    AcceptSchema,
    EscalateSchema,
    ExtendSchema,
    RectificationCreateSchema,
    RectificationListArgs,
    RectificationOrderPageSchema,
    RectificationOrderSchema,
    RespondSchema,
)

blp = Blueprint("rectifications", __name__, url_prefix="/api/v1/rectifications",
                description="Rectification orders (限期整改) to providers")

READERS = ("admin", "supervisor", "provider_manager")


@blp.get("")
@roles(*READERS)
@blp.arguments(RectificationListArgs, location="query")
@blp.response(200, RectificationOrderPageSchema)
def list_rectifications(args):
    """Open orders first, by deadline; `overdue=true` for those past it with no response."""
    return paginate(services.listed(g.user, args, now=utcnow()), page=args["page"], per_page=args["per_page"])


@blp.post("")
@roles("admin", "supervisor")
@blp.arguments(RectificationCreateSchema)
@blp.response(201, RectificationOrderSchema)
def create_rectification(body):
    """Issue an order to a provider of the caller's region, from the monthly list or ad hoc."""
    order = services.issue(**body, by=g.user, at=utcnow())
    db.session.commit()
    return order


@blp.get("/<int:rectification_id>")
@roles(*READERS)
@blp.response(200, RectificationOrderSchema)
def get_rectification(rectification_id):
    return _order(rectification_id)


@blp.post("/<int:rectification_id>/respond")
@roles("provider_manager")
@blp.arguments(RespondSchema)
@blp.response(200, RectificationOrderSchema)
def respond(body, rectification_id):
    """The provider's manager says what was done."""
    order = services.respond(_order(rectification_id, for_update=True), body["response"], by=g.user, at=utcnow(),
                             version=body["version"])
    db.session.commit()
    return order


@blp.post("/<int:rectification_id>/accept")
@roles("admin", "supervisor")
@blp.arguments(AcceptSchema)
@blp.response(200, RectificationOrderSchema)
def accept(body, rectification_id):
    order = services.accept(_order(rectification_id, for_update=True), body["note"], by=g.user, at=utcnow(),
                            version=body["version"])
    db.session.commit()
    return order


@blp.post("/<int:rectification_id>/extend")
@roles("admin", "supervisor")
@blp.arguments(ExtendSchema)
@blp.response(200, RectificationOrderSchema)
def extend(body, rectification_id):
    order = services.extend(_order(rectification_id, for_update=True), body["due_on"], body["note"], by=g.user,
                            at=utcnow(), version=body["version"])
    db.session.commit()
    return order


@blp.post("/<int:rectification_id>/escalate")
@roles("admin", "supervisor")
@blp.arguments(EscalateSchema)
@blp.response(200, RectificationOrderSchema)
def escalate(body, rectification_id):
    order = services.escalate(_order(rectification_id, for_update=True), body["note"], by=g.user, at=utcnow(),
                              version=body["version"])
    db.session.commit()
    return order


def _order(rectification_id: int, *, for_update: bool = False) -> Rectification:
    return scoped_or_404(Rectification, rectification_id, services.rectifications_clause(g.user),
                         what="rectification", for_update=for_update)
