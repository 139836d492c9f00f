"""Monthly report payloads: the query arguments and the shape of the figures."""

from datetime import date

from marshmallow import validate

from schemas import fields
from schemas.common import Out, Strict


class Month(fields.Month):
    """A calendar month written YYYY-MM, loaded as the date of its first day."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        return date(int(value[:4]), int(value[5:7]), 1)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.strftime("%Y-%m")


class MonthlyReportArgs(Strict):
    region = fields.Integer(required=True, validate=validate.Range(min=1),
                            metadata={"description": "a city, district, street or community id"})
    month = Month(required=True, metadata={"description": "YYYY-MM, in the care time zone",
                                           "type": "string", "example": "2026-11"})


_rate = {"allow_none": True, "metadata": {"description": "0…1; null when there is nothing to divide by"}}


SATISFACTION_SOURCES = ("callback", "check_out")
_source = {"validate": validate.OneOf(SATISFACTION_SOURCES), "metadata": {
    "description": "the satisfaction the rectification rule judged: call-backs' (enough rated call-backs) "
                   "or check-out ratings'", "enum": list(SATISFACTION_SOURCES)}}


class VisitFiguresSchema(Out):
    planned = fields.Integer()
    completed = fields.Integer(metadata={"description": "done and not rejected on review"})
    rejected = fields.Integer(metadata={"description": "done but rejected on review (不通过): not completed"})
    completed_on_time = fields.Integer()
    late_synced = fields.Integer()
    missed = fields.Integer()
    cancelled = fields.Integer()
    verified = fields.Integer()
    verification_rate = fields.Float(**_rate)
    satisfaction_rated = fields.Integer()
    satisfaction_mean = fields.Float(allow_none=True)
    satisfaction_low = fields.Integer()
    satisfaction_low_share = fields.Float(**_rate)
    callbacks = fields.Integer(metadata={"description": "call-backs made (reached or unreachable)"})
    callbacks_unconfirmed = fields.Integer(metadata={"description": "call-backs that did not confirm the visit"})
    callbacks_unconfirmed_share = fields.Float(**_rate)
    callback_satisfaction_rated = fields.Integer()
    callback_satisfaction_mean = fields.Float(allow_none=True)
    followups_opened = fields.Integer()
    followups_resolved = fields.Integer()
    followups_overdue = fields.Integer()
    patrols_seen_door = fields.Integer(metadata={"description": "completed patrols that saw the elder at the door"})
    patrols_seen_phone = fields.Integer(metadata={"description": "completed patrols that reached the elder by phone"})
    patrols_door_share = fields.Float(**_rate)
    patrols_phone_share = fields.Float(**_rate)
    patrols_attempted = fields.Integer(metadata={"description": "completed patrols that did not see the elder: "
                                                                "done as attempted, not coverage"})


class RegionFiguresSchema(VisitFiguresSchema):
    region_id = fields.Integer()
    name = fields.String()
    level = fields.String()
    in_scope_elders = fields.Integer()
    in_scope_elders_visited = fields.Integer(metadata={"description": "in-scope elders seen in their period"})
    in_scope_elders_quarterly = fields.Integer(metadata={"description": "in-scope elders judged on the quarter"})
    patrol_coverage = fields.Float(**_rate)


class ProviderFiguresSchema(VisitFiguresSchema):
    provider_id = fields.Integer()
    name = fields.String()
    satisfaction_source = fields.String(**_source)


class ServiceTypeFiguresSchema(Out):
    service_type = fields.String()
    name = fields.String()
    completed = fields.Integer()
    timed = fields.Integer(metadata={"description": "completed visits with a measured duration"})
    mean_duration_minutes = fields.Float(allow_none=True)
    mean_min_duration_minutes = fields.Float(allow_none=True)
    short_visits = fields.Integer()


class CaregiverFiguresSchema(Out):
    user_id = fields.Integer()
    name = fields.String()
    role = fields.String(allow_none=True)
    provider_id = fields.Integer(allow_none=True)
    planned = fields.Integer()
    completed = fields.Integer()
    rejected = fields.Integer()
    completed_on_time = fields.Integer()
    late_synced = fields.Integer()
    missed = fields.Integer()
    verified = fields.Integer()
    verification_rate = fields.Float(**_rate)
    satisfaction_rated = fields.Integer()
    satisfaction_mean = fields.Float(allow_none=True)
    satisfaction_low_share = fields.Float(**_rate)
    cross_flagged = fields.Integer(metadata={
        "description": "completed visits flagged overlapping_visit or impossible_travel"})


class DayFiguresSchema(Out):
    date = fields.Date()
    planned = fields.Integer()
    completed = fields.Integer()


class RectificationSchema(Out):
    provider_id = fields.Integer()
    name = fields.String()
    completed = fields.Integer()
    rejected = fields.Integer()
    verification_rate = fields.Float(allow_none=True)
    satisfaction_rated = fields.Integer()
    satisfaction_mean = fields.Float(allow_none=True)
    callback_satisfaction_rated = fields.Integer()
    callback_satisfaction_mean = fields.Float(allow_none=True)
    satisfaction_source = fields.String(**_source)
    failed = fields.List(fields.String(validate=validate.OneOf(("satisfaction", "verification"))))


class WorkforceRowSchema(Out):
    provider_id = fields.Integer()
    name = fields.String()
    active_caregivers = fields.Integer()
    certified_caregivers = fields.Integer()
    certification_rate = fields.Float(allow_none=True, metadata={"description": "持证上岗率, 0–1"})
    service_hours = fields.Float(metadata={"description": "verified visits' check-in to check-out, provider-wide"})


class OverdueRectificationSchema(Out):
    rectification_id = fields.Integer()
    name = fields.String(metadata={"description": "the provider's name"})
    due_on = fields.Date()
    findings = fields.String()


class ReportRegionSchema(Out):
    id = fields.Integer()
    name = fields.String()
    level = fields.String()


class PeriodSchema(Out):
    start_at = fields.AwareDateTime()
    end_at = fields.AwareDateTime(metadata={"description": "exclusive"})
    time_zone = fields.String()


class ThresholdsSchema(Out):
    min_satisfaction = fields.Float()
    min_verification = fields.Float()
    min_visits = fields.Integer()
    min_callbacks = fields.Integer(metadata={"description": "rated call-backs from which a provider's "
                                                            "satisfaction is judged on call-backs"})


class CoverageSchema(Out):
    categories = fields.List(fields.String(), metadata={"description": "the elder categories coverage counts "
                                                                       "(setting COVERAGE_CATEGORIES)"})
    quarterly_tiers = fields.List(fields.String(), metadata={"description": "risk tiers patrolled quarterly, whose "
                                                                            "elders are judged on the quarter"})
    rule = fields.String(metadata={"description": "month, or quarter_for_quarterly_tiers",
                                   "enum": ["month", "quarter_for_quarterly_tiers"]})


class MonthlyReportSchema(Out):
    region = fields.Nested(ReportRegionSchema)
    month = fields.String()
    period = fields.Nested(PeriodSchema)
    generated_at = fields.AwareDateTime()
    as_of = fields.AwareDateTime(metadata={
        "description": "the figures hold everything committed up to this time: when read on a replica that "
                       "lags, its last replayed commit; otherwise when the report was made"})
    read_from = fields.String(metadata={"enum": ["primary", "replica"],
                                        "description": "the database the figures were read on"})
    month_in_progress = fields.Boolean(metadata={"description": "the month has not ended: figures are to date"})
    figures_until = fields.AwareDateTime(metadata={"description": "where the figures stop: the month's end, or "
                                                                  "the report's time for a month in progress"})
    coverage = fields.Nested(CoverageSchema)
    definitions = fields.Dict(keys=fields.String(), values=fields.String())
    thresholds = fields.Nested(ThresholdsSchema)
    patrol_coverage_target = fields.Float()
    total = fields.Nested(RegionFiguresSchema)
    regions = fields.List(fields.Nested(RegionFiguresSchema),
                          metadata={"description": "the region's direct children"})
    providers = fields.List(fields.Nested(ProviderFiguresSchema))
    service_types = fields.List(fields.Nested(ServiceTypeFiguresSchema))
    caregivers = fields.List(fields.Nested(CaregiverFiguresSchema))
    daily = fields.List(fields.Nested(DayFiguresSchema))
    rectification = fields.List(fields.Nested(RectificationSchema))
    workforce = fields.List(fields.Nested(WorkforceRowSchema))
    overdue_rectifications = fields.List(fields.Nested(OverdueRectificationSchema),
                                         metadata={"description": "orders past their deadline with no response"})
