"""Console pages of rectification orders (限期整改): the list, a new order (from the monthly
rectification list, prefilled, or ad hoc), and one order with its history and the forms of its
lifecycle: the provider's manager responds, the supervisor accepts, extends or escalates.

Scope and every rule are the rectification services': the page only reads the form and shows
what the service said.
"""

from datetime import date

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from backend.clock import local_today, utcnow
from backend.console.display import N_, problem_message, user_names
from backend.console.forms import integer, invalid_fields_message, load_query, repeated
from backend.console.session import CONSOLE_ROLES, console_login_required, open_to_provider_managers
from backend.console.views import bp, page
from backend.errors import Problem, ValidationFailed
from backend.extensions import db
from backend.pagination import paginate
from backend.providers.models import Provider
from backend.rectifications import services
from backend.rectifications.models import Rectification
from backend.scope import scoped_or_404, supervised_providers
from schemas.rectifications import RectificationListArgs
from schemas.vocab import RECTIFICATION_SOURCES, RECTIFICATION_STATUSES

FILTERS = ("provider_id", "status", "overdue")
FIELD_NAMES = {"provider_id": N_("Provider"), "status": N_("Status"), "overdue": N_("Overdue"), "page": N_("Page")}
DEFAULT_DAYS = 15  # a deadline two weeks and a day out, changed on the form as needed

page("console.rectifications", N_("Rectification orders"),
     N_("Orders to providers to put things right by a deadline (限期整改), and their answers."), order=45,
     roles=CONSOLE_ROLES)


@bp.get("/rectifications")
@console_login_required
@open_to_provider_managers
def rectifications():
    args, errors = load_query(RectificationListArgs(), lists=("status",))
    query = repeated(FILTERS, lists=("status",))
    result = {"items": [], "meta": {"page": 1, "pages": 0, "total": 0}}
    if not errors:
        listed = services.listed(g.user, args, now=utcnow()).options(selectinload(Rectification.provider))
        result = paginate(listed, page=args["page"], per_page=args["per_page"])
    error = invalid_fields_message(errors, FIELD_NAMES) if errors else None
    return render_template("console/rectifications.html", items=result["items"], meta=result["meta"], query=query,
                           error=error, statuses=RECTIFICATION_STATUSES, providers=_providers(),
                           may_issue=g.user.role in services.ISSUERS), 422 if error else 200


@bp.get("/rectifications/new")
@console_login_required
def new_rectification():
    """The form, prefilled from the query string (the monthly report's rectification list links here)."""
    form = {name: request.args.get(name, "") for name in ("provider_id", "month", "findings", "task_ids")}
    form["source"] = "monthly_list" if form["month"] else "ad_hoc"
    return _new_page(form)


@bp.post("/rectifications")
@console_login_required
def create_rectification():
    form = {name: request.form.get(name, "").strip()
            for name in ("provider_id", "source", "month", "findings", "due_on", "task_ids")}
    try:
        order = services.issue(provider_id=integer("provider_id", form["provider_id"]) or 0,
                               findings=form["findings"], due_on=_date("due_on", form["due_on"]),
                               source=form["source"] if form["source"] in RECTIFICATION_SOURCES else "ad_hoc",
                               month=form["month"] or None, task_ids=_ids(form["task_ids"]),
                               by=g.user, at=utcnow())
    except Problem as problem:
        db.session.rollback()
        return _new_page(form, error=problem_message(problem), status=problem.code)
    db.session.commit()
    flash(_("Rectification order issued."))
    return redirect(url_for(".rectification_page", rectification_id=order.id))


@bp.get("/rectifications/<int:rectification_id>")
@console_login_required
@open_to_provider_managers
def rectification_page(rectification_id):
    return _detail(_order(rectification_id))


@bp.post("/rectifications/<int:rectification_id>/<any(respond, accept, extend, escalate):step>")
@console_login_required
@open_to_provider_managers
def rectification_step(rectification_id, step):
    order = _order(rectification_id, for_update=True)
    form = request.form
    at = utcnow()
    try:
        version = integer("version", form.get("version"))
        if step == "respond":
            services.respond(order, form.get("response", ""), by=g.user, at=at, version=version)
        elif step == "accept":
            services.accept(order, form.get("note"), by=g.user, at=at, version=version)
        elif step == "extend":
            services.extend(order, _date("due_on", form.get("due_on")), form.get("note"), by=g.user, at=at,
                            version=version)
        else:
            services.escalate(order, form.get("note", ""), by=g.user, at=at, version=version)
        db.session.flush()
    except Problem as problem:
        db.session.rollback()
        return _detail(_order(rectification_id), error=problem_message(problem), form=form, step=step,
                       status=problem.code)
    db.session.commit()
    flash({"respond": _("Response sent."), "accept": _("Rectification accepted."),
           "extend": _("Deadline extended."), "escalate": _("Rectification escalated.")}[step])
    return redirect(url_for(".rectification_page", rectification_id=rectification_id))


def _order(rectification_id: int, *, for_update: bool = False) -> Rectification:
    return scoped_or_404(Rectification, rectification_id, services.rectifications_clause(g.user),
                         what="rectification", for_update=for_update)


def _providers() -> list[tuple[int, str]]:
    """Providers the caller may issue orders to (or, for a provider manager, their own)."""
    if g.user.role == "provider_manager":
        query = select(Provider.id, Provider.name).where(Provider.id == g.user.provider_id)
    else:
        query = select(Provider.id, Provider.name).where(
            Provider.is_active.is_(True), Provider.id.in_(supervised_providers(g.user)))
    return [tuple(row) for row in db.session.execute(query.order_by(Provider.name))]


def _new_page(form: dict, *, error: str | None = None, status: int = 200):
    form.setdefault("due_on", "")
    if not form["due_on"]:
        form["due_on"] = date.fromordinal(local_today(utcnow()).toordinal() + DEFAULT_DAYS).isoformat()
    return render_template("console/rectification_new.html", form=form, providers=_providers(), error=error,
                           sources=RECTIFICATION_SOURCES), status


def _detail(order: Rectification, *, error: str | None = None, form=None, step: str | None = None,
            status: int = 200):
    names = user_names([e.by_id for e in order.events] + [order.issued_by_id, order.responded_by_id])
    return render_template(
        "console/rectification.html", order=order, names=names, error=error, step=step, form=form or {},
        is_open=order.status in services.OPEN, may_decide=g.user.role in services.ISSUERS,
        may_respond=g.user.role == "provider_manager" and g.user.provider_id == order.provider_id,
        today=local_today(utcnow())), status


def _date(field: str, text: str | None) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise ValidationFailed(field, _l("not a date")) from None


def _ids(text: str) -> list[int]:
    """Task ids typed or pasted, separated by commas, spaces or new lines."""
    parts = [part for part in text.replace("，", ",").replace(",", " ").split() if part]
    return [integer("task_ids", part) for part in parts]
