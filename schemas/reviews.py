"""Review and call-back payloads, and their vocabulary: decisions, reason codes, call-back outcomes."""

from marshmallow import validate

from schemas import fields
from schemas.common import Out, PageArgs, Strict, page_of

# What a supervisor may decide about a visit, and the reason codes each decision accepts.
REVIEW_DECISIONS = ("approved", "rejected", "explanation_requested")
REASON_CODES = {
    "approved": (
        "evidence_sufficient",      # the flags were looked at; the evidence is enough
        "explained_acceptably",     # the provider's explanation was accepted
        "device_problem_verified",  # a phone, GPS or plate fault, confirmed
        "confirmed_by_elder",       # the elder or family confirmed the visit
        "other",                    # needs a comment saying what
    ),
    "rejected": (  # the visit does not count and is not payable
        "no_presence_evidence",
        "duration_too_short",
        "visit_did_not_happen",
        "duplicate_claim",
        "wrong_elder",
        "no_explanation_given",
        "other",
    ),
    "explanation_requested": (
        "missing_qr",
        "outside_geofence",
        "clock_problem",
        "duration_short",
        "wrong_plate",
        "offline_change",           # cancelled or reassigned while the phone was offline
        "other",
    ),
}
ALL_REASON_CODES = tuple(sorted({code for codes in REASON_CODES.values() for code in codes}))

CALLBACK_STATUSES = ("pending", "done", "unreachable", "cancelled")  # cancelled: its draw was redrawn
CALLBACK_OUTCOMES = ("done", "unreachable")

_comment = validate.Length(max=2000)


class ExplanationSchema(Out):
    id = fields.Integer()
    review_id = fields.Integer()
    text = fields.String()
    explained_by_id = fields.Integer()
    explained_at = fields.AwareDateTime()


class ExplainSchema(Strict):
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class ReviewSchema(Out):
    id = fields.Integer()
    task_id = fields.Integer()
    visit_id = fields.Integer()
    seq = fields.Integer(metadata={"description": "1 for the visit's first decision, then 2, 3, …"})
    decision = fields.String(metadata={"enum": list(REVIEW_DECISIONS)})
    reason_code = fields.String(metadata={"enum": list(ALL_REASON_CODES)})
    comment = fields.String(allow_none=True)
    decided_by_id = fields.Integer()
    decided_at = fields.AwareDateTime()
    superseded_by_id = fields.Integer(allow_none=True)
    is_current = fields.Boolean(metadata={"description": "the visit's decision now (not superseded)"})
    locks_at = fields.AwareDateTime(metadata={"description": "from then on only an admin's unlock allows "
                                                             "a new decision"})
    is_locked = fields.Boolean()
    unlocked_at = fields.AwareDateTime(allow_none=True)
    unlocked_by_id = fields.Integer(allow_none=True)
    unlock_reason = fields.String(allow_none=True)
    explanation = fields.Nested(ExplanationSchema, allow_none=True,
                                metadata={"description": "the provider's answer to a request for an explanation"})


class ReviewCreateSchema(Strict):
    task_id = fields.Integer(required=True, validate=validate.Range(min=1))
    decision = fields.String(required=True, validate=validate.OneOf(REVIEW_DECISIONS))
    reason_code = fields.String(required=True, validate=validate.OneOf(ALL_REASON_CODES),
                                metadata={"description": "one of the codes of the decision; `other` needs "
                                                         "a comment"})
    comment = fields.String(load_default=None, allow_none=True, validate=_comment)


class ReviewListArgs(PageArgs):
    task_id = fields.Integer(required=True, validate=validate.Range(min=1))


