"""Settlement payloads: prices, funding rules, the co-pay share table and statements (结算单)."""

from marshmallow import validate

from schemas import fields
from schemas.common import Out, PageArgs, Strict, page_of
from schemas.vocab import ELDER_CATEGORIES

PRICE_UNITS = ("visit", "hour", "month")
FUNDING_KINDS = ("government", "copay", "self_pay")
STATEMENT_STATUSES = ("draft", "issued", "confirmed", "disputed", "locked", "superseded")
LINE_STATES = ("payable", "held", "rejected", "adjustment")

_fen = validate.Range(min=0, max=100_000_000)


class PriceSchema(Out):
    id = fields.Integer()
    service_type = fields.String()
    provider_id = fields.Integer(allow_none=True)
    unit = fields.String(metadata={"enum": list(PRICE_UNITS)})
    price_fen = fields.Integer(metadata={"description": "per visit, per hour or per month, in fen"})
    rounding_minutes = fields.Integer(metadata={"description": "hour prices: paid in whole units of this length"})
    effective_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    created_at = fields.AwareDateTime()


class PriceCreateSchema(Strict):
    service_type = fields.String(required=True, validate=validate.Length(min=1, max=32))
    provider_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1),
                                 metadata={"description": "a provider's contract price; none: every provider"})
    unit = fields.String(required=True, validate=validate.OneOf(PRICE_UNITS))
    price_fen = fields.Integer(required=True, strict=True, validate=_fen)
    rounding_minutes = fields.Integer(load_default=15, strict=True, validate=validate.Range(min=1, max=60))
    effective_on = fields.Date(required=True)
    ends_on = fields.Date(allow_none=True)


class PriceListArgs(PageArgs):
    service_type = fields.String(validate=validate.Length(min=1, max=32))
    provider_id = fields.Integer(validate=validate.Range(min=1))
    on = fields.Date(metadata={"description": "only prices in force on this day"})


class FundingSchema(Out):
    care_plan_id = fields.Integer()
    kind = fields.String(metadata={"enum": list(FUNDING_KINDS)})
    monthly_cap_fen = fields.Integer(allow_none=True)
    monthly_cap_minutes = fields.Integer(allow_none=True)
    refused_rule = fields.String(allow_none=True, metadata={"description": "why a government or co-pay request "
                                                                           "was saved as self-pay"})
    updated_at = fields.AwareDateTime(allow_none=True)


class FundingUpdateSchema(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(FUNDING_KINDS))
    monthly_cap_fen = fields.Integer(allow_none=True, strict=True, validate=_fen)
    monthly_cap_minutes = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=44_640))
    or_self_pay = fields.Boolean(load_default=False,
                                 metadata={"description": "save as self-pay instead of refusing an ineligible plan"})


class CopayShareSchema(Strict):
    category = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(ELDER_CATEGORIES))
    assessment_level = fields.Integer(allow_none=True, load_default=None, strict=True,
                                      validate=validate.Range(min=0, max=4))
    government_percent = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100))


class CopayTableSchema(Strict):
    shares = fields.List(fields.Nested(CopayShareSchema), required=True, validate=validate.Length(max=200))


class StatementArgs(Strict):
    provider_id = fields.Integer(required=True, validate=validate.Range(min=1))
    month = fields.Month(required=True)
    state = fields.String(validate=validate.OneOf(LINE_STATES), metadata={"description": "only lines in this state"})


class StatementCreateSchema(Strict):
    provider_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    month = fields.Month(required=True)


class StatementListArgs(PageArgs):
    provider_id = fields.Integer(validate=validate.Range(min=1))
    month = fields.Month()
    status = fields.String(validate=validate.OneOf(STATEMENT_STATUSES))


class LineArgs(Strict):
    state = fields.String(validate=validate.OneOf(LINE_STATES))


class DisputeSchema(Strict):
    line_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1)), required=True,
                           validate=validate.Length(min=1, max=1000))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class LineSchema(Out):
    id = fields.Integer(allow_none=True)
    line_no = fields.Integer()
    state = fields.String(metadata={"enum": list(LINE_STATES)})
    task_id = fields.Integer()
    visit_id = fields.Integer()
    elder_id = fields.Integer()
    elder_name = fields.String()
    care_plan_id = fields.Integer(allow_none=True)
    service_type = fields.String()
    served_on = fields.Date()
    funding = fields.String(metadata={"enum": list(FUNDING_KINDS)})
    price_id = fields.Integer(allow_none=True)
    unit = fields.String(allow_none=True)
    units = fields.Integer()
    minutes = fields.Integer()
    amount_fen = fields.Integer()
    government_fen = fields.Integer()
    copay_fen = fields.Integer()
    reason = fields.String(allow_none=True)
    adjusts_line_id = fields.Integer(allow_none=True)
    disputed = fields.String(allow_none=True, metadata={"description": "the provider's reason, when disputed"})


class StatementSummarySchema(Out):
    id = fields.Integer(allow_none=True, metadata={"description": "null for a draft"})
    provider_id = fields.Integer()
    provider_name = fields.String()
    month = fields.String()
    seq = fields.Integer(allow_none=True)
    status = fields.String(metadata={"enum": list(STATEMENT_STATUSES)})
    total_fen = fields.Integer()
    government_fen = fields.Integer()
    copay_fen = fields.Integer()
    line_count = fields.Integer()
    hash = fields.String(allow_none=True)
    issued_at = fields.AwareDateTime(allow_none=True)
    answered_at = fields.AwareDateTime(allow_none=True)
    approved_at = fields.AwareDateTime(allow_none=True)
    superseded_by_id = fields.Integer(allow_none=True)


class CapUsageSchema(Out):
    care_plan_id = fields.Integer()
    month = fields.String(metadata={"description": "the month served (YYYY-MM): the statement's own, or an earlier "
                                                   "one its adjustments paid into"})
    elder_id = fields.Integer()
    elder_name = fields.String()
    cap_fen = fields.Integer(allow_none=True)
    cap_minutes = fields.Integer(allow_none=True)
    government_fen = fields.Integer(metadata={"description": "the government's share paid for the month so far, "
                                                             "by this statement and the ones before it"})
    minutes = fields.Integer(metadata={"description": "minutes of the month's paid visits, within the cap or past it"})


class StatementSchema(StatementSummarySchema):
    totals = fields.Dict(metadata={"description": "by_state, by_service_type, by_funding"})
    cap_usage = fields.List(fields.Nested(CapUsageSchema), metadata={
        "description": "per elder and plan with a monthly cap, and month served: the usage against the cap "
                       "(frozen with the lines once issued, and covered by the hash)"})
    lines = fields.List(fields.Nested(LineSchema))


StatementPageSchema = page_of(StatementSummarySchema)
