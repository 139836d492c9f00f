"""Wire payloads of phone sync: the push envelope and its items, push results, pull args and pages."""

import math
import re
import uuid
from datetime import datetime, timedelta

from marshmallow import ValidationError, validate, validates_schema
from marshmallow.utils import from_iso_datetime

from schemas import fields
from schemas.common import Out, Strict
from schemas.vocab import PATROL_MODES, TASK_KINDS, TASK_STATUSES

ITEM_TYPES = ("check_in", "check_out", "patrol_report", "note")
SERVICE_OUTCOMES = ("done", "refused", "not_needed")
PATROL_OUTCOMES = ("seen_well", "seen_needs_help", "not_at_home", "no_answer", "in_hospital", "moved",
                   "deceased")
SEEN_OUTCOMES = ("seen_well", "seen_needs_help")
SAFETY_STATES = ("ok", "hazard")
CARE_RISK_EVENTS = ("fall", "choking", "self_harm", "wandering", "other")
SIGNERS = ("elder", "family", "none")
ITEM_STATUSES = ("accepted", "duplicate", "rejected")
REMOVAL_REASONS = ("cancelled", "reassigned", "out_of_window", "elder_out_of_scope", "no_open_tasks", "resolved")
MAX_ITEMS = 500
# A phone holds its user's notifications of the last 30 days before its window (older ones, read
# or not, are in the console and GET /api/v1/notifications): the pull reads only the notifications
# table's latest months, and the phone drops what falls behind (docs/sync-protocol.md).
NOTIFICATION_HORIZON = timedelta(days=30)
MAX_BODY_BYTES = 2 * 1024 * 1024

_text = validate.Length(max=2000)


class LocationSchema(Strict):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    accuracy_m = fields.Float(required=True, validate=validate.Range(min=0, max=100_000))


class EnvelopeSchema(Strict):
    """The push body. Items stay raw dicts here: each is validated alone with validate_item."""

    device_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    device_time = fields.AwareDateTime(required=True)
    items = fields.List(fields.Dict(), required=True, validate=validate.Length(min=0, max=MAX_ITEMS))


class PushItemSchema(Strict):
    """Fields every item has, whatever its type."""

    id = fields.UUID(required=True)
    seq = fields.Integer(bits=64, required=True, strict=True, validate=validate.Range(min=0, max=2**53))
    type = fields.String(required=True, validate=validate.OneOf(ITEM_TYPES))
    # 64 bits although tasks.id is an INTEGER: a larger id names no task, and the push answers
    # it as it answers any unknown task.
    task_id = fields.Integer(bits=64, required=True, strict=True, validate=validate.Range(min=1))
    captured_at = fields.AwareDateTime(required=True)
    qr = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=256))
    location = fields.Nested(LocationSchema, load_default=None, allow_none=True)


class CheckInSchema(PushItemSchema):
    pass


class ServiceLineSchema(Strict):
    service_type = fields.String(required=True, validate=validate.Length(min=1, max=32))
    outcome = fields.String(required=True, validate=validate.OneOf(SERVICE_OUTCOMES))
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=500))

    @validates_schema
    def _reason_when_not_done(self, data, **kwargs):
        if data["outcome"] != "done" and not data.get("reason"):
            raise ValidationError("Required when the outcome is not done.", "reason")


class SignatureSchema(Strict):
    """Who confirmed the visit; an image, if any, is uploaded apart and matched by its hash."""

    signer = fields.String(required=True, validate=validate.OneOf(SIGNERS))
    confirmed = fields.Boolean(required=True)
    image_sha256 = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^[0-9a-f]{64}$", error="Not a SHA-256 hex digest."))


class CheckOutSchema(PushItemSchema):
    services = fields.List(fields.Nested(ServiceLineSchema), required=True, validate=validate.Length(max=50))
    satisfaction = fields.Integer(load_default=None, allow_none=True, strict=True,
                                  validate=validate.Range(min=1, max=5))
    signature = fields.Nested(SignatureSchema, load_default=None, allow_none=True)


