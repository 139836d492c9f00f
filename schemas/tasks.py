"""Visit task payloads."""

from datetime import timedelta

from marshmallow import validate

from schemas import fields
from schemas.common import Out, PageArgs, Strict, page_of
from schemas.vocab import TASK_KINDS, TASK_STATUSES

# The longest a task's window may be: a calendar quarter (92 days), the longest patrol period.
# Readers of a day's tasks (the pull) bound window_start_at by it, which keeps them to the few
# monthly partitions such a window can start in.
LONGEST_WINDOW = timedelta(days=92)


class TaskSchema(Out):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(TASK_KINDS)})
    service_type = fields.String(allow_none=True)
    elder_id = fields.Integer()
    elder_name = fields.Function(lambda t: t.elder.name if t.elder else None)
    assignee_id = fields.Integer(allow_none=True)
    care_plan_id = fields.Integer(allow_none=True)
    patrol_plan_id = fields.Integer(allow_none=True)
    window_start_at = fields.AwareDateTime()
    window_end_at = fields.AwareDateTime()
    window_start_local = fields.String(metadata={"description": "window start in the care time zone"})
    window_end_local = fields.String()
    min_duration_minutes = fields.Integer()
    status = fields.String(metadata={"enum": list(TASK_STATUSES)})
    status_changed_at = fields.AwareDateTime()
    cancel_reason = fields.String(allow_none=True)
    version = fields.Integer()


class TaskListArgs(PageArgs):
    status = fields.List(fields.String(validate=validate.OneOf(TASK_STATUSES)))
    kind = fields.String(validate=validate.OneOf(TASK_KINDS))
    service_type = fields.String(validate=validate.Length(max=32))
    elder_id = fields.Integer(validate=validate.Range(min=1))
    assignee_id = fields.Integer(validate=validate.Range(min=1))
    region_id = fields.Integer(validate=validate.Range(min=1))
    window_from = fields.AwareDateTime(metadata={"description": "windows ending after this instant"})
    window_to = fields.AwareDateTime(metadata={"description": "windows starting before this instant"})


TaskPageSchema = page_of(TaskSchema)


class ReassignSchema(Strict):
    assignee_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1),
                                 metadata={"description": "an active caregiver of the task's provider"})
