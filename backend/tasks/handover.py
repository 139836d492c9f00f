"""Handing one task to another caregiver of the same provider (a sick day, a swapped shift),
as a provider's manager, a supervisor or an admin does it; the plan itself is unchanged.

Problems raised: conflict (409) for a patrol or a task already started, finished or cancelled;
validation_failed (422) for an assignee who is not an active caregiver of the task's provider.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from backend.errors import Conflict, ValidationFailed
from backend.extensions import db
from backend.plans.models import CarePlan
from backend.tasks.models import Task
from backend.tasks.services import reassign
from backend.users.models import User


def hand_over(task: Task, assignee_id: int, *, by: User, at: datetime) -> Task:
    if task.kind != "service" or task.care_plan_id is None:
        raise Conflict(_l("only home-service tasks are handed over here"))
    if task.status != "scheduled":
        raise Conflict(_l("only a scheduled task can be handed to someone else"))
    provider_id = db.session.execute(select(CarePlan.provider_id).where(CarePlan.id == task.care_plan_id)).scalar()
    assignee = db.session.get(User, assignee_id)
    if assignee is None or assignee.role != "caregiver" or not assignee.is_active \
            or assignee.provider_id != provider_id:
        raise ValidationFailed("assignee_id", _l("must be an active caregiver of the task's provider"))
    reassign(task, assignee, at=at, by=by)
    db.session.flush()
    return task
