"""What an accepted item does to its task and to the task's visit.

check_in starts a visit (scheduled → in_progress); check_out completes it with its duration;
a patrol report completes a patrol. Evidence for a task already marked missed completes it as
late-synced. Cancelled tasks keep their state: the evidence is kept and flagged for review.
Items may arrive in any order (a check-out before its check-in, in another batch): the visit is
recomputed from whatever items it holds.
"""

from datetime import datetime

from sqlalchemy import select

from backend.extensions import db
from backend.followups.triggers import after_late_evidence
from backend.tasks.models import Task
from backend.tasks.services import transition
from backend.users.models import User
from backend.visits.models import Visit, VisitItem
from sync import rules

COMPLETING = {"check_out", "patrol_report"}


def apply_item(item: VisitItem, data: dict, task: Task, *, by: User, at: datetime,
               visits: dict[int, Visit] | None = None) -> Visit | None:
    """Attach the item to its task's visit and move the task; returns the visit (None for notes).

    `visits` are the batch's visits by task id, loaded once; a new visit is added to it.
    """
    if item.type == "note":
        return None
    visit = visits.get(task.id) if visits is not None else \
        db.session.execute(select(Visit).where(Visit.task_id == task.id)).scalar_one_or_none()
    if visit is None:
        visit = Visit(task_id=task.id, user_id=item.user_id, flags=[])
        db.session.add(visit)
        if visits is not None:
            visits[task.id] = visit
    _attach(visit, item, data)
    _move_task(task, item, by=by, at=at)
    _recompute(visit, task, item)
    return visit


def _attach(visit: Visit, item: VisitItem, data: dict) -> None:
    if item.type == "check_in":
        if visit.check_in_item_id is not None:
            item.flags = item.flags + [rules.DUPLICATE_CHECK_IN]
            return
        visit.check_in_item_id = item.id
        visit.started_at = item.captured_at_corrected
    elif item.type == "check_out":
        if visit.check_out_item_id is None:
            visit.check_out_item_id = item.id
            visit.ended_at = item.captured_at_corrected
            visit.satisfaction = data.get("satisfaction")
    elif item.type == "patrol_report":
        visit.report_item_id = item.id
        visit.patrol_outcome = data["outcome"]
        visit.patrol_mode = data["mode"]
        visit.started_at = visit.started_at or item.captured_at_corrected
        visit.ended_at = item.captured_at_corrected


def _move_task(task: Task, item: VisitItem, *, by: User, at: datetime) -> None:
    if task.status == "cancelled":
        return
    if task.status == "missed":
        if item.type in COMPLETING or item.type == "check_in":
            item.flags = item.flags + [rules.LATE_SYNC]
            transition(task, "completed", at=at, by=by, by_system="sync",
                       reason="late_sync: evidence arrived after the task was marked missed")
            after_late_evidence(task, at=at)
        return
    if item.type == "check_in" and task.status == "scheduled":
        transition(task, "in_progress", at=at, by=by, by_system="sync")
    elif item.type in COMPLETING and task.status in ("scheduled", "in_progress"):
        transition(task, "completed", at=at, by=by, by_system="sync")


def _recompute(visit: Visit, task: Task, item: VisitItem) -> None:
    """Derive the visit's duration and flags from the items it holds."""
    check_in = db.session.get(VisitItem, visit.check_in_item_id) if visit.check_in_item_id else None
    check_out = db.session.get(VisitItem, visit.check_out_item_id) if visit.check_out_item_id else None
    visit_flags = set(visit.flags) | set(item.flags)
    if check_in and check_out:
        # Same device: two readings of one clock, its offset cancels. Otherwise corrected times.
        same_clock = check_in.device_id == check_out.device_id
        duration = rules.visit_duration(check_in.captured_at if same_clock else check_in.captured_at_corrected,
                                        check_out.captured_at if same_clock else check_out.captured_at_corrected)
        visit.duration_seconds = int(duration.total_seconds())
        visit_flags.discard(rules.CHECK_OUT_WITHOUT_CHECK_IN)
        if rules.too_short(duration, task.min_duration_minutes):
            visit_flags.add(rules.TOO_SHORT)
            if rules.TOO_SHORT not in item.flags:
                item.flags = item.flags + [rules.TOO_SHORT]
    elif check_out and not check_in and item.type == "check_out":
        item.flags = item.flags + [rules.CHECK_OUT_WITHOUT_CHECK_IN]
        visit_flags.add(rules.CHECK_OUT_WITHOUT_CHECK_IN)
    presence = [i for i in (check_in, check_out) if i is not None]
    if item.type == "patrol_report":
        presence.append(item)
    distances = [i.distance_m for i in presence if i.distance_m is not None]
    visit.max_distance_m = max(distances) if distances else None
    verified = {rules.QR_VERIFIED, rules.DYNAMIC_CODE_VERIFIED}
    visit.is_verified = bool(presence) and all(i.qr_flag in verified or i.qr_flag is None for i in presence) \
        and any(i.qr_flag in verified for i in presence) and rules.OUTSIDE_GEOFENCE not in visit_flags
    if item.type == "patrol_report" and item.qr_flag is None:  # a phone call proves no presence
        visit.is_verified = False
    visit_flags.update(f for f in item.flags)
    if rules.LATE_SYNC in item.flags:
        visit.is_late_sync = True
    visit.flags = sorted(visit_flags - verified)
    visit.needs_review = bool(set(visit.flags) & rules.REVIEW_FLAGS - {rules.LATE_SYNC})
