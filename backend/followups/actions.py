"""What people do with a follow-up: claim it, comment on it, resolve it (making up the visit in the
same step when it is to be rescheduled) and, as a supervisor, reopen it.

Every step writes a FollowupEvent. A resolved follow-up is locked until a supervisor reopens it.
Services add and flush; the caller commits. Problems raised: followup_locked (409) on acting on a
resolved follow-up, not_resolved (409) on reopening an unresolved one, already_claimed (409),
version_conflict (409) when `version` is stale, forbidden (403), validation_failed (422) naming
the field (a note for `other`, a reason to reopen, a make-up window or assignee).
"""

import uuid
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from backend.errors import Conflict, Forbidden, ValidationFailed
from backend.extensions import db
from backend.followups.models import ACTIVE, Followup, FollowupEvent
from backend.followups.services import due_minutes, notify, supervises
from backend.tasks.generation import set_deadlines
from backend.tasks.models import Task, TaskEvent
from backend.users.models import User
from backend.versions import check_version
from schemas.followups import RESOLUTION_CODES

# Who may be handed the make-up visit of each kind of task.
ASSIGNEE_ROLE = {"service": "caregiver", "patrol": "community_worker"}


def claim(followup: Followup, *, by: User, at: datetime, version: int | None = None) -> Followup:
    """Take the follow-up on: its owner, or a supervisor in scope (or an admin)."""
    _check_active(followup, version)
    if followup.owner_id != by.id and not supervises(followup, by):
        raise Forbidden(_l("only the owner or a supervisor of its region may claim this follow-up"))
    if followup.status == "claimed":
        if followup.claimed_by_id == by.id:
            return followup
        raise Conflict(_l("follow-up %(followup_id)s is already claimed", followup_id=followup.id),
                       code="already_claimed", status=409,
                       claimed_by_id=followup.claimed_by_id)
    followup.status = "claimed"
    followup.claimed_by_id = by.id
    _event(followup, "claimed", by, at)
    return followup


def comment(followup: Followup, text: str, *, by: User, at: datetime, version: int | None = None) -> FollowupEvent:
    _check_active(followup, version)
    _check_may_act(followup, by)
    if not text or not text.strip():
        raise ValidationFailed("text", _l("a comment needs text"))
    return _event(followup, "commented", by, at, note=text.strip())


def resolve(followup: Followup, code: str, note: str | None, *, by: User, at: datetime,
            reschedule: dict | None = None, version: int | None = None) -> Followup:
    """Close the follow-up with a reason code; `rescheduled` (or a `reschedule` window) also creates
    the make-up task, linked as rescheduled_task_id."""
    _check_active(followup, version)
    _check_may_act(followup, by)
    if followup.kind == "register_change":
        raise Conflict(_l("Close this follow-up by confirming or rejecting its status report"),
                       code="status_report_undecided", status=409,
                       status_report_id=(followup.details or {}).get("status_report_id"))
    if code not in RESOLUTION_CODES:
        raise ValidationFailed("code", _l("not one of %(codes)s", codes=", ".join(RESOLUTION_CODES)))
    note = (note or "").strip() or None
    if code == "other" and note is None:
        raise ValidationFailed("note", _l("required when the code is other"))
    if code == "rescheduled" and reschedule is None:
        raise ValidationFailed("reschedule", _l("required when the code is rescheduled"))
    makeup = _make_up(followup, reschedule, by=by, at=at) if reschedule is not None else None
    followup.status = "resolved"
    followup.resolved_at = at
    followup.resolved_by_id = by.id
    followup.resolution_code = code
    followup.resolution_note = note
    followup.rescheduled_task_id = makeup.id if makeup else None
    _event(followup, "resolved", by, at, note=note,
           data={"resolution_code": code, "rescheduled_task_id": makeup.id if makeup else None})
    return followup


