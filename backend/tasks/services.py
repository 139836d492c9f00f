"""Task state changes, reassignment and plan-driven replacement of future tasks.

Every transition is recorded as a TaskEvent naming who or what made it.
"""

from datetime import datetime

from sqlalchemy import select

from backend.elders.models import Elder
from backend.errors import NotFound
from backend.extensions import db
from backend.regions.models import Region
from backend.scope import tasks_clause
from backend.tasks.models import Task, TaskEvent, TaskRemoval
from backend.users.models import User


def listed(user: User, args: dict):
    """The tasks a user may see (caregivers and community workers their own, supervisors their
    region's, admins all), filtered as the list arguments say, by window start.

    Raises NotFound for a region_id that names no region."""
    query = select(Task).where(tasks_clause(user))
    if args.get("status"):
        query = query.where(Task.status.in_(args["status"]))
    for name in ("kind", "service_type", "elder_id", "assignee_id"):
        if name in args:
            query = query.where(getattr(Task, name) == args[name])
    if "region_id" in args:
        region = db.session.get(Region, args["region_id"])
        if region is None:
            raise NotFound("region")
        in_region = select(Elder.id).join(Region, Elder.community_id == Region.id) \
            .where(Region.path.startswith(region.path))
        query = query.where(Task.elder_id.in_(in_region))
    if "window_from" in args:
        query = query.where(Task.window_end_at > args["window_from"])
    if "window_to" in args:
        query = query.where(Task.window_start_at < args["window_to"])
    return query.order_by(Task.window_start_at, Task.id)


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
