"""Media rows: recording an upload for a task, and finding an image the caller may see.

Problems raised: not_found (a task that is not the uploader's, an image none of whose tasks the
caller may see).
"""

from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.dialects.postgresql import insert

from backend.audit import reads
from backend.errors import NotFound
from backend.extensions import db
from backend.media.models import Media, MediaTask
from backend.media.storage import Received
from backend.scope import scoped_or_404, tasks_clause
from backend.tasks.models import Task
from backend.users.models import User
from backend.visits.models import Visit


def uploader_task(task_id: int, user: User) -> Task:
    """The task an upload is for: one assigned to the uploader, or whose visit they made (a task
    reassigned after its visit keeps taking the visit's images). Else not_found."""
    made_visit = exists().where(Visit.task_id == Task.id, Visit.user_id == user.id)
    return scoped_or_404(Task, task_id, or_(Task.assignee_id == user.id, made_visit), what="task")


def record_upload(received: Received, task: Task, *, by: User, at: datetime) -> bool:
    """Record the image (unless held) and its link to `task`. True when the image is new.
    Both inserts take the conflict in the database, so concurrent uploads of one image agree."""
    created = db.session.execute(
        insert(Media).values(sha256=received.sha256, content_type=received.content_type, size=received.size,
                             uploaded_by_id=by.id, uploaded_at=at)
        .on_conflict_do_nothing().returning(Media.sha256)).first() is not None
    db.session.execute(insert(MediaTask).values(sha256=received.sha256, task_id=task.id, linked_by_id=by.id,
                                                linked_at=at).on_conflict_do_nothing())
    return created


def visible_tasks(sha256: str, user: User) -> list[Task]:
    """The tasks referencing the image that `user` may see."""
    return list(db.session.execute(
        select(Task).join(MediaTask, MediaTask.task_id == Task.id)
        .where(MediaTask.sha256 == sha256, tasks_clause(user)).order_by(Task.id)).scalars())


def visible_media(sha256: str, user: User) -> tuple[Media, list[Task]]:
    """The image and its tasks that `user` may see; not_found when they may see none of them."""
    tasks = visible_tasks(sha256, user)
    media = db.session.get(Media, sha256) if tasks else None
    if media is None:
        raise NotFound("media")
    return media, tasks


def read(sha256: str, user: User) -> tuple[Media, list[Task]]:
    """`visible_media`, recorded in the audit trail as a read of the visit's evidence (the
    caller commits)."""
    media, tasks = visible_media(sha256, user)
    reads.media_read(media, tasks)
    return media, tasks


def of_task(task: Task) -> list[Media]:
    """The images linked to a task, oldest first."""
    return list(db.session.execute(
        select(Media).join(MediaTask, MediaTask.sha256 == Media.sha256)
        .where(MediaTask.task_id == task.id).order_by(MediaTask.linked_at, Media.sha256)).scalars())
