"""GET /tasks and /tasks/{id}: the caller's tasks, or the scope's tasks for supervisors and admins."""

from flask import g

from backend.api import Blueprint
from backend.pagination import paginate
from backend.scope import scoped_or_404, tasks_clause
from backend.tasks import services
from backend.tasks.models import Task
from schemas.tasks import TaskListArgs, TaskPageSchema, TaskSchema

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="Visit tasks")


@blp.get("")
@blp.arguments(TaskListArgs, location="query")
@blp.response(200, TaskPageSchema)
def list_tasks(args):
    """Caregivers and community workers see their own tasks; supervisors their region; admins all."""
    return paginate(services.listed(g.user, args), page=args["page"], per_page=args["per_page"])


@blp.get("/<int:task_id>")
@blp.response(200, TaskSchema)
def get_task(task_id):
    return scoped_or_404(Task, task_id, tasks_clause(g.user), what="task")
