"""Elder payloads and their capability assessments.

Identity document numbers (居民身份证号码, or a permit's, a passport's) are personal data under
PIPL: they go out masked (`1101**********1234`, schemas.identity.mask_id_card) unless the caller
wraps the dump in `revealing_id_cards(True)`, which the API does for admins only. Masked is the
default, so a dump nobody thought about leaks nothing.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from marshmallow import ValidationError, validate, validates_schema

from schemas import fields
from schemas.common import Out, PageArgs, Strict, page_of
from schemas.identity import DOCUMENT_SHAPE, DOCUMENT_SHAPE_MESSAGE, PHONE_MESSAGE, mask_id_card, normal_phone
from schemas.vocab import ELDER_CATEGORIES, ELDER_STATUSES, GENDERS, ID_DOCUMENT_TYPES, RISK_TIERS

_reveal_id_cards: ContextVar[bool] = ContextVar("reveal_id_cards", default=False)


@contextmanager
def revealing_id_cards(reveal: bool) -> Iterator[None]:
    """Dumps inside this block show ID numbers in full when `reveal` is true."""
    token = _reveal_id_cards.set(reveal)
    try:
        yield
    finally:
        _reveal_id_cards.reset(token)


class IdCardNo(fields.String):
    """An identity document's number, upper-cased (a lower-case x check character is accepted).
    Its shape: 5–18 letters or digits; the service checks it against its document type
    (schemas.identity.document_problem), which an edit may leave as it was."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if not DOCUMENT_SHAPE.fullmatch(value):
            raise ValidationError(DOCUMENT_SHAPE_MESSAGE)
        return value


