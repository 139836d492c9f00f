"""The monthly figures as a handful of GROUP BY queries, portable between SQLite and PostgreSQL.

A task belongs to a month when its window starts in it (local midnights of the care time zone),
and to the community where it was made (tasks.community_id: an elder who moves takes only their
unstarted visits along), as in the visit log, so a month's figures do not change when an elder
moves later. A region reaches its subtree through the materialised path of that community; "per
region" means the requested region's direct children, which with the fixed three levels is the
community's street (district reports) or the community itself (street reports).

Definitions (also served in every report as `definitions`):
- planned: tasks of the month not cancelled. completed / missed / cancelled: tasks in that status
  when the report is made (a late-synced visit has moved its task from missed to completed).
- completed_on_time: completed, and the visit began (check-in, or the patrol report when there was
  no check-in; server-corrected time) inside the task window, start and end included.
- late_synced: completed visits whose evidence arrived after the task had been marked missed.
- verification_rate: verified completed visits / completed visits, where verified (visits.is_verified)
  means a valid QR or dynamic code scanned, no invalid one, and no GPS fix outside the geofence.
- mean duration vs minimum (per service type): over completed visits with a measured duration,
  the mean duration in minutes beside the mean of those tasks' minimum durations; short_visits
  counts the visits below their task's minimum.
- satisfaction_mean and satisfaction_low_share (ratings ≤ 2): over completed visits with a rating.
- followups_opened / followups_resolved: opened / resolved in the month. followups_overdue: still
  unresolved at the month's end with a due time before it. A follow-up counts where its community
  lies; worker-pattern follow-ups, which have none, are in no region's figures.
- patrol_coverage: active elders of the region who are solitary, empty-nest or left-behind and had
  at least one completed patrol (door or phone) in the month, over all such elders (target 100%).
- per provider: service tasks through their care plan's provider (patrols have none).
- per caregiver: by the task's assignee, service and patrol tasks alike.
- rectification (整改): providers whose satisfaction mean or verification rate, as reported, is
  below its configured threshold, each judged only over at least RECTIFICATION_MIN_VISITS visits.

Each query returns one row per group of additive sums; services.py adds groups up and divides.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime
from itertools import pairwise

from sqlalchemy import Connection, DateTime, and_, bindparam, case, exists, func, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from backend.elders.models import Elder, ElderCategory
from backend.extensions import inline_ids, on_postgres
from backend.followups.models import Followup
from backend.regions.models import Region
from backend.tasks.models import Task
from backend.visits.models import Visit

COVERAGE_CATEGORIES = ("solitary", "empty_nest", "left_behind")
# visit_groups' sums over a group's visits, which count for completed tasks only.
COMPLETED_VISIT_SUMS = ("completed_on_time", "late_synced", "verified", "timed", "duration_seconds",
                        "min_duration_minutes", "short_visits", "satisfaction_rated", "satisfaction_sum",
                        "satisfaction_low")
LOW_SATISFACTION = 2

DEFINITIONS = {
    "month": "A task belongs to the month in which its window starts, in the care time zone.",
    "planned": "Tasks of the month that were not cancelled.",
    "completed": "Tasks completed (late-synced ones included).",
    "completed_on_time": "Completed tasks whose visit began (check-in, or the patrol report without one; "
                         "server-corrected time) inside the task window, start and end included.",
    "late_synced": "Completed visits whose evidence arrived after the task had been marked missed.",
    "missed": "Tasks marked missed and still missed when the report is made.",
    "cancelled": "Tasks cancelled.",
    "verification_rate": "Verified completed visits / completed visits; verified = a valid QR or dynamic code "
                         "scanned, no invalid one, and no GPS fix outside the geofence.",
    "mean_duration_minutes": "Per service type, over completed visits with a measured duration: the mean "
                             "duration; mean_min_duration_minutes is the mean of those tasks' minimums and "
                             "short_visits counts visits below their minimum.",
    "satisfaction_mean": "Mean rating (1-5) over completed visits with a rating.",
    "satisfaction_low_share": f"Share of those ratings at or below {LOW_SATISFACTION}.",
    "followups_opened": "Follow-ups opened in the month, counted in the community they belong to.",
    "followups_resolved": "Follow-ups resolved in the month.",
    "followups_overdue": "Follow-ups unresolved at the end of the month whose due time was before it.",
    "patrol_coverage": "Active solitary, empty-nest or left-behind elders of the region with at least one "
                       "completed patrol (door or phone) in the month, over all such elders; the national "
                       "target is 100%.",
    "providers": "Service tasks by their care plan's provider; patrols have no provider.",
    "caregivers": "Tasks by their assignee, service and patrol alike.",
    "rectification": "Providers whose satisfaction mean or verification rate, as reported (rates to 4 "
                     "decimals, means to 2), falls below its threshold; each is judged only over at least "
                     "min_visits rated or completed visits.",
}


@dataclass(frozen=True)
class Period:
    """The month as UTC instants: [start, end), and each local day's start (len = days + 1)."""

    first_day: date
    start: datetime
    end: datetime
    day_starts: tuple[datetime, ...]


