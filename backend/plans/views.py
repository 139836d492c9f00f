"""Service types (/service-types) and plans (/plans/care, /plans/patrol).

Everyone signed in reads the service types; admins add and change them. Admins and supervisors
read plans (supervisors those of their subtree's elders); admins create, edit and end them.
"""

from flask import g
from sqlalchemy import select

from backend import clock
from backend.api import Blueprint
from backend.auth.access import roles
from backend.errors import NotFound
from backend.extensions import db
from backend.pagination import paginate
from backend.plans import services
from backend.plans.models import CarePlan, PatrolPlan, ServiceType
from schemas.plans import (
    CarePlanCreateSchema,
    CarePlanListArgs,
    CarePlanPageSchema,
    CarePlanSchema,
    CarePlanUpdateSchema,
    PatrolPlanCreateSchema,
    PatrolPlanListArgs,
    PatrolPlanPageSchema,
    PatrolPlanSchema,
    PatrolPlanUpdateSchema,
    PlanEndSchema,
    ServiceTypeCreateSchema,
    ServiceTypeListArgs,
    ServiceTypePageSchema,
    ServiceTypeSchema,
    ServiceTypeUpdateSchema,
)

blp = Blueprint("plans", __name__, url_prefix="/api/v1/plans", description="Care plans and patrol plans")
types_blp = Blueprint("service_types", __name__, url_prefix="/api/v1/service-types",
                      description="The 10+N home services")


# ------------------------------------------------------------------ service types

@types_blp.get("")
@types_blp.arguments(ServiceTypeListArgs, location="query")
@types_blp.response(200, ServiceTypePageSchema)
def list_service_types(args):
    query = select(ServiceType)
    if "is_active" in args:
        query = query.where(ServiceType.is_active == args["is_active"])
    query = query.order_by(ServiceType.is_builtin.desc(), ServiceType.code)
    return paginate(query, page=args["page"], per_page=args["per_page"])


@types_blp.get("/<string:code>")
@types_blp.response(200, ServiceTypeSchema)
def get_service_type(code):
    return _service_type(code)


@types_blp.post("")
@roles("admin")
@types_blp.arguments(ServiceTypeCreateSchema)
@types_blp.response(201, ServiceTypeSchema)
def create_service_type(args):
    """Add a local ("N") service type."""
    service_type = services.create_service_type(args, by=g.user)
    db.session.commit()
    return service_type


@types_blp.patch("/<string:code>")
@roles("admin")
@types_blp.arguments(ServiceTypeUpdateSchema)
@types_blp.response(200, ServiceTypeSchema)
def update_service_type(args, code):
    """Rename or retime a type; `is_active: false` retires it from new plans."""
    service_type = services.update_service_type(_service_type(code), args, by=g.user)
    db.session.commit()
    return service_type


def _service_type(code: str) -> ServiceType:
    service_type = db.session.get(ServiceType, code)
    if service_type is None:
        raise NotFound("service type")
    return service_type


# ------------------------------------------------------------------ care plans

@blp.get("/care")
@roles("admin", "supervisor")
@blp.arguments(CarePlanListArgs, location="query")
@blp.response(200, CarePlanPageSchema)
def list_care_plans(args):
    query = select(CarePlan).where(services.plans_clause(g.user, CarePlan.elder_id))
    for name in ("elder_id", "provider_id", "status"):
        if name in args:
            query = query.where(getattr(CarePlan, name) == args[name])
    return paginate(query.order_by(CarePlan.id), page=args["page"], per_page=args["per_page"])


@blp.get("/care/<int:plan_id>")
@roles("admin", "supervisor")
@blp.response(200, CarePlanSchema)
def get_care_plan(plan_id):
    return services.visible_plan(CarePlan, plan_id, viewer=g.user)


@blp.post("/care")
@roles("admin")
@blp.arguments(CarePlanCreateSchema)
@blp.response(201, CarePlanSchema)
def create_care_plan(args):
    """Create a family elder-care bed plan; its tasks for the coming days exist at once."""
    plan = services.create_care_plan(**args, by=g.user, now=clock.utcnow())
    db.session.commit()
    return plan


@blp.patch("/care/<int:plan_id>")
@roles("admin")
@blp.arguments(CarePlanUpdateSchema)
@blp.response(200, CarePlanSchema)
def update_care_plan(args, plan_id):
    """New dates or items replace the future unstarted tasks; a new assignee alone takes them over."""
    plan = services.visible_plan(CarePlan, plan_id, viewer=g.user, for_update=True)
    plan = services.update_care_plan(plan, args, by=g.user, now=clock.utcnow())
    db.session.commit()
    return plan


@blp.post("/care/<int:plan_id>/end")
@roles("admin")
@blp.arguments(PlanEndSchema)
@blp.response(200, CarePlanSchema)
def end_care_plan(args, plan_id):
    """End the plan after `ends_on`, cancelling the tasks scheduled after it."""
    plan = services.visible_plan(CarePlan, plan_id, viewer=g.user, for_update=True)
    plan = services.end_care_plan(plan, ends_on=args["ends_on"], by=g.user, now=clock.utcnow())
    db.session.commit()
    return plan


# ------------------------------------------------------------------ patrol plans

@blp.get("/patrol")
@roles("admin", "supervisor")
@blp.arguments(PatrolPlanListArgs, location="query")
@blp.response(200, PatrolPlanPageSchema)
def list_patrol_plans(args):
    query = select(PatrolPlan).where(services.plans_clause(g.user, PatrolPlan.elder_id))
    for name in ("elder_id", "worker_id", "status"):
        if name in args:
            query = query.where(getattr(PatrolPlan, name) == args[name])
    return paginate(query.order_by(PatrolPlan.id), page=args["page"], per_page=args["per_page"])


@blp.get("/patrol/<int:plan_id>")
@roles("admin", "supervisor")
@blp.response(200, PatrolPlanSchema)
def get_patrol_plan(plan_id):
    return services.visible_plan(PatrolPlan, plan_id, viewer=g.user)


@blp.post("/patrol")
@roles("admin")
@blp.arguments(PatrolPlanCreateSchema)
@blp.response(201, PatrolPlanSchema)
def create_patrol_plan(args):
    """Create a patrol plan; its visits follow the tier's frequency (the elder's risk tier by default)."""
    plan = services.create_patrol_plan(**args, by=g.user, now=clock.utcnow())
    db.session.commit()
    return plan


@blp.patch("/patrol/<int:plan_id>")
@roles("admin")
@blp.arguments(PatrolPlanUpdateSchema)
@blp.response(200, PatrolPlanSchema)
def update_patrol_plan(args, plan_id):
    """A new worker takes over the open tasks; a new tier or new dates replace the future ones."""
    plan = services.visible_plan(PatrolPlan, plan_id, viewer=g.user, for_update=True)
    plan = services.update_patrol_plan(plan, args, by=g.user, now=clock.utcnow())
    db.session.commit()
    return plan


@blp.post("/patrol/<int:plan_id>/end")
@roles("admin")
@blp.arguments(PlanEndSchema)
@blp.response(200, PatrolPlanSchema)
def end_patrol_plan(args, plan_id):
    plan = services.visible_plan(PatrolPlan, plan_id, viewer=g.user, for_update=True)
    plan = services.end_patrol_plan(plan, ends_on=args["ends_on"], by=g.user, now=clock.utcnow())
    db.session.commit()
    return plan
