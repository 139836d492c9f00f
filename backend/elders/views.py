"""GET/POST /elders, GET/PATCH /elders/{id}, GET/POST /elders/{id}/assessments.

Everyone reads the elders of their own scope; admins register and edit them. ID-card numbers
are shown in full to admins only.
"""

from functools import wraps

from flask import g
from flask_smorest import Blueprint
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from backend import clock
from backend.auth.access import roles
from backend.elders import services
from backend.elders.models import Assessment, Elder, ElderCategory
from backend.extensions import db
from backend.pagination import paginate
from backend.scope import elders_clause
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
    revealing_id_cards,
)

blp = Blueprint("elders", __name__, url_prefix="/api/v1/elders", description="Elders and their assessments")


def id_cards_for_admins(view):
    """Wraps the response dump: admins see ID-card numbers in full, everyone else masked."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        with revealing_id_cards(g.user.role == "admin"):
            return view(*args, **kwargs)
    return wrapper


@blp.get("")
@id_cards_for_admins
@blp.arguments(ElderListArgs, location="query")
@blp.response(200, ElderPageSchema)
def list_elders(args):
    """The elders of the caller's scope; caregivers see the elders of their own tasks."""
    query = select(Elder).where(elders_clause(g.user)).options(selectinload(Elder.community))
    for name in ("community_id", "risk_tier", "is_active"):
        if name in args:
            query = query.where(getattr(Elder, name) == args[name])
    if "category" in args:
        query = query.where(exists().where(ElderCategory.elder_id == Elder.id,
                                           ElderCategory.category == args["category"]))
    if "q" in args:
        query = query.where(Elder.name.contains(args["q"], autoescape=True))
    return paginate(query.order_by(Elder.name, Elder.id), page=args["page"], per_page=args["per_page"])


@blp.get("/<int:elder_id>")
@id_cards_for_admins
@blp.response(200, ElderSchema)
def get_elder(elder_id):
    return services.visible_elder(elder_id, viewer=g.user)


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