def prepare(conn: Connection) -> None:
    """Run once per report connection, inside its transaction; SET LOCAL ends with the transaction.

    PostgreSQL's JIT spends about half a second compiling each of these large aggregations, more
    than it saves. And it guesses the groups of visit_groups as the product of each key's distinct
    values (near one group per task), so it would sort the month's million rows on disk before
    grouping them, where a hash of the few thousand real groups takes 3 MB: sorting is ruled out.
    Plans are made for each report's own values, never a generic one: psycopg prepares a statement
    run often enough on one pooled connection, and a generic plan neither knows how many tasks a
    month holds nor can use the partial index of completed patrols."""
    if on_postgres(conn):
        conn.execute(text("SET LOCAL jit = off"))
        conn.execute(text("SET LOCAL enable_sort = off"))
        conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _count(condition):
    return func.count().filter(condition)


def _sum(condition, value):
    return func.coalesce(func.sum(value).filter(condition), 0)


@dataclass(frozen=True)
class Area:
    """The requested region as plain values: the queries run on other threads than the request's,
    where a Region object of its session must not be touched (an expired one would reload)."""

    level: str
    path: str

    @classmethod
    def of(cls, region: Region) -> "Area":
        return cls(level=region.level, path=region.path)


def _child_of(area: Area):
    """The column naming the requested region's child that holds a community row of `Region`."""
    return Region.parent_id if area.level == "district" else Region.id


def _in_region(area: Area):
    return Region.path.startswith(area.path, autoescape=True)


def _in_month(period: Period):
    return and_(Task.window_start_at >= period.start, Task.window_start_at < period.end)


