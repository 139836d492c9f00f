"""Rectification order (限期整改) payloads."""

from marshmallow import validate

from schemas import fields
from schemas.common import Out, PageArgs, Strict, page_of
from schemas.vocab import RECTIFICATION_SOURCES, RECTIFICATION_STATUSES

_text = validate.Length(min=1, max=4000)
_note = validate.Length(max=2000)


class RectificationOrderEventSchema(Out):
    id = fields.Integer()
    action = fields.String(metadata={"enum": ["issued", "responded", "accepted", "extended", "escalated"]})
    by_id = fields.Integer()
    at = fields.AwareDateTime()
    note = fields.String(allow_none=True)
    due_on = fields.Date(allow_none=True, metadata={"description": "the deadline this event set"})


class RectificationOrderSchema(Out):
    id = fields.Integer()
    provider_id = fields.Integer()
    source = fields.String(metadata={"enum": list(RECTIFICATION_SOURCES)})
    month = fields.String(allow_none=True)
    findings = fields.String()
    task_ids = fields.List(fields.Integer(), metadata={"description": "the visits (tasks) behind the findings"})
    figures = fields.Dict(metadata={"description": "the figures behind the findings"})
    due_on = fields.Date()
    status = fields.String(metadata={"enum": list(RECTIFICATION_STATUSES)})
    is_overdue = fields.Boolean(metadata={"description": "still awaiting a response past its deadline"})
    extensions = fields.Integer()
    issued_by_id = fields.Integer()
    issued_at = fields.AwareDateTime()
    response = fields.String(allow_none=True)
    responded_by_id = fields.Integer(allow_none=True)
    responded_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    version = fields.Integer()
    events = fields.List(fields.Nested(RectificationOrderEventSchema))


class RectificationListArgs(PageArgs):
    provider_id = fields.Integer(validate=validate.Range(min=1))
    status = fields.List(fields.String(validate=validate.OneOf(RECTIFICATION_STATUSES)))
    overdue = fields.Boolean(metadata={"description": "only orders awaiting a response past their deadline"})


class RectificationCreateSchema(Strict):
    provider_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    findings = fields.String(required=True, validate=_text)
    due_on = fields.Date(required=True, metadata={"description": "the deadline (care time zone), after today"})
    source = fields.String(load_default="ad_hoc", validate=validate.OneOf(RECTIFICATION_SOURCES))
    month = fields.Month(load_default=None, allow_none=True,
                         metadata={"description": "the monthly rectification list's month, YYYY-MM"})
    task_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1)), load_default=list,
                           validate=validate.Length(max=500))
    figures = fields.Dict(keys=fields.String(validate=validate.Length(max=64)), load_default=dict,
                          validate=validate.Length(max=50))


class VersionedSchema(Strict):
    version = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1),
                             metadata={"description": "the order's version as read; 409 when it moved on"})


class RespondSchema(VersionedSchema):
    response = fields.String(required=True, validate=_text)


class AcceptSchema(VersionedSchema):
    note = fields.String(load_default=None, allow_none=True, validate=_note)


class ExtendSchema(VersionedSchema):
    due_on = fields.Date(required=True, metadata={"description": "the new deadline, after the current one"})
    note = fields.String(load_default=None, allow_none=True, validate=_note)


class EscalateSchema(VersionedSchema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


RectificationOrderPageSchema = page_of(RectificationOrderSchema)
