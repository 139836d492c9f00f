"""Service provider (服务机构) payloads."""

from marshmallow import validate

from schemas import fields
from schemas.common import Out, PageArgs, Strict, page_of

# 统一社会信用代码: 18 characters of digits and capitals without I, O, S, V, Z.
_credit_code = validate.Regexp(r"^[0-9A-HJ-NPQRTUWXY]{18}$",
                               error="must be an 18-character unified social credit code")


class ProviderSchema(Out):
    id = fields.Integer()
    name = fields.String()
    credit_code = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    region_id = fields.Integer(allow_none=True)
    manager_id = fields.Integer(allow_none=True, metadata={"description": "the supervisor owning its follow-ups"})
    is_active = fields.Boolean()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class ProviderListArgs(PageArgs):
    is_active = fields.Boolean()
    q = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "name contains"})


class ProviderUpdateSchema(Strict):
    name = fields.String(validate=validate.Length(min=1, max=200))
    credit_code = fields.String(allow_none=True, validate=_credit_code)
    contact_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    contact_phone = fields.String(allow_none=True, validate=validate.Length(max=32))
    address = fields.String(allow_none=True, validate=validate.Length(max=300))
    region_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1))
    manager_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1),
                                metadata={"description": "a supervisor account"})
    is_active = fields.Boolean()


class ProviderCreateSchema(ProviderUpdateSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


ProviderPageSchema = page_of(ProviderSchema)
