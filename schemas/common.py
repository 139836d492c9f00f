"""Building blocks shared by the payload schemas."""

from marshmallow import INCLUDE, RAISE, Schema, validate

from schemas import fields


class Strict(Schema):
    """Input schemas refuse unknown fields: a typo must not be silently ignored."""

    class Meta:
        unknown = RAISE


class Out(Schema):
    """Output schemas: field order is the declaration order (marshmallow keeps it)."""


class PageArgs(Strict):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class PageMeta(Out):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


def page_of(item_schema) -> type[Schema]:
    """A list response: {"items": [...], "meta": {...}}."""
    return Schema.from_dict(
        {"items": fields.List(fields.Nested(item_schema)), "meta": fields.Nested(PageMeta)},
        name=f"{item_schema.__name__.removesuffix('Schema')}PageSchema",
    )


class ProblemSchema(Out):
    """RFC 9457 problem details, as every API error is answered (application/problem+json). A
    problem may carry members of its own beside these (`resource`, `max_items`, …)."""

    class Meta:
        unknown = INCLUDE

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    code = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
