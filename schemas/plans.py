"""Service types (10+N), care plans (家庭养老床位 packages) and patrol plans.

Only shape is checked here: that a recurrence names the days its frequency needs, that times read
"HH:MM", that a plan does not end before it starts. Whether an assignee works for the plan's
provider, or a worker covers the elder's community, is for the services to say.
"""

from marshmallow import ValidationError, post_load, validate, validates_schema

from schemas import fields
from schemas.common import Out, PageArgs, Strict, page_of
from schemas.vocab import PATROL_MODES, PLAN_STATUSES, RECURRENCE_FREQS, RISK_TIERS

_hhmm = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="must be a local time as HH:MM")
_id = validate.Range(min=1)


class ServiceTypeSchema(Out):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    is_builtin = fields.Boolean()
    is_active = fields.Boolean()
    default_min_minutes = fields.Integer()
    late_start_minutes = fields.Integer(metadata={"description": "alert this long after the window opens"})
    missed_grace_minutes = fields.Integer(metadata={"description": "missed this long after it closes"})


class ServiceTypeListArgs(PageArgs):
    is_active = fields.Boolean()


class ServiceTypeUpdateSchema(Strict):
    name_zh = fields.String(validate=validate.Length(min=1, max=50))
    name_en = fields.String(validate=validate.Length(min=1, max=80))
    default_min_minutes = fields.Integer(strict=True, validate=validate.Range(min=1, max=720))
    late_start_minutes = fields.Integer(strict=True, validate=validate.Range(min=0, max=720))
    missed_grace_minutes = fields.Integer(strict=True, validate=validate.Range(min=0, max=2880))
    is_active = fields.Boolean()


class ServiceTypeCreateSchema(ServiceTypeUpdateSchema):
    code = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z_]{2,32}$", error="2–32 lower-case letters or underscores"))
    name_zh = fields.String(required=True, validate=validate.Length(min=1, max=50))
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=80))


class RecurrenceSchema(Strict):
    """{"freq": "weekly", "weekdays": [2, 5], "start": "09:00", "end": "10:00"}; an end at or
    before the start runs into the next day (night care)."""

    freq = fields.String(required=True, validate=validate.OneOf(RECURRENCE_FREQS))
    weekdays = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=7)),
                           validate=validate.Length(min=1, max=7), metadata={"description": "1 = Monday"})
    monthdays = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=31)),
                            validate=validate.Length(min=1, max=31))
    start = fields.String(required=True, validate=_hhmm)
    end = fields.String(required=True, validate=_hhmm)

    @validates_schema
    def _days_fit_frequency(self, data, **kwargs):
        needs = {"daily": None, "weekly": "weekdays", "monthly": "monthdays"}.get(data.get("freq"))
        for name in ("weekdays", "monthdays"):
            if name == needs and name not in data:
                raise ValidationError(f"a {data['freq']} recurrence needs {name}", name)
            if name != needs and name in data:
                raise ValidationError(f"not used by a {data.get('freq')} recurrence", name)
        if data.get("start") is not None and data.get("start") == data.get("end"):
            raise ValidationError("must differ from start", "end")

    @post_load
    def _sorted_days(self, data, **kwargs):
        for name in ("weekdays", "monthdays"):
            if name in data:
                data[name] = sorted(set(data[name]))
        return data


class CarePlanItemSchema(Out):
    id = fields.Integer()
    service_type = fields.String()
    recurrence = fields.Dict()
    min_duration_minutes = fields.Integer()
    assignee_id = fields.Integer(allow_none=True)


class CarePlanItemInSchema(Strict):
    service_type = fields.String(required=True, validate=validate.Length(min=2, max=32))
    recurrence = fields.Nested(RecurrenceSchema, required=True)
    min_duration_minutes = fields.Integer(strict=True, validate=validate.Range(min=1, max=720),
                                          metadata={"description": "defaults to the service type's"})
    assignee_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=_id,
                                 metadata={"description": "a caregiver of the plan's provider"})


