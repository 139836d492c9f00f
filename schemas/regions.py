"""Region payloads: the city → district → street → community tree."""

from marshmallow import validate

from schemas import fields
from schemas.common import Out, PageArgs, Strict, page_of
from schemas.vocab import REGION_LEVELS

_name = validate.Length(min=1, max=100)
# 统计用区划代码: 12 digits.
_code = validate.Regexp(r"^\d{12}$", error="must be a 12-digit statistical division code")


class RegionSchema(Out):
    id = fields.Integer()
    name = fields.String()
    level = fields.String(metadata={"enum": list(REGION_LEVELS)})
    code = fields.String(allow_none=True)
    parent_id = fields.Integer(allow_none=True)
    path = fields.String(metadata={"description": 'materialised path of ids, e.g. "/1/4/9/"'})
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class RegionListArgs(PageArgs):
    level = fields.String(validate=validate.OneOf(REGION_LEVELS))
    parent_id = fields.Integer(validate=validate.Range(min=1))


class RegionCreateSchema(Strict):
    name = fields.String(required=True, validate=_name)
    level = fields.String(required=True, validate=validate.OneOf(REGION_LEVELS))
    parent_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1))
    code = fields.String(load_default=None, allow_none=True, validate=_code)


class RegionUpdateSchema(Strict):
    name = fields.String(validate=_name)
    parent_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1),
                               metadata={"description": "a district only: the city it moves under, or null"})
    code = fields.String(allow_none=True, validate=_code)


RegionPageSchema = page_of(RegionSchema)
