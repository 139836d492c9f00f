"""Status reports: an elder deceased, moved out or in hospital, and the supervisor's decision."""

from marshmallow import validate

from schemas import fields
from schemas.common import Out, PageArgs, Strict, page_of
from schemas.vocab import STATUS_REPORT_KINDS, STATUS_REPORT_STATES

_note = validate.Length(max=2000)
_version = dict(strict=True, validate=validate.Range(min=1))


class StatusReportSchema(Out):
    id = fields.Integer()
    elder_id = fields.Integer()
    kind = fields.String(metadata={"enum": list(STATUS_REPORT_KINDS)})
    state = fields.String(metadata={"enum": list(STATUS_REPORT_STATES)})
    occurred_on = fields.Date(allow_none=True)
    returns_on = fields.Date(allow_none=True, metadata={"description": "a hospital stay's expected return date"})
    note = fields.String(allow_none=True)
    visit_item_id = fields.String(allow_none=True, metadata={"description": "the patrol report that said so"})
    reported_by_id = fields.Integer(allow_none=True)
    reported_at = fields.AwareDateTime()
    followup_id = fields.Integer(allow_none=True)
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    decision_note = fields.String(allow_none=True)
    effects = fields.Dict(allow_none=True, metadata={
        "description": "what confirming it did: the elder's new status, the ids of the tasks cancelled and of "
                       "the plans ended or paused"})
    version = fields.Integer()


class StatusReportCreateSchema(Strict):
    elder_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    kind = fields.String(required=True, validate=validate.OneOf(STATUS_REPORT_KINDS))
    occurred_on = fields.Date(load_default=None, allow_none=True)
    returns_on = fields.Date(load_default=None, allow_none=True,
                             metadata={"description": "required for in_hospital: the expected return date"})
    note = fields.String(load_default=None, allow_none=True, validate=_note)


class StatusReportListArgs(PageArgs):
    state = fields.String(validate=validate.OneOf(STATUS_REPORT_STATES))
    kind = fields.String(validate=validate.OneOf(STATUS_REPORT_KINDS))
    elder_id = fields.Integer(validate=validate.Range(min=1))


class ConfirmSchema(Strict):
    version = fields.Integer(required=True, **_version)
    returns_on = fields.Date(load_default=None, allow_none=True,
                             metadata={"description": "in_hospital: sets or corrects the expected return date"})
    note = fields.String(load_default=None, allow_none=True, validate=_note)


class RejectSchema(Strict):
    version = fields.Integer(required=True, **_version)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


StatusReportPageSchema = page_of(StatusReportSchema)