class CarePlanItemEditSchema(CarePlanItemInSchema):
    id = fields.Integer(strict=True, validate=_id,
                        metadata={"description": "an existing item to keep; items without an id are new"})


class _Dates(Strict):
    @validates_schema
    def _ends_after_start(self, data, **kwargs):
        if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
            raise ValidationError("must not be before starts_on", "ends_on")


class CarePlanSchema(Out):
    id = fields.Integer()
    elder_id = fields.Integer()
    elder_name = fields.Function(lambda p: p.elder.name)
    provider_id = fields.Integer()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    status = fields.String(metadata={"enum": list(PLAN_STATUSES)})
    revision = fields.Integer()
    revised_at = fields.AwareDateTime()
    items = fields.List(fields.Nested(CarePlanItemSchema))
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class CarePlanListArgs(PageArgs):
    elder_id = fields.Integer(validate=_id)
    provider_id = fields.Integer(validate=_id)
    status = fields.String(validate=validate.OneOf(PLAN_STATUSES))


class CarePlanCreateSchema(_Dates):
    elder_id = fields.Integer(required=True, strict=True, validate=_id)
    provider_id = fields.Integer(required=True, strict=True, validate=_id)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(load_default=None, allow_none=True)
    items = fields.List(fields.Nested(CarePlanItemInSchema), required=True,
                        validate=validate.Length(min=1, max=30))


class CarePlanUpdateSchema(_Dates):
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    items = fields.List(fields.Nested(CarePlanItemEditSchema), validate=validate.Length(min=1, max=30),
                        metadata={"description": "the whole new list of items"})
    version = fields.Integer(strict=True, metadata={"description": "when given, must be the current version"})


class PlanEndSchema(Strict):
    ends_on = fields.Date(required=True, metadata={"description": "the last day of service"})


class PatrolPlanSchema(Out):
    id = fields.Integer()
    elder_id = fields.Integer()
    elder_name = fields.Function(lambda p: p.elder.name)
    worker_id = fields.Integer()
    tier = fields.String(allow_none=True, metadata={"description": "null: follows the elder's risk tier"})
    effective_tier = fields.String(metadata={"enum": list(RISK_TIERS)})
    modes = fields.List(fields.String(validate=validate.OneOf(PATROL_MODES)))
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    status = fields.String(metadata={"enum": list(PLAN_STATUSES)})
    revision = fields.Integer()
    revised_at = fields.AwareDateTime()
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class PatrolPlanListArgs(PageArgs):
    elder_id = fields.Integer(validate=_id)
    worker_id = fields.Integer(validate=_id)
    status = fields.String(validate=validate.OneOf(PLAN_STATUSES))


_modes = fields.List(fields.String(validate=validate.OneOf(PATROL_MODES)),
                     validate=validate.Length(min=1, max=len(PATROL_MODES) * 2))


class _PatrolFields(_Dates):
    worker_id = fields.Integer(strict=True, validate=_id)
    tier = fields.String(allow_none=True, validate=validate.OneOf(RISK_TIERS))
    modes = _modes
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)

    @post_load
    def _distinct_modes(self, data, **kwargs):
        if "modes" in data:
            data["modes"] = [m for m in PATROL_MODES if m in data["modes"]]
        return data


class PatrolPlanCreateSchema(_PatrolFields):
    elder_id = fields.Integer(required=True, strict=True, validate=_id)
    worker_id = fields.Integer(required=True, strict=True, validate=_id)
    tier = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(RISK_TIERS))
    modes = fields.List(fields.String(validate=validate.OneOf(PATROL_MODES)), load_default=list(PATROL_MODES),
                        validate=validate.Length(min=1, max=len(PATROL_MODES) * 2))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(load_default=None, allow_none=True)


class PatrolPlanUpdateSchema(_PatrolFields):
    version = fields.Integer(strict=True, metadata={"description": "when given, must be the current version"})


ServiceTypePageSchema = page_of(ServiceTypeSchema)
CarePlanPageSchema = page_of(CarePlanSchema)
PatrolPlanPageSchema = page_of(PatrolPlanSchema)
