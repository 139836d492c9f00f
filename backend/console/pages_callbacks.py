"""Console pages of phone call-backs (电话回访): a month's draws and its call-backs, the draw button,
and one call-back with the form to record what the elder said.

Drawing follows the sampling service's rules: supervisors draw with the defaults, only admins
choose the share or the seed or redraw (with a reason), and only an ended month can be drawn.
"""


from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from backend.clock import last_month, utcnow
from backend.console.display import N_, problem_message, user_names
from backend.console.forms import integer, invalid_fields_message, load_query, repeated
from backend.console.session import console_login_required
from backend.console.views import bp, page
from backend.errors import Problem, ValidationFailed
from backend.extensions import db
from backend.pagination import paginate
from backend.providers.models import Provider
from backend.reviews import sampling
from backend.reviews.models import Callback, CallbackDraw
from backend.scope import scoped_or_404
from schemas.reviews import CALLBACK_OUTCOMES, CALLBACK_STATUSES, CallbackListArgs

FILTERS = ("month", "provider_id", "status")
FIELD_NAMES = {"month": N_("Month"), "provider_id": N_("Provider"), "status": N_("Status"), "page": N_("Page")}

page("console.callbacks", N_("Call-backs"), N_("Phone a random sample of last month's visits."), order=40)


@bp.get("/callbacks")
@console_login_required
def callbacks():
    source = request.args.copy()
    source.setdefault("month", last_month())
    args, errors = load_query(CallbackListArgs(), lists=("status",), source=source)
    query = {**repeated(FILTERS, lists=("status",)), "month": source["month"]}
    result = {"items": [], "meta": {"page": 1, "pages": 0, "total": 0}}
    draws, month_ended = [], True
    if not errors:
        month_ended = sampling.month_bounds(args["month"])[1] <= utcnow()
        result = paginate(sampling.listed(g.user, args), page=args["page"], per_page=args["per_page"])
        draws = db.session.execute(select(CallbackDraw).where(CallbackDraw.month == args["month"])
                                   .order_by(CallbackDraw.provider_id, CallbackDraw.round)).scalars().all()
    error = invalid_fields_message(errors, FIELD_NAMES) if errors else None
    providers = dict(db.session.execute(select(Provider.id, Provider.name).order_by(Provider.name)).all())
    return render_template("console/callbacks.html", items=result["items"], meta=result["meta"], query=query,
                           draws=draws, month_ended=month_ended, providers=providers, statuses=CALLBACK_STATUSES,
                           error=error,
                           drawers=user_names(d.drawn_by_id for d in draws)), 422 if error else 200


@bp.post("/callbacks/draw")
@console_login_required
def draw_callbacks():
    form = request.form
    month = form.get("month", "").strip()
    try:
        share = form.get("share", "").strip()
        try:
            share = float(share) / 100 if share else None
        except ValueError:
            raise ValidationFailed("share", _l("not a number")) from None
        draws = sampling.draw_callbacks(month, share=share, seed=integer("seed", form.get("seed")), by=g.user,
                                        at=utcnow(), redraw=form.get("redraw") == "yes", reason=form.get("reason"))
    except Problem as problem:
        db.session.rollback()
        flash(problem_message(problem), "error")
        return redirect(url_for(".callbacks", month=month))
    db.session.commit()
    if not draws:  # say why the page still shows no draw, rather than "drawn: 0"
        flash(_("Nothing to draw: no provider has a completed service visit in %(month)s.", month=month), "error")
        return redirect(url_for(".callbacks", month=month))
    flash(_("Drawn: %(n)s call-backs over %(p)s providers.", n=sum(len(d.drawn_task_ids) for d in draws),
            p=len(draws)))
    return redirect(url_for(".callbacks", month=month))


@bp.get("/callbacks/<int:callback_id>")
@console_login_required
def callback_page(callback_id):
    return _detail(_callback(callback_id))


@bp.post("/callbacks/<int:callback_id>")
@console_login_required
def record_callback(callback_id):
    callback = _callback(callback_id, for_update=True)
    form = request.form
    try:
        outcome = form.get("status", "done")
        if outcome not in CALLBACK_OUTCOMES:
            raise ValidationFailed("status", _l("done or unreachable"))
        confirmed = {"yes": True, "no": False}.get(form.get("confirmed", ""))
        sampling.record_callback(callback, status=outcome, confirmed=confirmed,
                                 satisfaction=integer("satisfaction", form.get("satisfaction")),
                                 note=form.get("note"), by=g.user, at=utcnow())
    except Problem as problem:
        db.session.rollback()
        return _detail(_callback(callback_id), error=problem_message(problem), form=form, status=problem.code)
    db.session.commit()
    flash(_("Call-back recorded."))
    return redirect(url_for(".callbacks", month=callback.draw.month))



def _callback(callback_id: int, *, for_update: bool = False) -> Callback:
    return scoped_or_404(Callback, callback_id, sampling.callbacks_clause(g.user), what="callback",
                         for_update=for_update)


def _detail(callback: Callback, *, error: str | None = None, form=None, status: int = 200):
    provider = db.session.get(Provider, callback.draw.provider_id)
    return render_template("console/callback.html", callback=callback, task=callback.task, provider=provider,
                           form=form or {}, error=error, names=user_names([callback.called_by_id])), status
