"""QR door plate payloads."""

from marshmallow import validate

from schemas import fields
from schemas.common import Out, Strict

PLATE_KINDS = ("static", "dynamic")
PLATE_STATUSES = ("active", "revoked")


class PlateSchema(Out):
    plate_id = fields.String(metadata={"description": "the opaque id inside the QR payload"})
    serial = fields.String(metadata={"description": 'printed on the plate, e.g. "CR-000123"'})
    elder_id = fields.Integer()
    kind = fields.String(metadata={"enum": list(PLATE_KINDS)})
    key_version = fields.Integer()
    status = fields.String(metadata={"enum": list(PLATE_STATUSES)})
    issued_at = fields.AwareDateTime()
    revoked_at = fields.AwareDateTime(allow_none=True)
    revoked_reason = fields.String(allow_none=True)
    payload = fields.String(allow_none=True, metadata={
        "description": "the exact string the QR code encodes; null for a dynamic plate, whose code "
                       "changes every 30 seconds on the in-home device"})
    png_url = fields.String(allow_none=True)
    svg_url = fields.String(allow_none=True)


class PlateIssueSchema(Strict):
    kind = fields.String(load_default="static", validate=validate.OneOf(PLATE_KINDS))


class PlateRevokeSchema(Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


class DynamicCodeArgs(Strict):
    at = fields.AwareDateTime(metadata={"description": "the instant to show the code for; default now"})


class DynamicCodeSchema(Out):
    payload = fields.String(metadata={"description": "what the in-home device's QR encodes at `at`"})
    valid_from = fields.AwareDateTime()
    valid_until = fields.AwareDateTime()
