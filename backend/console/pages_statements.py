"""Console pages of settlement statements (结算单): a provider's month (the statement in force or
the live draft) with the issue button, one statement with its lines filterable by state, the
provider's confirm and dispute, the office's approval, and the CSV/XLSX/PDF downloads.

The statements and their rules are backend/settlement's; a provider or statement outside the
user's scope answers 404, as in the API.
"""


from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from backend.clock import last_month, utcnow
from backend.console.display import N_, problem_message
from backend.console.forms import invalid_fields_message, load_query
from backend.console.session import CONSOLE_ROLES, console_login_required, open_to_provider_managers
from backend.console.views import bp, page
from backend.errors import Problem
from backend.extensions import db
from backend.providers.models import Provider
from backend.reviews.sampling import month_bounds
from backend.settlement import exports, lifecycle, services
from schemas.settlement import LINE_STATES, StatementArgs

# A page shows this many lines; a provider's month has thousands (the downloads hold them all).
SHOWN_LINES = 500
FIELD_NAMES = {"provider_id": N_("Provider"), "month": N_("Month"), "state": N_("State")}
DOWNLOADS = {"csv": ("text/csv; charset=utf-8", exports.to_csv), "xlsx": (exports.XLSX, exports.to_xlsx),
             "pdf": ("application/pdf", exports.to_pdf)}

page("console.statements", N_("Statements"), N_("Monthly settlement statements of providers: issue, dispute, "
                                                 "approve."), order=55, roles=CONSOLE_ROLES)


@bp.get("/statements")
@console_login_required
@open_to_provider_managers
def statements():
    providers = _providers()
    source = request.args.copy()
    source.setdefault("month", last_month())
    if providers and not source.get("provider_id"):
        source["provider_id"] = str(providers[0].id)
    args, errors = load_query(StatementArgs(), source=source)
    query = {name: source.get(name, "") for name in ("provider_id", "month", "state")}
    issued = db.session.execute(services.listed(g.user, {}).limit(50)).scalars().all()
    context = {"providers": [(p.id, p.name) for p in providers], "query": query, "issued": issued,
               "states": [(state, exports.word(state)) for state in LINE_STATES]}
    if not providers:  # a supervisor of a region no provider serves
        return render_template("console/statements.html", statement=None, error=None, **context)
    if errors:
        return render_template("console/statements.html", statement=None, **context,
                               error=invalid_fields_message(errors, FIELD_NAMES)), 422
    provider = services.provider_or_404(g.user, args["provider_id"])
    statement = services.month_view(provider, args["month"], state=args.get("state"))
    return render_template("console/statements.html", statement=statement, error=None, **context,
                           **_helpers(statement))


@bp.get("/statements/<int:statement_id>")
@console_login_required
@open_to_provider_managers
def statement(statement_id):
    return _statement_page(statement_id)


@bp.post("/statements/issue")
@console_login_required
def issue_statement():
    provider_id, month = request.form.get("provider_id", ""), request.form.get("month", "")
    provider = services.provider_or_404(g.user, int(provider_id) if provider_id.isdigit() else 0)
    try:
        issued = lifecycle.issue(provider, month, by=g.user, at=utcnow())
    except Problem as problem:
        db.session.rollback()
        flash(problem_message(problem), "error")
        return redirect(url_for(".statements", provider_id=provider.id, month=month))
    db.session.commit()
    flash(_("Statement issued: its lines are frozen."))
    return redirect(url_for(".statement", statement_id=issued.id))


@bp.post("/statements/<int:statement_id>/<any(confirm, dispute, approve):step>")
@console_login_required
@open_to_provider_managers
def answer_statement(statement_id, step):
    statement = services.statement_or_404(g.user, statement_id, for_update=True)
    try:
        if step == "confirm":
            lifecycle.confirm(statement, by=g.user, at=utcnow())
        elif step == "dispute":
            line_ids = [int(value) for value in request.form.getlist("line_ids") if value.isdigit()]
            lifecycle.dispute(statement, line_ids, request.form.get("reason", ""), by=g.user, at=utcnow())
        else:
            lifecycle.approve(statement, by=g.user, at=utcnow())
    except Problem as problem:
        db.session.rollback()
        return _statement_page(statement_id, error=problem_message(problem), status=problem.code)
    db.session.commit()
    flash({"confirm": _("Statement confirmed."), "dispute": _("Dispute recorded."),
           "approve": _("Statement approved and locked.")}[step])
    return redirect(url_for(".statement", statement_id=statement_id))


@bp.get("/statements/<int:statement_id>.<any(csv, xlsx, pdf):ext>")
@console_login_required
@open_to_provider_managers
def statement_download(statement_id, ext):
    shown = services.present(services.statement_or_404(g.user, statement_id))
    mimetype, write = DOWNLOADS[ext]
    name = f"statement-{shown['provider_id']}-{shown['month']}-{shown['seq']}.{ext}"
    return Response(write(shown), mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _statement_page(statement_id: int, *, error: str | None = None, status: int = 200):
    state = request.args.get("state") if request.args.get("state") in LINE_STATES else None
    shown = services.present(services.statement_or_404(g.user, statement_id), state=state)
    query = {"provider_id": shown["provider_id"], "month": shown["month"], "state": state or ""}
    context = {"providers": [], "query": query, "issued": [],
               "states": [(s, exports.word(s)) for s in LINE_STATES]}
    return render_template("console/statements.html", statement=shown, error=error, **context,
                           **_helpers(shown)), status


def _helpers(statement: dict) -> dict:
    names = exports.service_names()
    user = g.user
    status = statement["status"]
    return {
        "service_name": lambda code: names.get(code, code), "yuan": exports.yuan, "word": exports.word,
        "shown_lines": SHOWN_LINES,
        # A month is issued once it has ended: a month in progress shows its draft only.
        "may_issue": user.role in lifecycle.OFFICE and status in ("draft", "disputed")
        and month_bounds(statement["month"])[1] <= utcnow(),
        "may_answer": statement["id"] is not None and status in ("issued", "confirmed", "disputed")
        and lifecycle.may_answer(_stored(statement), user),
        "may_approve": user.role in lifecycle.OFFICE and status in ("issued", "confirmed", "disputed"),
        "downloads": {ext: url_for(".statement_download", statement_id=statement["id"], ext=ext) for ext in DOWNLOADS}
        if statement["id"] is not None else {},
    }


def _stored(statement: dict):
    from backend.settlement.models import Statement

    return db.session.get(Statement, statement["id"])


def _providers() -> list[Provider]:
    return db.session.execute(select(Provider).where(services.providers_clause(g.user, Provider.id))
                              .order_by(Provider.name, Provider.id)).scalars().all()

