"""Who may see what: SQL clauses that narrow queries to the calling user's scope.

admin: everything. supervisor: their region subtree. community_worker: their communities.
caregiver: their own tasks and those tasks' elders. Views filter lists with these clauses and
answer 404 (not 403) for single rows out of scope, so ids of other scopes leak nothing.
"""

from sqlalchemy import exists, false, select, true

from backend.elders.models import Elder
from backend.regions.models import Region
from backend.tasks.models import Task
from backend.users.models import User, user_communities


def region_ids_clause(user: User, region_id_column):
    """Restrict a column holding a region id (a community) to the user's scope."""
    if user.role == "admin":
        return true()
    if user.role == "supervisor":
        if user.region_id is None:
            return false()
        subtree = select(Region.id).where(Region.path.startswith(_root_path(user)))
        return region_id_column.in_(subtree)
    if user.role == "community_worker":
        mine = select(user_communities.c.region_id).where(user_communities.c.user_id == user.id)
        return region_id_column.in_(mine)
    return false()


def elders_clause(user: User):
    if user.role == "caregiver":
        return exists().where(Task.elder_id == Elder.id, Task.assignee_id == user.id)
    return region_ids_clause(user, Elder.community_id)


def tasks_clause(user: User):
    if user.role in ("caregiver", "community_worker"):
        return Task.assignee_id == user.id
    if user.role == "admin":
        return true()
    return Task.elder_id.in_(select(Elder.id).where(region_ids_clause(user, Elder.community_id)))


def regions_clause(user: User):
    """Regions a user may read: admins all; supervisors their subtree and its ancestors."""
    if user.role == "admin":
        return true()
    if user.role == "supervisor" and user.region_id is not None:
        root = _root_path(user)
        ancestors = [int(part) for part in root.strip("/").split("/") if part]
        return Region.path.startswith(root) | Region.id.in_(ancestors)
    if user.role == "community_worker":
        return Region.id.in_(select(user_communities.c.region_id).where(user_communities.c.user_id == user.id))
    return false()


def can_see_region(user: User, region: Region) -> bool:
    if user.role == "admin":
        return True
    if user.role == "supervisor":
        return user.region is not None and region.path.startswith(user.region.path)
    if user.role == "community_worker":
        return any(c.id == region.id for c in user.communities)
    return False


def _root_path(user: User) -> str:
    return user.region.path if user.region is not None else "\0"
