"""Console pages of elders: the list with search, and one elder's page with their details (ID
number masked unless the reader is an admin), register status and its reports (forms in
pages_register.py), the risk tier beside the suggested one with the supervisor's override form,
assessments, door plates with the QR image, plans and recent visits.

An elder outside the reader's scope answers 404, as everywhere.
"""

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from backend.audit import reads
from backend.clock import local_today, utcnow
from backend.console.display import N_, problem_message, region_choices, user_names
from backend.console.forms import integer, invalid_fields_message, load_query, repeated
from backend.console.session import console_login_required
from backend.console.views import bp, page
from backend.elders import risk
from backend.elders import services as elders
from backend.errors import Forbidden, NotFound, Problem, ValidationFailed
from backend.extensions import db
from backend.pagination import paginate
from backend.plans.models import CarePlan, PatrolPlan
from backend.plates import services as plates
from backend.plates.models import DoorPlate
from backend.providers.models import Provider
from backend.regions.models import Region
from backend.register import services as register
from backend.scope import region_ids_clause
from backend.visitlog import queries
from schemas.elders import ElderListArgs, mask_id_card
from schemas.vocab import ELDER_CATEGORIES, RISK_TIERS
from sync.plates import qr_png

FILTERS = ("q", "community_id", "category", "risk_tier", "is_active")
FIELD_NAMES = {"q": N_("Name"), "community_id": N_("Community"), "category": N_("Category"),
               "risk_tier": N_("Risk tier"), "is_active": N_("Active"), "page": N_("Page")}
RECENT_VISITS = 10

page("console.elders_list", N_("Elders"), N_("Find an elder: details, assessments, door plate, plans and visits."),
     order=60)


@bp.get("/elders")
@console_login_required
def elders_list():
    args, errors = load_query(ElderListArgs())
    query = repeated(FILTERS)
    result = {"items": [], "meta": {"page": 1, "pages": 0, "total": 0}}
    if not errors:
        result = paginate(elders.listed(g.user, args), page=args["page"], per_page=args["per_page"])
    communities = db.session.execute(select(Region).where(Region.level == "community",
                                                          region_ids_clause(g.user, Region.id))
                                     .order_by(Region.path)).scalars().all()
    error = invalid_fields_message(errors, FIELD_NAMES) if errors else None
    return render_template("console/elders.html", items=result["items"], meta=result["meta"], query=query,
                           communities=region_choices(communities), categories=ELDER_CATEGORIES,
                           tiers=RISK_TIERS, error=error), 422 if error else 200


@bp.get("/elders/<int:elder_id>")
@console_login_required
def elder_page(elder_id):
    elder = elders.visible_elder(elder_id, viewer=g.user)
    care_plans = db.session.execute(select(CarePlan).where(CarePlan.elder_id == elder.id)
                                    .options(selectinload(CarePlan.items))
                                    .order_by(CarePlan.starts_on.desc())).scalars().all()
    patrol_plans = db.session.execute(select(PatrolPlan).where(PatrolPlan.elder_id == elder.id)
                                      .order_by(PatrolPlan.starts_on.desc())).scalars().all()
    door_plates = db.session.execute(select(DoorPlate).where(DoorPlate.elder_id == elder.id)
                                     .order_by(DoorPlate.issued_at.desc(), DoorPlate.id.desc())).scalars().all()
    providers = dict(db.session.execute(select(Provider.id, Provider.name)).all())
    visits = queries.visit_rows(g.user, queries.Filters(elder_id=elder.id), now=utcnow(), after=None,
                                limit=RECENT_VISITS)
    status_reports = db.session.execute(register.listed(g.user, {"elder_id": elder.id})).scalars().all()
    people = [item.assignee_id for plan in care_plans for item in plan.items] + [p.worker_id for p in patrol_plans] \
        + [r.reported_by_id for r in status_reports] + [r.decided_by_id for r in status_reports]
    now = utcnow()
    today = local_today(now)
    if g.user.role == "admin":
        reads.id_cards_read([elder])
    html = render_template(
        "console/elder.html", elder=elder, care_plans=care_plans, patrol_plans=patrol_plans, plates=door_plates,
        providers=providers, visits=visits, names=user_names(people + [elder.risk_tier_set_by_id]), today=today,
        status_reports=status_reports, risk=risk.standing(elder, now=now), tiers=RISK_TIERS,
        age=today.year - elder.birth_on.year - ((today.month, today.day) < (elder.birth_on.month, elder.birth_on.day)),
        id_card=elder.id_card_no if g.user.role == "admin" else mask_id_card(elder.id_card_no),
        community=db.session.get(Region, elder.community_id))
    db.session.commit()  # the record of an ID number shown in full
    return html


@bp.post("/elders/<int:elder_id>/risk-tier")
@console_login_required
def elder_risk_tier(elder_id):
    """A supervisor's (or admin's) override of the risk tier, with the reason: the API's PUT."""
    if g.user.role not in ("admin", "supervisor"):
        raise Forbidden()
    form = request.form
    try:
        elder = elders.visible_elder(elder_id, viewer=g.user, for_update=True)
        tier = form.get("risk_tier", "")
        if tier not in RISK_TIERS:
            raise ValidationFailed("risk_tier", _l("choose a risk tier"))
        risk.set_risk_tier(elder, tier, form.get("reason", ""), version=integer("version", form.get("version")),
                           by=g.user, now=utcnow())
    except Problem as problem:
        db.session.rollback()
        if problem.code == 404:
            raise
        flash(problem_message(problem), "error")
        return redirect(url_for(".elder_page", elder_id=elder_id, _anchor="risk-heading"))
    db.session.commit()
    flash(_("Risk tier set. Patrol plans that follow it are rescheduled."))
    return redirect(url_for(".elder_page", elder_id=elder_id, _anchor="risk-heading"))


@bp.get("/elders/<int:elder_id>/plate.png")
@console_login_required
def elder_plate_png(elder_id):
    elder = elders.visible_elder(elder_id, viewer=g.user)
    plate = plates.active_plate(elder)
    if plate is None or plate.kind != "static":
        raise NotFound("plate")
    return Response(qr_png(plates.plate_payload(plate)), mimetype="image/png",
                    headers={"Cache-Control": "private, no-store"})

