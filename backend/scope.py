"""Who may see what: SQL clauses that narrow queries to the calling user's scope.

admin: everything. supervisor: their region subtree. community_worker: their communities.
caregiver: their own tasks and those tasks' elders. provider_manager: their provider's service
tasks (whoever they are assigned to) and those tasks' elders; no region at all. Views filter
lists with these clauses and answer 404 (not 403) for single rows out of scope, so ids of other
scopes leak nothing: every view and console page loads one row through `scoped_or_404`.
"""

from sqlalchemy import exists, false, select, true

from backend.elders.models import Elder
from backend.errors import NotFound
from backend.extensions import db
from backend.plans.models import CarePlan
from backend.providers.models import Provider
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
    if user.role == "provider_manager":
        return exists().where(Task.elder_id == Elder.id, provider_tasks_clause(user.provider_id))
    return region_ids_clause(user, Elder.community_id)


def tasks_clause(user: User):
    if user.role in ("caregiver", "community_worker"):
        return Task.assignee_id == user.id
    if user.role == "provider_manager":
        return provider_tasks_clause(user.provider_id)
    if user.role == "admin":
        return true()
    return Task.elder_id.in_(select(Elder.id).where(region_ids_clause(user, Elder.community_id)))


def provider_tasks_clause(provider_id: int | None):
    """Tasks of the care plans a provider serves (a provider manager's whole scope)."""
    if provider_id is None:
        return false()
    return Task.care_plan_id.in_(select(CarePlan.id).where(CarePlan.provider_id == provider_id))


def providers_clause(user: User):
    """Providers a user may read: a provider manager their own; admins and supervisors all (the
    bureau buys from every provider of the city)."""
    if user.role == "provider_manager":
        return Provider.id == user.provider_id
    return true() if user.role in ("admin", "supervisor") else false()


def supervised_providers(user: User):
    """SQL: ids of the providers a supervisor oversees: based in their region subtree, or serving
    an elder of it under a care plan (all of them for an admin). A city bureau's supervisor (the
    city's subtree) oversees every provider of the city; a street's only those working there.
    Rectification orders and statements are scoped by it."""
    if user.role == "admin":
        return select(Provider.id)
    serving = select(CarePlan.provider_id).join(Elder, CarePlan.elder_id == Elder.id) \
        .where(region_ids_clause(user, Elder.community_id))
    return select(Provider.id).where(region_ids_clause(user, Provider.region_id) | Provider.id.in_(serving))


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


def scoped_or_404(model, row_id: int, clause, *, what: str, for_update: bool = False):
    """The row of `model` with this id if `clause` (the caller's scope, from this module or a
    domain's own, e.g. followups_clause) admits it, locked for an edit when asked and then read
    afresh; otherwise not_found naming `what`, so ids of other scopes leak nothing."""
    query = select(model).where(model.id == row_id, clause)
    if for_update:
        query = query.with_for_update(of=model).execution_options(populate_existing=True)
    row = db.session.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFound(what)
    return row


def _root_path(user: User) -> str:
    return user.region.path if user.region is not None else "\0"
