"""Login, refresh and logout payloads."""

from marshmallow import validate

from schemas import fields
from schemas.common import Out, Strict

_device = fields.String(required=True, validate=validate.Length(min=1, max=128))


class LoginSchema(Strict):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))
    device_id = _device


class RefreshSchema(Strict):
    refresh_token = fields.String(required=True, validate=validate.Length(min=10, max=200))
    device_id = _device


class LogoutSchema(Strict):
    refresh_token = fields.String(required=True, validate=validate.Length(min=10, max=200))


class TokenUserSchema(Out):
    id = fields.Integer()
    username = fields.String()
    role = fields.String()
    display_name = fields.String()


class TokenPairSchema(Out):
    access_token = fields.String()
    token_type = fields.Constant("Bearer")
    expires_in = fields.Integer(metadata={"description": "access token lifetime in seconds"})
    refresh_token = fields.String()
    refresh_expires_at = fields.AwareDateTime()
    user = fields.Nested(TokenUserSchema)
