"""GET /tasks and /tasks/{id}: the caller's tasks, or the scope's tasks for supervisors and admins."""

from flask import g
from flask_smorest import Blueprint
from sqlalchemy import select

from backend.elders.models import Elder
from backend.errors import NotFound
from backend.extensions import db
from backend.pagination import paginate
from backend.regions.models import Region
from backend.scope import tasks_clause
from backend.tasks.models import Task
from schemas.tasks import TaskListArgs, TaskPageSchema, TaskSchema

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="Visit tasks")


@blp.get("")
@blp.arguments(TaskListArgs, location="query")
@blp.response(200, TaskPageSchema)
def list_tasks(args):
    """Caregivers and community workers see their own tasks; supervisors their region; admins all."""
    query = select(Task).where(tasks_clause(g.user))
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
    query = query.order_by(Task.window_start_at, Task.id)
    return paginate(query, page=args["page"], per_page=args["per_page"])


@blp.get("/<int:task_id>")
@blp.response(200, TaskSchema)
def get_task(task_id):
    task = db.session.execute(select(Task).where(Task.id == task_id, tasks_clause(g.user))).scalar_one_or_none()
    if task is None:
        raise NotFound("task")
    return task
