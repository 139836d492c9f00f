"""Monthly report payloads: the query arguments and the shape of the figures."""

import re
from datetime import date

from marshmallow import ValidationError, fields, validate

from schemas.common import Out, Strict


class Month(fields.Field):
    """A calendar month written YYYY-MM, loaded as the date of its first day."""

    _pattern = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

    def _deserialize(self, value, attr, data, **kwargs):
        match = self._pattern.match(value) if isinstance(value, str) else None
        if match is None or not 2000 <= int(match[1]) <= 2100:
            raise ValidationError("must be a month as YYYY-MM (2000-01 … 2100-12)")
        return date(int(match[1]), int(match[2]), 1)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.strftime("%Y-%m")


class MonthlyReportArgs(Strict):
    region = fields.Integer(required=True, validate=validate.Range(min=1),
                            metadata={"description": "a district, street or community id"})
    month = Month(required=True, metadata={"description": "YYYY-MM, in the care time zone",
                                           "type": "string", "example": "2026-11"})


_rate = {"allow_none": True, "metadata": {"description": "0…1; null when there is nothing to divide by"}}


class VisitFiguresSchema(Out):
    planned = fields.Integer()
    completed = fields.Integer()
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
    followups_opened = fields.Integer()
    followups_resolved = fields.Integer()
    followups_overdue = fields.Integer()


class RegionFiguresSchema(VisitFiguresSchema):
    region_id = fields.Integer()
    name = fields.String()
    level = fields.String()
    in_scope_elders = fields.Integer()
    in_scope_elders_visited = fields.Integer()
    patrol_coverage = fields.Float(**_rate)


class ProviderFiguresSchema(VisitFiguresSchema):
    provider_id = fields.Integer()
    name = fields.String()


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
    completed_on_time = fields.Integer()
    late_synced = fields.Integer()
    missed = fields.Integer()
    verified = fields.Integer()
    verification_rate = fields.Float(**_rate)
    satisfaction_rated = fields.Integer()
    satisfaction_mean = fields.Float(allow_none=True)
    satisfaction_low_share = fields.Float(**_rate)


class DayFiguresSchema(Out):
    date = fields.Date()
    planned = fields.Integer()
    completed = fields.Integer()


class RectificationSchema(Out):
    provider_id = fields.Integer()
    name = fields.String()
    completed = fields.Integer()
    verification_rate = fields.Float(allow_none=True)
    satisfaction_rated = fields.Integer()
    satisfaction_mean = fields.Float(allow_none=True)
    failed = fields.List(fields.String(validate=validate.OneOf(("satisfaction", "verification"))))


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


class MonthlyReportSchema(Out):
    region = fields.Nested(ReportRegionSchema)
    month = fields.String()
    period = fields.Nested(PeriodSchema)
    generated_at = fields.AwareDateTime()
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
