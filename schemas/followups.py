"""Follow-up and notification payloads, and their vocabulary (kinds, statuses, resolution codes)."""

from marshmallow import ValidationError, validate, validates_schema

from schemas import fields
from schemas.common import Out, PageArgs, Strict, page_of
from schemas.tasks import LONGEST_WINDOW

FOLLOWUP_KINDS = ("missed_visit", "unverified_visit", "patrol_concern", "welfare_check", "reassessment",
                  "worker_pattern", "register_change")
FOLLOWUP_STATUSES = ("open", "claimed", "resolved")
FOLLOWUP_PRIORITIES = ("normal", "high", "urgent")
RESOLUTION_CODES = (
    "elder_in_hospital",
    "elder_refused",
    "elder_not_at_home",
    "caregiver_absent",
    "rescheduled",              # a make-up task is created in the same step
    "visited_late_evidence",    # visited; the evidence arrived late
    "visited_evidence_lost",    # visited; the evidence was lost
    "false_alarm",
    "other",                    # needs a note saying what
)
# How a register_change follow-up closes: only by deciding its status report (backend/register).
DECISION_CODES = ("status_confirmed", "status_rejected")
# What a follow-up's history records; auto_resolved is the system closing it when facts change.
FOLLOWUP_ACTIONS = ("opened", "claimed", "commented", "escalated", "resolved", "auto_resolved", "reopened")
NOTIFICATION_EVENTS = ("assigned", "escalated", "overdue", "reopened", "late_start", "explanation_asked",
                       "rectification_issued", "explanation_given", "rectification_answer",
                       "rectification_update")

_note = validate.Length(max=2000)


class FollowupEventSchema(Out):
    id = fields.Integer()
    at = fields.AwareDateTime()
    action = fields.String(metadata={"enum": list(FOLLOWUP_ACTIONS)})
    by_user_id = fields.Integer(allow_none=True)
    by_system = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    data = fields.Dict()


class FollowupSchema(Out):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(FOLLOWUP_KINDS)})
    priority = fields.String(metadata={"enum": list(FOLLOWUP_PRIORITIES)})
    status = fields.String(metadata={"enum": list(FOLLOWUP_STATUSES)})
    summary = fields.String()
    elder_id = fields.Integer(allow_none=True)
    elder_name = fields.Function(lambda f: f.elder.name if f.elder else None)
    task_id = fields.Integer(allow_none=True)
    subject_user_id = fields.Integer(allow_none=True)
    provider_id = fields.Integer(allow_none=True)
    region_id = fields.Integer(allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    claimed_by_id = fields.Integer(allow_none=True)
    opened_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime()
    escalation_level = fields.Integer()
    details = fields.Dict()
    resolved_at = fields.AwareDateTime(allow_none=True)
    resolved_by_id = fields.Integer(allow_none=True)
    resolution_code = fields.String(allow_none=True, metadata={"enum": list(RESOLUTION_CODES + DECISION_CODES)})
    resolution_note = fields.String(allow_none=True)
    rescheduled_task_id = fields.Integer(allow_none=True)
    version = fields.Integer()


class FollowupDetailSchema(FollowupSchema):
    events = fields.List(fields.Nested(FollowupEventSchema))
    emergency_contacts = fields.Function(
        lambda f: f.elder.emergency_contacts if f.kind == "welfare_check" and f.elder else None,
        metadata={"description": "the elder's emergency contacts, for welfare checks only"})


class FollowupListArgs(PageArgs):
    status = fields.List(fields.String(validate=validate.OneOf(FOLLOWUP_STATUSES)))
    kind = fields.String(validate=validate.OneOf(FOLLOWUP_KINDS))
    priority = fields.String(validate=validate.OneOf(FOLLOWUP_PRIORITIES))
    overdue = fields.Boolean(metadata={"description": "only unresolved follow-ups past their due time"})
    owner = fields.String(validate=validate.OneOf(["me"]), metadata={"description": "`me`: only mine"})


class VersionedSchema(Strict):
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class ClaimSchema(VersionedSchema):
    pass


class CommentSchema(Strict):
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    version = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1))


class RescheduleSchema(Strict):
    window_start_at = fields.AwareDateTime(required=True)
    window_end_at = fields.AwareDateTime(required=True)
    assignee_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1),
                                 metadata={"description": "default: the missed task's assignee"})

    @validates_schema
    def _window_in_order(self, data, **kwargs):
        if data["window_end_at"] <= data["window_start_at"]:
            raise ValidationError("Must be after window_start_at.", "window_end_at")
        if data["window_end_at"] - data["window_start_at"] > LONGEST_WINDOW:
            raise ValidationError("Must be at most 92 days after window_start_at.", "window_end_at")


class ResolveSchema(VersionedSchema):
    code = fields.String(required=True, validate=validate.OneOf(RESOLUTION_CODES))
    note = fields.String(load_default=None, allow_none=True, validate=_note)
    reschedule = fields.Nested(RescheduleSchema, load_default=None, allow_none=True)


class ReopenSchema(VersionedSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class NotificationSchema(Out):
    id = fields.Integer()
    event = fields.String(metadata={"enum": list(NOTIFICATION_EVENTS)})
    followup_id = fields.Integer(allow_none=True)
    task_id = fields.Integer(allow_none=True)
    title = fields.String()
    body = fields.String()
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)
    is_read = fields.Function(lambda n: n.read_at is not None)


class NotificationListArgs(PageArgs):
    unread = fields.Boolean(metadata={"description": "only unread notifications"})


class ReadAllSchema(Out):
    marked = fields.Integer()


FollowupPageSchema = page_of(FollowupSchema)
NotificationPageSchema = page_of(NotificationSchema)