class PhoneNumber(fields.String):
    """A mobile (11 digits) or a landline with its area code, stored as registers write it."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        normal = normal_phone(value) if len(value) <= 32 else None
        if normal is None:
            raise ValidationError(PHONE_MESSAGE)
        return normal


def _shown_id_card(elder) -> str | None:
    return elder.id_card_no if _reveal_id_cards.get() else mask_id_card(elder.id_card_no)


class AssessmentSchema(Out):
    id = fields.Integer()
    elder_id = fields.Integer()
    assessed_on = fields.Date()
    self_care = fields.Integer(metadata={"description": "0–32"})
    motion = fields.Integer(metadata={"description": "0–15"})
    mental = fields.Integer(metadata={"description": "0–28"})
    perception = fields.Integer(metadata={"description": "0–15"})
    total = fields.Integer(metadata={"description": "0–90, computed by the server"})
    level = fields.Integer(metadata={"description": "0 intact … 4 complete loss, computed by the server"})
    level_name = fields.String()
    is_coma = fields.Boolean()
    has_dementia = fields.Boolean()
    care_risk_events_30d = fields.Integer()
    assessor_id = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()


class EmergencyContactSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    relation = fields.String(load_default="", validate=validate.Length(max=50))
    phone = PhoneNumber(required=True)


class LatestAssessmentSchema(AssessmentSchema):
    """An assessment as shown inside an elder: the scores, without its own ids."""

    class Meta:
        exclude = ("id", "elder_id", "assessor_id", "created_at")


class ElderSchema(Out):
    id = fields.Integer()
    name = fields.String()
    gender = fields.String(metadata={"enum": list(GENDERS)})
    birth_on = fields.BirthDate()
    id_document_type = fields.String(metadata={"enum": list(ID_DOCUMENT_TYPES)})
    id_card_no = fields.Function(_shown_id_card, metadata={
        "description": "the identity document's number, masked except for admins"})
    phone = fields.String(allow_none=True)
    address = fields.String()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    community_id = fields.Integer()
    community_name = fields.Function(lambda e: e.community.name)
    categories = fields.List(fields.String(validate=validate.OneOf(ELDER_CATEGORIES)))
    risk_tier = fields.String(metadata={"enum": list(RISK_TIERS)})
    care_notes = fields.String()
    emergency_contacts = fields.List(fields.Nested(EmergencyContactSchema))
    is_active = fields.Boolean()
    status = fields.String(metadata={"enum": list(ELDER_STATUSES),
                                     "description": "changed only by a confirmed status report"})
    returns_on = fields.Date(allow_none=True, metadata={"description": "suspended: the expected return date"})
    latest_assessment = fields.Nested(LatestAssessmentSchema, allow_none=True)
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class ElderListArgs(PageArgs):
    community_id = fields.Integer(validate=validate.Range(min=1))
    category = fields.String(validate=validate.OneOf(ELDER_CATEGORIES))
    risk_tier = fields.String(validate=validate.OneOf(RISK_TIERS))
    is_active = fields.Boolean()
    status = fields.String(validate=validate.OneOf(ELDER_STATUSES))
    q = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "name contains"})


class _ElderFields(Strict):
    name = fields.String(validate=validate.Length(min=1, max=100))
    gender = fields.String(validate=validate.OneOf(GENDERS))
    birth_on = fields.BirthDate()
    id_document_type = fields.String(validate=validate.OneOf(ID_DOCUMENT_TYPES), metadata={
        "description": "the document id_card_no is the number of; resident_id when never given"})
    id_card_no = IdCardNo(allow_none=True)
    phone = PhoneNumber(allow_none=True)
    address = fields.String(validate=validate.Length(max=300))
    lat = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    community_id = fields.Integer(strict=True, validate=validate.Range(min=1))
    categories = fields.List(fields.String(validate=validate.OneOf(ELDER_CATEGORIES)),
                             validate=validate.Length(max=len(ELDER_CATEGORIES)), metadata={
                                 "description": "advanced_age is derived from birth_on, whether sent or not"})
    risk_tier = fields.String(validate=validate.OneOf(RISK_TIERS))
    care_notes = fields.String(validate=validate.Length(max=2000))
    emergency_contacts = fields.List(fields.Nested(EmergencyContactSchema), validate=validate.Length(max=10))
    is_active = fields.Boolean()


class ElderCreateSchema(_ElderFields):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    gender = fields.String(required=True, validate=validate.OneOf(GENDERS))
    birth_on = fields.BirthDate(required=True)
    community_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    risk_tier = fields.String(validate=validate.OneOf(RISK_TIERS), metadata={
        "description": "when not sent, the tier suggested from the categories, age and assessment"})

    @validates_schema
    def _lat_lon_together(self, data, **kwargs):
        if (data.get("lat") is None) != (data.get("lon") is None):
            raise ValidationError("lat and lon come together", "lon" if data.get("lat") is not None else "lat")


class ElderUpdateSchema(_ElderFields):
    version = fields.Integer(required=True, strict=True,
                             metadata={"description": "the version you read; a stale one answers 409"})


class AssessmentCreateSchema(Strict):
    assessed_on = fields.Date(required=True)
    self_care = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=32))
    motion = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=15))
    mental = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=28))
    perception = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=15))
    is_coma = fields.Boolean(load_default=False)
    has_dementia = fields.Boolean(load_default=False)
    care_risk_events_30d = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=100))


RISK_REASONS = ("severe_capability_loss", "alone_with_moderate_loss", "key_category", "advanced_age",
                "capability_loss")


class RiskTierSchema(Out):
    """An elder's risk tier in force beside the one the register suggests."""

    elder_id = fields.Integer()
    risk_tier = fields.String(metadata={"enum": list(RISK_TIERS), "description": "the tier in force"})
    suggested_tier = fields.String(metadata={"enum": list(RISK_TIERS), "description": "from the categories, age "
                                                                                      "and latest assessment level"})
    suggestion_reasons = fields.List(fields.String(metadata={"enum": list(RISK_REASONS)}))
    differs_from_suggestion = fields.Boolean()
    reason = fields.String(allow_none=True, metadata={"description": "why a supervisor set the tier"})
    set_by_id = fields.Integer(allow_none=True)
    set_at = fields.AwareDateTime(allow_none=True)
    version = fields.Integer(metadata={"description": "the elder's version, to send back with a change"})


class RiskTierUpdateSchema(Strict):
    risk_tier = fields.String(required=True, validate=validate.OneOf(RISK_TIERS))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    version = fields.Integer(load_default=None, strict=True,
                             metadata={"description": "the elder's version you read, if sent; a stale one "
                                                      "answers 409"})


ElderPageSchema = page_of(ElderSchema)
AssessmentPageSchema = page_of(AssessmentSchema)