@dataclass(frozen=True)
class Scope:
    """What a report reads, found first so the big queries see plain values: the region's
    communities, each with the requested region's child that holds it, and the smallest and
    largest id of the month's tasks (None when it has none)."""

    children: dict[int, int]
    first_task_id: int | None
    last_task_id: int | None

    def parts(self, count: int) -> list["Scope"]:
        """The same scope with its id range cut into up to `count` consecutive parts, for
        visit_groups to read side by side: every task lies in exactly one part, and so do its
        visits, so the parts' groups add up to the whole."""
        if self.first_task_id is None or count <= 1:
            return [self]
        first, size = self.first_task_id, self.last_task_id - self.first_task_id + 1
        bounds = sorted({first + size * n // count for n in range(count)} | {first + size})
        return [replace(self, first_task_id=lo, last_task_id=hi - 1) for lo, hi in pairwise(bounds)]


def scope_of(conn: Connection, area: Area, period: Period) -> Scope:
    communities = conn.execute(
        select(Region.id, _child_of(area)).where(Region.level == "community", _in_region(area))).all()
    # With min() and max() alone PostgreSQL walks the primary key from each end until a task of the
    # month turns up (millions of rows); beside count() it reads the month from the window index.
    first, last, _ = conn.execute(
        select(func.min(Task.id), func.max(Task.id), func.count()).where(_in_month(period))).one()
    return Scope(children=dict(communities), first_task_id=first, last_task_id=last)


def visit_groups(conn: Connection, scope: Scope, period: Period) -> list[dict]:
    """One pass over the month's tasks and their visits, summed per (community, provider, assignee,
    kind, service type): every visit figure of the report rolls up from these rows.

    Visits have no time of their own to narrow them to the month, but a month's visits belong to
    its tasks, whose ids lie between the month's first and last: bounding both sides by that range
    lets PostgreSQL merge the two in id order from their indexes, instead of hashing every visit
    ever made. Task.provider_id is the care plan's provider, copied when the task was made (plans
    never change provider and are never deleted), so no join to care_plans.

    The query also groups by status, so that a task's status is compared once, by the grouping,
    rather than in each of the sums (a fifth of the query's time); the visit sums of groups other
    than completed tasks are dropped here, since every visit figure counts completed tasks only."""
    if scope.first_task_id is None or not scope.children:
        return []
    timed = Visit.duration_seconds.is_not(None)
    ids = (scope.first_task_id, scope.last_task_id)
    keys = (Task.community_id, Task.provider_id, Task.assignee_id, Task.kind, Task.service_type)
    by_status = (
        select(
            *keys,
            Task.status,
            func.count().label("tasks"),
            _count(and_(Visit.started_at >= Task.window_start_at,
                        Visit.started_at <= Task.window_end_at)).label("completed_on_time"),
            _count(Visit.is_late_sync.is_(True)).label("late_synced"),
            _count(Visit.is_verified.is_(True)).label("verified"),
            func.count(Visit.duration_seconds).label("timed"),
            func.coalesce(func.sum(Visit.duration_seconds), 0).label("duration_seconds"),
            _sum(timed, Task.min_duration_minutes).label("min_duration_minutes"),
            _count(and_(timed, Visit.duration_seconds < Task.min_duration_minutes * 60)).label("short_visits"),
            func.count(Visit.satisfaction).label("satisfaction_rated"),
            func.coalesce(func.sum(Visit.satisfaction), 0).label("satisfaction_sum"),
            _count(Visit.satisfaction <= LOW_SATISFACTION).label("satisfaction_low"),
        )
        .select_from(Task)
        .outerjoin(Visit, and_(Visit.task_id == Task.id, Visit.task_id.between(*ids)))
        .where(Task.id.between(*ids), _in_month(period), Task.community_id.in_(inline_ids(scope.children)))
        .group_by(*keys, Task.status)
        .subquery()
    )
    # The few groups per status folded into one row per group, with the visit sums of completed
    # tasks only: a few thousand rows, cheaper to add up here than in Python.
    g = by_status.c
    completed = g.status == "completed"
    query = (
        select(
            *(g[key.name].label(key.name) for key in keys),
            _sum(g.status != "cancelled", g.tasks).label("planned"),
            _sum(completed, g.tasks).label("completed"),
            _sum(g.status == "missed", g.tasks).label("missed"),
            _sum(g.status == "cancelled", g.tasks).label("cancelled"),
            *(_sum(completed, g[name]).label(name) for name in COMPLETED_VISIT_SUMS),
        )
        .group_by(*(g[key.name] for key in keys))
    )
    rows = _rows(conn, query)
    for row in rows:
        row["region_id"] = scope.children[row.pop("community_id")]
    return rows


def daily_groups(conn: Connection, scope: Scope, period: Period) -> list[dict]:
    """Planned and completed tasks per local day of the month (day 1 … 31)."""
    if scope.first_task_id is None or not scope.children:
        return []
    if on_postgres(conn):
        # The day's number by a binary search of the local midnights, rather than up to 31
        # comparisons a task: a third of the query's time on a month of a district.
        day = func.width_bucket(Task.window_start_at,
                                bindparam("day_starts", list(period.day_starts), ARRAY(DateTime(timezone=True))))
    else:
        day = case(*[(Task.window_start_at < boundary, number)
                     for number, boundary in enumerate(period.day_starts[1:], start=1)])
    tasks = (
        select(day.label("day"), Task.status.label("status"))
        .where(Task.id.between(scope.first_task_id, scope.last_task_id), _in_month(period),
               Task.community_id.in_(inline_ids(scope.children)))
        .subquery()
    )
    # Grouped outside the subquery: PostgreSQL will not match a GROUP BY expression that carries
    # bound parameters to the same expression in the select list.
    query = (
        select(tasks.c.day, _count(tasks.c.status != "cancelled").label("planned"),
               _count(tasks.c.status == "completed").label("completed"))
        .group_by(tasks.c.day)
    )
    return _rows(conn, query)


def coverage_groups(conn: Connection, area: Area, period: Period) -> list[dict]:
    """In-scope elders and those of them patrolled at least once in the month, per child region."""
    in_scope = exists().where(ElderCategory.elder_id == Elder.id, ElderCategory.category.in_(COVERAGE_CATEGORIES))
    # Not correlated: the month's completed patrols are read once (from ix_tasks_completed_patrols
    # alone) and hashed, rather than every in-scope elder's tasks of the month looked up one
    # elder at a time.
    patrolled = Elder.id.in_(select(Task.elder_id).where(Task.kind == "patrol", Task.status == "completed",
                                                         _in_month(period)))
    query = (
        select(_child_of(area).label("region_id"), func.count().label("in_scope_elders"),
               _count(patrolled).label("in_scope_elders_visited"))
        .select_from(Elder)
        .join(Region, Region.id == Elder.community_id)
        .where(Elder.is_active.is_(True), _in_region(area), in_scope)
        .group_by(_child_of(area))
    )
    return _rows(conn, query)


def followup_groups(conn: Connection, area: Area, period: Period) -> list[dict]:
    """Follow-ups opened, resolved and overdue, per (child region, provider)."""
    unresolved_at_end = or_(Followup.resolved_at.is_(None), Followup.resolved_at >= period.end)
    query = (
        select(
            _child_of(area).label("region_id"),
            Followup.provider_id.label("provider_id"),
            _count(Followup.opened_at >= period.start).label("followups_opened"),
            _count(and_(Followup.resolved_at >= period.start, Followup.resolved_at < period.end))
            .label("followups_resolved"),
            _count(and_(unresolved_at_end, Followup.due_at < period.end)).label("followups_overdue"),
        )
        .select_from(Followup)
        .join(Region, Region.id == Followup.region_id)
        .where(_in_region(area), Followup.opened_at < period.end,
               or_(Followup.resolved_at.is_(None), Followup.resolved_at >= period.start))
        .group_by(_child_of(area), Followup.provider_id)
    )
    return _rows(conn, query)


def _rows(conn: Connection, query) -> list[dict]:
    # PostgreSQL sums integers into bigint or numeric; the report wants plain ints.
    return [{key: int(value) if value is not None and not isinstance(value, str) else value
             for key, value in row.items()}
            for row in conn.execute(query).mappings()]
