"""Account payloads. Password hashes never leave the server; passwords are write-only."""

from marshmallow import validate

from schemas import fields
from schemas.common import Out, PageArgs, Strict, page_of
from schemas.vocab import ROLES

_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1))


class UserSchema(Out):
    id = fields.Integer()
    username = fields.String()
    role = fields.String(metadata={"enum": list(ROLES)})
    display_name = fields.String()
    phone = fields.String(allow_none=True)
    is_active = fields.Boolean()
    region_id = fields.Integer(allow_none=True, metadata={"description": "supervisors: their subtree's root"})
    provider_id = fields.Integer(allow_none=True, metadata={"description": "caregivers: their employer"})
    community_ids = fields.Function(lambda user: [c.id for c in user.communities],
                                    metadata={"description": "community workers: their communities"})
    certificate_no = fields.String(allow_none=True)
    skill_level = fields.Integer(allow_none=True)
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class UserListArgs(PageArgs):
    role = fields.String(validate=validate.OneOf(ROLES))
    is_active = fields.Boolean()
    q = fields.String(validate=validate.Length(min=1, max=64),
                      metadata={"description": "username or display name contains"})


class _UserFields(Strict):
    display_name = fields.String(validate=validate.Length(min=1, max=100))
    phone = fields.String(allow_none=True, validate=validate.Length(max=32))
    is_active = fields.Boolean()
    password = fields.String(load_only=True, validate=validate.Length(min=8, max=256),
                             metadata={"description": "a new password (reset); signs the user out everywhere"})
    role = fields.String(validate=validate.OneOf(ROLES))
    region_id = _id
    provider_id = _id
    community_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1)),
                                validate=validate.Length(max=50))
    certificate_no = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    skill_level = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=5),
                                 metadata={"description": "1 = 五级/初级工 … 5 = 一级/高级技师"})


class UserUpdateSchema(_UserFields):
    version = fields.Integer(strict=True, metadata={"description": "when given, must be the current version"})


class UserCreateSchema(_UserFields):
    username = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_.-]{3,64}$", error="3–64 letters, digits, '_', '.' or '-'"))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=256))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    display_name = fields.String(load_default="", validate=validate.Length(max=100))


UserPageSchema = page_of(UserSchema)
