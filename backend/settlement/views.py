"""/prices, /funding/{plan_id}, /copay-shares and /statements: settlement (结算).

The office (admins, supervisors) reads prices, funding and the co-pay table; admins set them.
Statements: admins read and issue any provider's, a supervisor only those of the providers
serving their region (others answer 404); supervisors and admins approve; a provider manager
reads, confirms and disputes only their own provider's (any other answers 404).
"""

from flask import Response, g

from backend.api import Blueprint
from backend.auth.access import roles
from backend.clock import local_today, utcnow
from backend.extensions import db
from backend.pagination import paginate
from backend.plans import services as plans
from backend.plans.models import CarePlan
from backend.settlement import exports, lifecycle, pricing, services
from schemas.settlement import (
    CopayTableSchema,
    DisputeSchema,
    FundingSchema,
    FundingUpdateSchema,
    LineArgs,
    PriceCreateSchema,
    PriceListArgs,
    PriceSchema,
    StatementArgs,
    StatementCreateSchema,
    StatementListArgs,
    StatementPageSchema,
    StatementSchema,
    StatementSummarySchema,
)

blp = Blueprint("settlement", __name__, url_prefix="/api/v1", description="Prices, funding and statements")

BINARY = {"type": "string", "format": "binary"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READERS = services.READERS


@blp.get("/prices")
@roles(*READERS)
@blp.arguments(PriceListArgs, location="query")
@blp.response(200, PriceSchema(many=True))
def list_prices(args):
    """Prices, a service type's newest first; a provider manager sees the general ones and their own."""
    provider_id = g.user.provider_id if g.user.role == "provider_manager" else args.get("provider_id")
    query = pricing.prices_query(service_type=args.get("service_type"), provider_id=provider_id, on=args.get("on"))
    return db.session.execute(query).scalars().all()


@blp.post("/prices")
@roles("admin")
@blp.arguments(PriceCreateSchema)
@blp.response(201, PriceSchema)
def create_price(args):
    """A new price from a date. Prices are never edited: issued statements keep what they froze."""
    price = pricing.create_price(args, by=g.user, at=utcnow())
    db.session.commit()
    return price


@blp.get("/funding/<int:plan_id>")
@roles("admin", "supervisor")
@blp.response(200, FundingSchema)
def get_funding(plan_id):
    """Who pays for a care plan; self-pay until set."""
    plan = plans.visible_plan(CarePlan, plan_id, viewer=g.user)
    return pricing.funding_of(plan) or {"care_plan_id": plan.id, "kind": "self_pay"}


@blp.put("/funding/<int:plan_id>")
@roles("admin")
@blp.arguments(FundingUpdateSchema)
@blp.response(200, FundingSchema)
def put_funding(args, plan_id):
    """Set who pays: government (政府购买), copay or self_pay, and a monthly cap. An ineligible elder's
    government or co-paid plan answers 422 not_eligible naming the rule, unless or_self_pay."""
    plan = plans.visible_plan(CarePlan, plan_id, viewer=g.user, for_update=True)
    rule = pricing.set_funding(plan, args, by=g.user, today=local_today(utcnow()), at=utcnow())
    db.session.commit()
    return rule


@blp.get("/copay-shares")
@roles("admin", "supervisor")
@blp.response(200, CopayTableSchema)
def get_copay_shares():
    """The government's share of co-paid plans by elder category and assessment level."""
    return {"shares": pricing.copay_table()}


@blp.put("/copay-shares")
@roles("admin")
@blp.arguments(CopayTableSchema)
@blp.response(200, CopayTableSchema)
def put_copay_shares(args):
    """Replace the whole table."""
    shares = pricing.replace_copay_table(args["shares"], by=g.user)
    db.session.commit()
    return {"shares": shares}


@blp.get("/statements")
@roles(*READERS)
@blp.arguments(StatementArgs, location="query")
@blp.response(200, StatementSchema)
def month_statement(args):
    """The provider's statement of the month in force, or the live draft when none is issued."""
    provider = services.provider_or_404(g.user, args["provider_id"])
    return services.month_view(provider, args["month"], state=args.get("state"))


@blp.get("/statements/issued")
@roles(*READERS)
@blp.arguments(StatementListArgs, location="query")
@blp.response(200, StatementPageSchema)
def list_statements(args):
    """Issued statements the caller may read, newest month first."""
    page = paginate(services.listed(g.user, args), page=args["page"], per_page=args["per_page"])
    return {**page, "items": [services.summary(s) for s in page["items"]]}


@blp.post("/statements")
@roles("admin", "supervisor")
@blp.arguments(StatementCreateSchema)
@blp.response(201, StatementSummarySchema)
def issue_statement(args):
    """Issue the month's statement: its lines are stored and never change. A disputed one is reissued."""
    provider = services.provider_or_404(g.user, args["provider_id"])
    statement = lifecycle.issue(provider, args["month"], by=g.user, at=utcnow())
    db.session.commit()
    return services.summary(statement)


@blp.get("/statements/<int:statement_id>")
@roles(*READERS)
@blp.arguments(LineArgs, location="query")
@blp.response(200, StatementSchema)
def get_statement(args, statement_id):
    """One statement with its lines (optionally of one state) and totals."""
    return services.present(services.statement_or_404(g.user, statement_id), state=args.get("state"))


@blp.post("/statements/<int:statement_id>/confirm")
@roles("admin", "provider_manager")
@blp.response(200, StatementSummarySchema)
def confirm_statement(statement_id):
    statement = services.statement_or_404(g.user, statement_id, for_update=True)
    lifecycle.confirm(statement, by=g.user, at=utcnow())
    db.session.commit()
    return services.summary(statement)


@blp.post("/statements/<int:statement_id>/dispute")
@roles("admin", "provider_manager")
@blp.arguments(DisputeSchema)
@blp.response(200, StatementSummarySchema)
def dispute_statement(args, statement_id):
    """Dispute lines with a reason; the supervisor reviews the visits and approves or reissues."""
    statement = services.statement_or_404(g.user, statement_id, for_update=True)
    lifecycle.dispute(statement, args["line_ids"], args["reason"], by=g.user, at=utcnow())
    db.session.commit()
    return services.summary(statement)


@blp.post("/statements/<int:statement_id>/approve")
@roles("admin", "supervisor")
@blp.response(200, StatementSummarySchema)
def approve_statement(statement_id):
    statement = services.statement_or_404(g.user, statement_id, for_update=True)
    lifecycle.approve(statement, by=g.user, at=utcnow())
    db.session.commit()
    return services.summary(statement)


def _export(statement_id: int, write, mimetype: str, extension: str) -> Response:
    statement = services.present(services.statement_or_404(g.user, statement_id))
    name = f"statement-{statement['provider_id']}-{statement['month']}-{statement['seq']}.{extension}"
    return Response(write(statement), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blp.get("/statements/<int:statement_id>.csv")
@roles(*READERS)
@blp.response(200, BINARY, content_type="text/csv", description="machine codes and fen, for finance systems")
def statement_csv(statement_id):
    return _export(statement_id, exports.to_csv, "text/csv; charset=utf-8", "csv")


@blp.get("/statements/<int:statement_id>.xlsx")
@roles(*READERS)
@blp.response(200, BINARY, content_type=XLSX, description="the statement's lines in the reader's language")
def statement_xlsx(statement_id):
    return _export(statement_id, exports.to_xlsx, XLSX, "xlsx")


@blp.get("/statements/<int:statement_id>.pdf")
@roles(*READERS)
@blp.response(200, BINARY, content_type="application/pdf", description="printable, with sign-off blocks")
def statement_pdf(statement_id):
    return _export(statement_id, exports.to_pdf, "application/pdf", "pdf")
