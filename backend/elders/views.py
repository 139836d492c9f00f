"""GET/POST /elders, GET/PATCH /elders/{id}, GET/POST /elders/{id}/assessments,
GET/PUT /elders/{id}/risk-tier.

Everyone reads the elders of their own scope; admins register and edit them; supervisors (and
admins) set an elder's risk tier, with a reason. ID-card numbers are shown in full to admins only.
"""

from functools import wraps

from flask import g, request
from sqlalchemy import select

from backend import clock
from backend.api import Blueprint
from backend.audit import reads
from backend.auth.access import roles
from backend.elders import risk, services
from backend.elders.models import Assessment
from backend.extensions import db
from backend.pagination import paginate
from schemas.common import PageArgs
from schemas.elders import (
    AssessmentCreateSchema,
    AssessmentPageSchema,
    AssessmentSchema,
    ElderCreateSchema,
    ElderListArgs,
    ElderPageSchema,
    ElderSchema,
    ElderUpdateSchema,
    RiskTierSchema,
    RiskTierUpdateSchema,
    revealing_id_cards,
)

blp = Blueprint("elders", __name__, url_prefix="/api/v1/elders", description="Elders and their assessments")


def id_cards_for_admins(view):
    """Wraps the response dump: admins see ID-card numbers in full, everyone else masked. A GET
    records the numbers it shows (the view names them) and commits that record after the dump,
    so that the elders are not read again after the commit expired them."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        with revealing_id_cards(g.user.role == "admin"):
            response = view(*args, **kwargs)
        if request.method == "GET":
            db.session.commit()
        return response
    return wrapper


@blp.get("")
@id_cards_for_admins
@blp.arguments(ElderListArgs, location="query")
@blp.response(200, ElderPageSchema)
def list_elders(args):
    """The elders of the caller's scope; caregivers see the elders of their own tasks."""
    page = paginate(services.listed(g.user, args), page=args["page"], per_page=args["per_page"])
    if g.user.role == "admin":
        reads.id_cards_read(page["items"])
    return page


@blp.get("/<int:elder_id>")
@id_cards_for_admins
@blp.response(200, ElderSchema)
def get_elder(elder_id):
    elder = services.visible_elder(elder_id, viewer=g.user)
    if g.user.role == "admin":
        reads.id_cards_read([elder])
    return elder


@blp.post("")
@roles("admin")
@id_cards_for_admins
@blp.arguments(ElderCreateSchema)
@blp.response(201, ElderSchema)
def create_elder(args):
    elder = services.create_elder(args, by=g.user, now=clock.utcnow())
    db.session.commit()
    return elder


@blp.patch("/<int:elder_id>")
@roles("admin")
@id_cards_for_admins
@blp.arguments(ElderUpdateSchema)
@blp.response(200, ElderSchema)
def update_elder(args, elder_id):
    """Send the `version` you read; if someone changed the elder since, the answer is 409."""
    elder = services.visible_elder(elder_id, viewer=g.user, for_update=True)
    elder = services.update_elder(elder, args, by=g.user, now=clock.utcnow())
    db.session.commit()
    return elder


@blp.get("/<int:elder_id>/assessments")
@blp.arguments(PageArgs, location="query")
@blp.response(200, AssessmentPageSchema)
def list_assessments(args, elder_id):
    elder = services.visible_elder(elder_id, viewer=g.user)
    query = select(Assessment).where(Assessment.elder_id == elder.id) \
        .order_by(Assessment.assessed_on.desc(), Assessment.id.desc())
    return paginate(query, page=args["page"], per_page=args["per_page"])


@blp.post("/<int:elder_id>/assessments")
@roles("admin", "supervisor")
@blp.arguments(AssessmentCreateSchema)
@blp.response(201, AssessmentSchema)
def create_assessment(args, elder_id):
    """Record the four group scores; the server computes the total and the capability level."""
    elder = services.visible_elder(elder_id, viewer=g.user, for_update=True)
    assessment = services.add_assessment(elder, args, by=g.user, now=clock.utcnow())
    db.session.commit()
    return assessment


@blp.get("/<int:elder_id>/risk-tier")
@blp.response(200, RiskTierSchema)
def get_risk_tier(elder_id):
    """The tier in force beside the one suggested from the categories, age and assessment level."""
    elder = services.visible_elder(elder_id, viewer=g.user)
    return risk.standing(elder, now=clock.utcnow())


@blp.put("/<int:elder_id>/risk-tier")
@roles("admin", "supervisor")
@blp.arguments(RiskTierUpdateSchema)
@blp.response(200, RiskTierSchema)
def put_risk_tier(args, elder_id):
    """Set the tier, suggested or not, saying why; patrol plans following it are rescheduled. Send the
    elder's `version` you read; if the elder changed since, the answer is 409."""
    elder = services.visible_elder(elder_id, viewer=g.user, for_update=True)
    now = clock.utcnow()
    risk.set_risk_tier(elder, args["risk_tier"], args["reason"], version=args["version"], by=g.user, now=now)
    db.session.commit()
    return risk.standing(elder, now=now)