def reopen(followup: Followup, reason: str, *, by: User, at: datetime, version: int | None = None) -> Followup:
    """Unlock a resolved follow-up: supervisors in scope and admins only, with a reason. The owner
    gets a fresh due time; the former resolution stays in the history."""
    check_version(followup, version, what="follow-up")
    if not supervises(followup, by):
        raise Forbidden(_l("only a supervisor of its region or an admin may reopen a follow-up"))
    if followup.status != "resolved":
        raise Conflict(_l("follow-up %(followup_id)s is not resolved", followup_id=followup.id), code="not_resolved",
                       status=409)
    if not reason or not reason.strip():
        raise ValidationFailed("reason", _l("reopening needs a reason"))
    previous = {"resolution_code": followup.resolution_code, "resolved_at": followup.resolved_at.isoformat(),
                "rescheduled_task_id": followup.rescheduled_task_id}
    followup.status = "open"
    followup.claimed_by_id = None
    followup.resolved_at = followup.resolved_by_id = None
    followup.resolution_code = followup.resolution_note = None
    followup.rescheduled_task_id = None
    followup.due_at = at + timedelta(minutes=due_minutes(followup))
    followup.overdue_notified_at = None
    event = _event(followup, "reopened", by, at, note=reason.strip(), data={"previous": previous})
    if followup.owner_id is not None and followup.owner_id != by.id:
        notify(followup.owner_id, "reopened", at=at, followup=followup, title="跟进事项被重新打开：" + followup.summary,
               body=reason.strip(), step=f"e{event.id}")
    return followup


def _make_up(followup: Followup, reschedule: dict, *, by: User, at: datetime) -> Task:
    missed = db.session.get(Task, followup.task_id) if followup.task_id else None
    if missed is None:
        raise ValidationFailed("reschedule", _l("this follow-up has no visit to make up"))
    start, end = reschedule["window_start_at"], reschedule["window_end_at"]
    if end <= start:
        raise ValidationFailed("reschedule.window_end_at", _l("must be after window_start_at"))
    if end <= at:
        raise ValidationFailed("reschedule.window_end_at", _l("must be in the future"))
    assignee_id = reschedule.get("assignee_id") or missed.assignee_id
    assignee = db.session.get(User, assignee_id) if assignee_id else None
    if assignee is None or not assignee.is_active or assignee.role != ASSIGNEE_ROLE[missed.kind]:
        raise ValidationFailed("reschedule.assignee_id", _l("needs an active caregiver") if missed.kind == "service"
                               else _l("needs an active community worker"))
    # The plan link keeps the provider answerable; the item link stays empty so plan revisions
    # never count the make-up visit as one of the plan's own slots.
    row = {"kind": missed.kind, "service_type": missed.service_type, "elder_id": missed.elder_id,
           "assignee_id": assignee.id, "care_plan_id": missed.care_plan_id, "patrol_plan_id": missed.patrol_plan_id,
           "window_start_at": start, "window_end_at": end, "min_duration_minutes": missed.min_duration_minutes,
           "source_key": f"manual:{uuid.uuid4()}", "status": "scheduled", "status_changed_at": at}
    set_deadlines([row])
    task = Task(**row)
    db.session.add(task)
    db.session.flush()
    db.session.add(TaskEvent(task_id=task.id, at=at, from_status=None, to_status="scheduled", by_user_id=by.id,
                             reason=f"make-up visit for task {missed.id} (follow-up {followup.id})"))
    return task


def _check_may_act(followup: Followup, by: User) -> None:
    if followup.owner_id != by.id and followup.claimed_by_id != by.id and not supervises(followup, by):
        raise Forbidden(_l("only the owner, its claimant or a supervisor of its region may act on it"))


def _check_active(followup: Followup, version: int | None) -> None:
    if followup.status not in ACTIVE:
        raise Conflict(_l("follow-up %(followup_id)s is resolved; a supervisor must reopen it first",
                          followup_id=followup.id),
                       code="followup_locked", status=409)
    check_version(followup, version, what="follow-up")


def _event(followup: Followup, action: str, by: User, at: datetime, note: str | None = None,
           data: dict | None = None) -> FollowupEvent:
    event = FollowupEvent(followup_id=followup.id, at=at, action=action, by_user_id=by.id, note=note,
                          data=data or {})
    db.session.add(event)
    db.session.flush()
    return event
