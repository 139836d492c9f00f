"""The visit log's payloads: its filters, one row per visit with its evidence, a visit's history."""

from marshmallow import ValidationError, validate, validates_schema

from schemas import fields
from schemas.common import Out, Strict
from schemas.vocab import TASK_KINDS, TASK_STATUSES

# The flags a visit can carry: every server flag but the two good-news *_verified ones, which
# show as `is_verified` instead. Kept equal to sync.rules.VISIT_FLAGS by a test.
VISIT_FLAGS = (
    "qr_missing", "qr_invalid", "qr_wrong_elder", "qr_revoked", "outside_geofence", "no_location", "clock_skew",
    "future_capture", "before_task_created", "outside_window", "out_of_order", "too_short",
    "check_out_without_check_in", "duplicate_check_in", "task_cancelled", "task_reassigned", "late_upload",
    "after_missed", "overlapping_visit", "impossible_travel",
)
VERIFICATIONS = ("verified", "unverified", "needs_review")
# What evidence and review decisions make of a visit (backend/reviews/verification.py derives it).
VERIFICATION_STATES = ("verified_automatically", "verified_on_review", "rejected_on_review", "awaiting_review",
                       "unverified")
SORTS = ("window_start_at", "-window_start_at")
HISTORY_KINDS = ("task_created", "item_accepted", "duplicate_received", "item_quarantined", "state_changed",
                 "followup_event", "review", "review_unlocked")


class VisitFilterArgs(Strict):
    region_id = fields.Integer(validate=validate.Range(min=1), metadata={"description": "a region and its subtree"})
    provider_id = fields.Integer(validate=validate.Range(min=1))
    caregiver_id = fields.Integer(validate=validate.Range(min=1), metadata={"description": "the task's assignee"})
    community_worker_id = fields.Integer(validate=validate.Range(min=1), metadata={
        "description": "the task's assignee, a community worker (the console offers caregivers and workers apart)"})
    elder_id = fields.Integer(validate=validate.Range(min=1))
    service_type = fields.String(validate=validate.Length(min=1, max=32))
    kind = fields.String(validate=validate.OneOf(TASK_KINDS))
    status = fields.List(fields.String(validate=validate.OneOf(TASK_STATUSES)))
    flag = fields.String(validate=validate.OneOf(VISIT_FLAGS))
    verification = fields.String(validate=validate.OneOf(VERIFICATIONS),
                                 metadata={"description": "visits proven by QR, not proven, or awaiting review"})
    verification_state = fields.String(validate=validate.OneOf(VERIFICATION_STATES), metadata={
        "description": "the visit's verification state, review decisions included (a rejected visit is "
                       "rejected_on_review); tasks without a visit never match"})
    date_from = fields.Date(metadata={"description": (
        "first local day of the visit, inclusive: the day of its check-in, else of its report or check-out; "
        "a task without evidence is on every day its window covers")})
    date_to = fields.Date(metadata={"description": "last local day of the visit, inclusive (as date_from)"})
    window_from = fields.Date(metadata={"description": "first local day of the window start, inclusive"})
    window_to = fields.Date(metadata={"description": "last local day of the window start, inclusive"})
    sort = fields.String(load_default="-window_start_at", validate=validate.OneOf(SORTS))

    @validates_schema
    def _dates_in_order(self, data, **kwargs):
        for first, last in (("date_from", "date_to"), ("window_from", "window_to")):
            if data.get(first) and data.get(last) and data[last] < data[first]:
                raise ValidationError(f"must not be before {first}", last)



class VisitExportArgs(VisitFilterArgs):
    codes = fields.Boolean(load_default=False, metadata={"description": (
        "true: headers and values as machine codes, ISO times and true/false (for integrations); "
        "otherwise headers and coded values in the caller's language")})

class VisitListArgs(VisitFilterArgs):
    cursor = fields.String(validate=validate.Length(min=1, max=512),
                           metadata={"description": "next_cursor of the previous page, with the same filters"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class FollowupBriefSchema(Out):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String()


class VisitRowSchema(Out):
    id = fields.Integer(metadata={"description": "the task's id"})
    kind = fields.String(metadata={"enum": list(TASK_KINDS)})
    service_type = fields.String(allow_none=True)
    service_name = fields.String(allow_none=True)
    elder_id = fields.Integer()
    elder_name = fields.String()
    caregiver_id = fields.Integer(allow_none=True)
    caregiver_name = fields.String(allow_none=True)
    performed_by_id = fields.Integer(allow_none=True, metadata={"description": "who pushed the evidence"})
    provider_id = fields.Integer(allow_none=True)
    provider_name = fields.String(allow_none=True)
    community_id = fields.Integer()
    community_name = fields.String()
    street_name = fields.String(allow_none=True)
    window_start_at = fields.AwareDateTime()
    window_end_at = fields.AwareDateTime()
    status = fields.String(metadata={"enum": list(TASK_STATUSES)})
    check_in_at = fields.AwareDateTime(allow_none=True, metadata={"description": "device clock"})
    check_in_at_corrected = fields.AwareDateTime(allow_none=True, metadata={"description": "server clock"})
    check_out_at = fields.AwareDateTime(allow_none=True, metadata={"description": "device clock; patrols: report"})
    check_out_at_corrected = fields.AwareDateTime(allow_none=True)
    duration_seconds = fields.Integer(allow_none=True)
    is_verified = fields.Boolean(allow_none=True, metadata={"description": "presence proven by QR (None: no visit)"})
    check_in_qr = fields.String(allow_none=True)
    check_out_qr = fields.String(allow_none=True)
    distance_m = fields.Float(allow_none=True, metadata={"description": "farthest fix from the elder's home"})
    flags = fields.List(fields.String())
    is_late_sync = fields.Boolean(allow_none=True, metadata={
        "description": "the evidence completed a task already marked missed (flag after_missed)"})
    satisfaction = fields.Integer(allow_none=True)
    patrol_outcome = fields.String(allow_none=True)
    patrol_mode = fields.String(allow_none=True)
    needs_review = fields.Boolean(allow_none=True)
    verification_state = fields.String(allow_none=True, metadata={
        "enum": list(VERIFICATION_STATES),
        "description": "evidence and the current review decision together; None: no visit"})
    followups = fields.List(fields.Nested(FollowupBriefSchema))


class VisitPageSchema(Out):
    items = fields.List(fields.Nested(VisitRowSchema))
    next_cursor = fields.String(allow_none=True, metadata={"description": "None on the last page"})


class WhoSchema(Out):
    user_id = fields.Integer(allow_none=True)
    username = fields.String(allow_none=True)
    system = fields.String(allow_none=True, metadata={"description": "a job or process: sweep, sync, generator"})


class HistoryEntrySchema(Out):
    at = fields.AwareDateTime()
    kind = fields.String(metadata={"enum": list(HISTORY_KINDS)})
    who = fields.Nested(WhoSchema)
    details = fields.Dict(keys=fields.String())


class VisitHistorySchema(Out):
    visit = fields.Nested(VisitRowSchema)
    history = fields.List(fields.Nested(HistoryEntrySchema))
