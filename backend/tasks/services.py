"""Task state changes, reassignment and plan-driven replacement of future tasks.

Every transition is recorded as a TaskEvent naming who or what made it. Problems raised:
version_conflict (409) when an edit names a stale version.
"""

from datetime import datetime

from sqlalchemy import select

from backend.errors import Conflict
from backend.extensions import db
from backend.tasks.models import Task, TaskEvent, TaskRemoval
from backend.users.models import User


def transition(task: Task, to_status: str, *, at: datetime, by: User | None = None,
               by_system: str | None = None, reason: str | None = None) -> None:
    if task.status == to_status:
        return
    db.session.add(TaskEvent(task_id=task.id, at=at, from_status=task.status, to_status=to_status,
                             by_user_id=by.id if by else None, by_system=by_system, reason=reason))
    task.status = to_status
    task.status_changed_at = at


def cancel(task: Task, *, at: datetime, reason: str, by: User | None = None, by_system: str | None = None):
    task.cancel_reason = reason
    transition(task, "cancelled", at=at, by=by, by_system=by_system, reason=reason)


def reassign(task: Task, assignee: User | None, *, at: datetime, by: User | None = None,
             by_system: str | None = None) -> None:
    """Hand a task to someone else; the previous assignee's phone is told to drop it."""
    if task.assignee_id == (assignee.id if assignee else None):
        return
    if task.assignee_id is not None:
        db.session.add(TaskRemoval(user_id=task.assignee_id, task_id=task.id, reason="reassigned", at=at))
    db.session.add(TaskEvent(task_id=task.id, at=at, from_status=task.status, to_status=task.status,
                             by_user_id=by.id if by else None, by_system=by_system,
                             reason=f"reassigned to {assignee.username if assignee else 'nobody'}"))
    task.assignee_id = assignee.id if assignee else None


def check_version(task: Task, expected: int | None) -> None:
    if expected is not None and expected != task.version:
        raise Conflict(f"task {task.id} is at version {task.version}, not {expected}",
                       code="version_conflict", current_version=task.version)


def future_unstarted(*, now: datetime, care_plan_id=None, care_plan_item_id=None, patrol_plan_id=None,
                     include_open_window: bool = False):
    """Scheduled tasks of a plan whose window has not opened (or, for patrols, not closed) yet."""
    query = select(Task).where(Task.status == "scheduled")
    if care_plan_id is not None:
        query = query.where(Task.care_plan_id == care_plan_id)
    if care_plan_item_id is not None:
        query = query.where(Task.care_plan_item_id == care_plan_item_id)
    if patrol_plan_id is not None:
        query = query.where(Task.patrol_plan_id == patrol_plan_id)
    query = query.where(Task.window_end_at > now if include_open_window else Task.window_start_at > now)
    return db.session.execute(query.order_by(Task.id)).scalars().all()


def cancel_future(tasks, *, at: datetime, reason: str, by: User | None = None) -> int:
    for task in tasks:
        cancel(task, at=at, reason=reason, by=by)
    return len(tasks)
