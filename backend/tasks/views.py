"""GET /tasks and /tasks/{id}: the caller's tasks, or the scope's tasks for supervisors, provider
managers and admins; POST /tasks/{id}/reassign: hand a service task to another of its provider's
caregivers."""

from flask import g

from backend.api import Blueprint
from backend.auth.access import roles
from backend.clock import utcnow
from backend.extensions import db
from backend.pagination import paginate
from backend.scope import scoped_or_404, tasks_clause
from backend.tasks import handover, services
from backend.tasks.models import Task
from schemas.tasks import ReassignSchema, TaskListArgs, TaskPageSchema, TaskSchema

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


@blp.post("/<int:task_id>/reassign")
@roles("admin", "supervisor", "provider_manager")
@blp.arguments(ReassignSchema)
@blp.response(200, TaskSchema)
def reassign_task(body, task_id):
    """A scheduled home-service task to another active caregiver of its provider; the previous
    assignee's phone drops it on its next pull."""
    task = scoped_or_404(Task, task_id, tasks_clause(g.user), what="task", for_update=True)
    handover.hand_over(task, body["assignee_id"], by=g.user, at=utcnow())
    db.session.commit()
    return task