class UnlockSchema(Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class QueueEntrySchema(Out):
    task_id = fields.Integer(attribute="visit.task_id")
    visit_id = fields.Integer(attribute="visit.id")
    elder_id = fields.Integer(attribute="visit.task.elder_id")
    elder_name = fields.String(attribute="visit.task.elder.name")
    user_id = fields.Integer(attribute="visit.user_id", metadata={"description": "who made the visit"})
    provider_id = fields.Integer(allow_none=True)
    service_type = fields.String(attribute="visit.task.service_type", allow_none=True)
    window_start_at = fields.AwareDateTime(attribute="visit.task.window_start_at")
    started_at = fields.AwareDateTime(attribute="visit.started_at", allow_none=True)
    ended_at = fields.AwareDateTime(attribute="visit.ended_at", allow_none=True)
    duration_seconds = fields.Integer(attribute="visit.duration_seconds", allow_none=True)
    min_duration_minutes = fields.Integer(attribute="visit.task.min_duration_minutes")
    flags = fields.List(fields.String(), attribute="visit.flags")
    is_verified = fields.Boolean(attribute="visit.is_verified")
    awaiting_explanation = fields.Boolean(metadata={"description": "an explanation was asked for and the "
                                                                   "visit awaits a decision"})
    current_review = fields.Nested(ReviewSchema, allow_none=True)


class QueueArgs(PageArgs):
    provider_id = fields.Integer(validate=validate.Range(min=1))
    flag = fields.String(validate=validate.Regexp(r"^[a-z_]{1,32}$"),
                         metadata={"description": "visits carrying this flag, e.g. qr_missing"})
    date_from = fields.Date(metadata={"description": "windows starting on or after this day (care time zone)"})
    date_to = fields.Date(metadata={"description": "windows starting on or before this day (care time zone)"})


class DrawCreateSchema(Strict):
    month = fields.Month(required=True, metadata={"example": "2026-11"})
    share = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=1, min_inclusive=False),
                         metadata={"description": "share of each provider's completed visits (default 0.05); "
                                                  "admins only"})
    seed = fields.Integer(bits=64, load_default=None, allow_none=True, validate=validate.Range(min=0, max=2**63 - 1),
                          metadata={"description": "default: derived from month and provider; admins only"})
    redraw = fields.Boolean(load_default=False, metadata={"description": "draw again; admins only, with a reason"})
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class DrawSchema(Out):
    id = fields.Integer()
    month = fields.String()
    provider_id = fields.Integer()
    round = fields.Integer(metadata={"description": "1, then one more for each redraw"})
    seed = fields.Integer(bits=64)
    share = fields.Float()
    population = fields.Integer(metadata={"description": "completed service visits of the month"})
    population_digest = fields.String(metadata={"description": "SHA-256 of the population's task ids"})
    drawn = fields.Function(lambda d: len(d.drawn_task_ids))
    drawn_at = fields.AwareDateTime()
    drawn_by_id = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)


class DrawResultSchema(Out):
    month = fields.String()
    draws = fields.List(fields.Nested(DrawSchema))


class CallbackSchema(Out):
    id = fields.Integer()
    draw_id = fields.Integer()
    month = fields.String(attribute="draw.month")
    provider_id = fields.Integer(attribute="draw.provider_id")
    task_id = fields.Integer()
    elder_id = fields.Integer(attribute="task.elder_id")
    elder_name = fields.String(attribute="task.elder.name")
    elder_phone = fields.String(attribute="task.elder.phone", allow_none=True)
    service_type = fields.String(attribute="task.service_type", allow_none=True)
    window_start_at = fields.AwareDateTime(attribute="task.window_start_at")
    status = fields.String(metadata={"enum": list(CALLBACK_STATUSES)})
    confirmed = fields.Boolean(attribute="is_confirmed", allow_none=True)
    satisfaction = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    attempts = fields.Integer()
    called_by_id = fields.Integer(allow_none=True)
    called_at = fields.AwareDateTime(allow_none=True)
    followup_id = fields.Integer(allow_none=True, metadata={"description": "the unverified_visit follow-up a "
                                                                          "disagreement opened"})


class CallbackListArgs(PageArgs):
    month = fields.Month()
    provider_id = fields.Integer(validate=validate.Range(min=1))
    status = fields.List(fields.String(validate=validate.OneOf(CALLBACK_STATUSES)))


class CallbackRecordSchema(Strict):
    status = fields.String(load_default="done", validate=validate.OneOf(CALLBACK_OUTCOMES),
                           metadata={"description": "`unreachable` may be recorded again on a later try"})
    confirmed = fields.Boolean(load_default=None, allow_none=True,
                               metadata={"description": "the elder confirms the visit; required when done"})
    satisfaction = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=5))
    note = fields.String(load_default=None, allow_none=True, validate=_comment)


ReviewPageSchema = page_of(ReviewSchema)
QueuePageSchema = page_of(QueueEntrySchema)
CallbackPageSchema = page_of(CallbackSchema)