class SafetySchema(Strict):
    gas = fields.String(required=True, validate=validate.OneOf(SAFETY_STATES))
    water = fields.String(required=True, validate=validate.OneOf(SAFETY_STATES))
    electricity = fields.String(required=True, validate=validate.OneOf(SAFETY_STATES))


class ObservationsSchema(Strict):
    health = fields.String(load_default=None, allow_none=True, validate=_text)
    mental_state = fields.String(load_default=None, allow_none=True, validate=_text)
    safety = fields.Nested(SafetySchema, load_default=None, allow_none=True)  # not seen on a phone call
    hygiene = fields.String(load_default=None, allow_none=True, validate=_text)
    living_conditions = fields.String(load_default=None, allow_none=True, validate=_text)
    needs = fields.String(load_default=None, allow_none=True, validate=_text)


class CareRiskEventSchema(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(CARE_RISK_EVENTS))
    occurred_on = fields.Date(load_default=None, allow_none=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class PatrolReportSchema(PushItemSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(PATROL_OUTCOMES))
    mode = fields.String(required=True, validate=validate.OneOf(PATROL_MODES))
    observations = fields.Nested(ObservationsSchema, load_default=None, allow_none=True)
    care_risk_events = fields.List(fields.Nested(CareRiskEventSchema), load_default=list,
                                   validate=validate.Length(max=20))

    @validates_schema
    def _observations_when_seen(self, data, **kwargs):
        if data["outcome"] in SEEN_OUTCOMES and not data.get("observations"):
            raise ValidationError("Required when the elder was seen.", "observations")


class NoteSchema(PushItemSchema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class PushResultSchema(Out):
    # null for an item sent without a usable id (it is rejected; the result keeps its place).
    id = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(ITEM_STATUSES)})
    code = fields.String(allow_none=True)
    message = fields.String(allow_none=True)
    flags = fields.List(fields.String())


class PushResponseSchema(Out):
    results = fields.List(fields.Nested(PushResultSchema))
    missing_seqs = fields.List(fields.Integer(bits=64))
    server_time = fields.AwareDateTime()


class PullArgsSchema(Strict):
    cursor = fields.String(load_default=None, validate=validate.Length(min=1, max=1024))
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=1000))
    device_id = fields.String(required=True, validate=validate.Length(min=1, max=128))


class SyncTaskSchema(Out):
    id = fields.Integer()
    version = fields.Integer()
    kind = fields.String(metadata={"enum": list(TASK_KINDS)})
    status = fields.String(metadata={"enum": list(TASK_STATUSES)})
    elder_id = fields.Integer()
    service_type = fields.String(allow_none=True)
    patrol_mode = fields.String(allow_none=True, metadata={"enum": list(PATROL_MODES)})
    window_start_at = fields.AwareDateTime()
    window_end_at = fields.AwareDateTime()
    min_duration_minutes = fields.Integer()


class SyncElderSchema(Out):
    """What a phone needs at the door. Never the ID-card number or the birth date."""

    id = fields.Integer()
    version = fields.Integer()
    name = fields.String()
    gender = fields.String()
    age = fields.Integer()
    phone = fields.String(allow_none=True)
    address = fields.String()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    community_id = fields.Integer()
    community_name = fields.String()
    risk_tier = fields.String()
    categories = fields.List(fields.String())
    capability_level = fields.Integer(allow_none=True)
    care_notes = fields.String()
    emergency_contacts = fields.List(fields.Dict())
    plate_ids = fields.List(fields.String())


class RemovalSchema(Out):
    id = fields.Integer()
    reason = fields.String(metadata={"enum": list(REMOVAL_REASONS)})


class DigestSchema(Out):
    count = fields.Integer()
    hash = fields.String()


def _changes_of(row_schema) -> type[Out]:
    return Out.from_dict(
        {
            "upserted": fields.List(fields.Nested(row_schema)),
            "removed": fields.List(fields.Nested(RemovalSchema)),
        },
        name=f"{row_schema.__name__.removesuffix('Schema')}ChangesSchema",
    )


