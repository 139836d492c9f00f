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
    manager_id = fields.Integer(allow_none=True, metadata={"description": "its manager, owning its follow-ups"})
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
                                metadata={"description": "a provider manager account of this provider"})
    is_active = fields.Boolean()


class ProviderCreateSchema(ProviderUpdateSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


ProviderPageSchema = page_of(ProviderSchema)


class WorkforceArgs(Strict):
    month = fields.Month(required=True, metadata={"example": "2026-11"})


class CaregiverHoursSchema(Out):
    user_id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    certificate_no = fields.String(allow_none=True)
    is_certified = fields.Boolean()
    verified_visits = fields.Integer()
    service_minutes = fields.Integer(metadata={"description": "sum of verified visits' check-in to check-out"})
    service_hours = fields.Float()


class WorkforceSchema(Out):
    provider_id = fields.Integer()
    month = fields.String()
    caregivers = fields.List(fields.Nested(CaregiverHoursSchema))
    active_caregivers = fields.Integer()
    certified_caregivers = fields.Integer()
    certification_rate = fields.Float(allow_none=True, metadata={"description": "持证上岗率, 0–1"})
    certification_target = fields.Float()
    service_minutes = fields.Integer()
    service_hours = fields.Float()