class SyncFollowupSchema(Out):
    """A follow-up the user owns, to act on offline (welfare checks carry emergency contacts)."""

    id = fields.Integer()
    version = fields.Integer()
    kind = fields.String()
    priority = fields.String()
    status = fields.String()
    elder_id = fields.Integer(allow_none=True)
    task_id = fields.Integer(allow_none=True)
    summary = fields.String()
    opened_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime()
    escalation_level = fields.Integer()
    details = fields.Dict()


class FollowupChangesSchema(Out):
    upserted = fields.List(fields.Nested(SyncFollowupSchema))
    removed = fields.List(fields.Nested(RemovalSchema))
    open_ids = fields.List(fields.Integer(), metadata={
        "description": "every open follow-up the user owns now: drop any other the phone holds"})


class SyncNotificationSchema(Out):
    id = fields.Integer()
    event = fields.String()
    followup_id = fields.Integer(allow_none=True)
    task_id = fields.Integer(allow_none=True)
    title = fields.String()
    body = fields.String()
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)


class NotificationChangesSchema(Out):
    upserted = fields.List(fields.Nested(SyncNotificationSchema))


class PullResponseSchema(Out):
    tasks = fields.Nested(_changes_of(SyncTaskSchema))
    elders = fields.Nested(_changes_of(SyncElderSchema))
    cursor = fields.String()
    has_more = fields.Boolean()
    reset = fields.Boolean()
    digest = fields.Nested(DigestSchema, allow_none=True)
    server_time = fields.AwareDateTime()
    followups = fields.Nested(FollowupChangesSchema)
    notifications = fields.Nested(NotificationChangesSchema)


ITEM_SCHEMAS = {
    "check_in": CheckInSchema(),
    "check_out": CheckOutSchema(),
    "patrol_report": PatrolReportSchema(),
    "note": NoteSchema(),
}
envelope_schema = EnvelopeSchema()


def validate_item(raw: object) -> tuple[dict | None, dict | None]:
    """(data, None) for a valid item, (None, errors) otherwise; never raises for bad input.

    The server calls this once per item so that one bad item is rejected alone.
    """
    if not isinstance(raw, dict):
        return None, {"_schema": ["Not a valid mapping type."]}
    item_type = raw.get("type")
    schema = ITEM_SCHEMAS.get(item_type) if isinstance(item_type, str) else None
    if schema is None:
        return None, {"type": [f"Must be one of: {', '.join(ITEM_TYPES)}."]}
    try:
        return schema.load(raw), None
    except ValidationError as error:
        return None, error.normalized_messages()


# ------------------------------------------------------------------ the fast path of a push's items
#
# The schemas above are the contract. Loading a check-in through marshmallow costs ~0.2 ms, as
# much as the whole rest of its push, so the two item types phones send by the thousand also
# have a plain-Python loader. It accepts only what it fully understands — the plainest spelling
# of a valid item — and returns exactly what schema.load returns for it; anything else (any
# error, any unusual spelling such as a number written as a string) goes to the schema, which
# decides and words the errors. tests/sync/test_sync_schemas.py holds the two to each other.

_COMMON_KEYS = frozenset(("id", "seq", "type", "task_id", "captured_at", "qr", "location"))
_FAST_KEYS = {"check_in": _COMMON_KEYS, "check_out": _COMMON_KEYS | {"services", "satisfaction", "signature"}}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_INT64_MAX = fields.INT64[1]
_FIRST_YEAR, _LAST_YEAR = fields.FIRST_YEAR, fields.LAST_YEAR


def _number(value, low: float, high: float) -> float | None:
    if type(value) is not float and type(value) is not int:
        return None
    value = float(value)
    return value if math.isfinite(value) and low <= value <= high else None


def _short_text(value, low: int, high: int) -> bool:
    # Text a column can hold (schemas/fields.py); ASCII, the usual case, needs no encoding check.
    return type(value) is str and low <= len(value) <= high and "\x00" not in value \
        and (value.isascii() or fields.text_problem(value) is None)


def _fast_location(raw) -> dict | None:
    if type(raw) is not dict or raw.keys() != {"lat", "lon", "accuracy_m"}:
        return None
    lat, lon = _number(raw["lat"], -90, 90), _number(raw["lon"], -180, 180)
    accuracy = _number(raw["accuracy_m"], 0, 100_000)
    if lat is None or lon is None or accuracy is None:
        return None
    return {"lat": lat, "lon": lon, "accuracy_m": accuracy}


def _fast_services(raw) -> list | None:
    if type(raw) is not list or len(raw) > 50:
        return None
    lines = []
    for line in raw:
        if type(line) is not dict or not line.keys() <= {"service_type", "outcome", "reason"}:
            return None
        reason = line.get("reason")
        if not _short_text(line.get("service_type"), 1, 32) or line.get("outcome") not in SERVICE_OUTCOMES \
                or not (reason is None or _short_text(reason, 1, 500)) or (line["outcome"] != "done" and not reason):
            return None
        lines.append({"service_type": line["service_type"], "outcome": line["outcome"], "reason": reason})
    return lines


def _fast_signature(raw) -> dict | None:
    if type(raw) is not dict or not {"signer", "confirmed"} <= raw.keys() <= {"signer", "confirmed", "image_sha256"}:
        return None
    image = raw.get("image_sha256")
    if raw["signer"] not in SIGNERS or type(raw["confirmed"]) is not bool or \
            not (image is None or (type(image) is str and _SHA256.match(image))):
        return None
    return {"signer": raw["signer"], "confirmed": raw["confirmed"], "image_sha256": image}


def _plain_datetime(value: str) -> datetime:
    """from_iso_datetime(value), through the C parser for its plainest spelling (second precision
    or finer, 'T', an offset with a colon or 'Z'), for which both give the same instant and offset."""
    if _PLAIN_DATETIME.match(value):
        return datetime.fromisoformat(value)
    return from_iso_datetime(value)


_PLAIN_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})\Z")


def _fast_load(raw: dict) -> dict | None:
    """schema.load(raw) for a plainly spelled valid check-in or check-out; None for anything else."""
    keys = _FAST_KEYS.get(raw.get("type")) if type(raw.get("type")) is str else None
    if keys is None or not raw.keys() <= keys:
        return None
    seq, task_id, qr, captured_at = raw.get("seq"), raw.get("task_id"), raw.get("qr"), raw.get("captured_at")
    if type(seq) is not int or not 0 <= seq <= 2**53 or type(task_id) is not int or not 1 <= task_id <= _INT64_MAX \
            or type(raw.get("id")) is not str or type(captured_at) is not str \
            or not (qr is None or _short_text(qr, 1, 256)):
        return None
    try:
        item_id = uuid.UUID(raw["id"])
        captured = _plain_datetime(captured_at)
    except ValueError:
        return None
    if captured.tzinfo is None or captured.utcoffset() is None \
            or not _FIRST_YEAR <= captured.year <= _LAST_YEAR:
        return None
    location = raw.get("location")
    if location is not None and (location := _fast_location(location)) is None:
        return None
    data = {"id": item_id, "seq": seq, "type": raw["type"], "task_id": task_id, "captured_at": captured,
            "qr": qr, "location": location}
    if raw["type"] == "check_out":
        satisfaction, signature = raw.get("satisfaction"), raw.get("signature")
        data["services"] = _fast_services(raw.get("services"))
        if data["services"] is None or not (
                satisfaction is None or (type(satisfaction) is int and 1 <= satisfaction <= 5)):
            return None
        if signature is not None and (signature := _fast_signature(signature)) is None:
            return None
        data["satisfaction"], data["signature"] = satisfaction, signature
    return data


def load_item(raw: object) -> tuple[dict | None, dict | None]:
    """validate_item, through the fast path when the item is plainly spelled (the same answer)."""
    data = _fast_load(raw) if isinstance(raw, dict) else None
    return (data, None) if data is not None else validate_item(raw)
