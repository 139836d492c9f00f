"""The monthly figures as a handful of GROUP BY queries.

A task belongs to a month when its window starts in it (local midnights of the care time zone),
and to the community where it was made (tasks.community_id: an elder who moves takes only their
unstarted visits along), as in the visit log, so a month's figures do not change when an elder
moves later. A region reaches its subtree through the materialised path of that community; "per
region" means the requested region's direct children: the community's district (city reports),
its street (district reports) or the community itself (street reports).

Definitions (also served in every report as `definitions`):
- planned: tasks of the month not cancelled. completed / missed / cancelled: tasks in that status
  when the report is made (a late-synced visit has moved its task from missed to completed), except
  that a completed task whose visit's current review decision is a rejection (不通过) counts as
  rejected instead of completed, and its visit in no visit figure (verification state
  rejected_on_review, backend/reviews/verification.py: the visit log's own definition).
- completed_on_time: completed, and the visit began (check-in, or the patrol report when there was
  no check-in; server-corrected time) inside the task window, start and end included.
- late_synced: completed visits whose evidence arrived after the task had been marked missed (flag after_missed).
- verification_rate: verified completed visits / completed visits, where verified (visits.is_verified)
  means a valid QR or dynamic code scanned, no invalid one, and no GPS fix outside the geofence.
- mean duration vs minimum (per service type): over completed visits with a measured duration,
  the mean duration in minutes beside the mean of those tasks' minimum durations; short_visits
  counts the visits below their task's minimum.
- satisfaction_mean and satisfaction_low_share (ratings ≤ 2): over completed visits with a rating.
- callbacks: the month's call-backs (电话回访) made, reached or unreachable (pending and cancelled ones
  are not); callbacks_unconfirmed: those that did not confirm the visit (the elder denied it, or could
  not be reached); callback_satisfaction_mean over the reached ones with a rating. A call-back
  belongs to its visit's task, so to the task's month, community and provider.
- followups_opened / followups_resolved: opened / resolved in the month. followups_overdue: still
  unresolved at the month's end with a due time before it.
- a month in progress is counted to date: every figure above stops at the report's time
  (Period.until) instead of the month's end, so planned counts only tasks whose window has opened
  and followups_overdue only follow-ups past due at that time. A follow-up counts where its community
  lies; worker-pattern follow-ups, which have none, are in no region's figures.
- patrol_coverage: active elders of the region in a category of COVERAGE_CATEGORIES (a setting) who
  were seen (patrol outcome seen_well or seen_needs_help, at the door or by phone, not rejected on
  review) within their required period, over all such elders (target 100%): the month, or for an
  elder whose risk tier (their active patrol plan's own tier, where it names one) is patrolled
  quarterly, the quarter from its start to the month's end. A
  patrol that did not see the elder (no answer, not at home, …) completes its task as attempted
  (patrols_attempted) but is not coverage. patrols_seen_door / patrols_seen_phone: the month's
  patrols that saw the elder, by mode.
- per provider: service tasks through their care plan's provider (patrols have none).
- per caregiver: by the task's assignee, service and patrol tasks alike; cross_flagged counts their
  completed visits flagged overlapping_visit or impossible_travel.
- rectification (整改): providers whose satisfaction mean or verification rate, as reported, is
  below its configured threshold, each judged only over at least RECTIFICATION_MIN_VISITS visits.
  Satisfaction is the call-backs' where the provider has at least RECTIFICATION_MIN_CALLBACKS rated
  call-backs in the month (judged over those), else the check-out ratings'; each provider's row
  says which (satisfaction_source).

Each query returns one row per group of additive sums; services.py adds groups up and divides.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime
from itertools import pairwise

from sqlalchemy import Connection, DateTime, and_, bindparam, exists, func, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.expression import cast, literal_column
from sqlalchemy.types import Integer, Text

from backend.elders.models import Elder, ElderCategory
from backend.extensions import inline_ids
from backend.followups.models import Followup
from backend.i18n import N_
from backend.plans.models import PatrolPlan
from backend.regions.models import Region
from backend.reviews import verification
from backend.reviews.models import Callback
from backend.tasks.models import Task
from backend.visits.models import Visit
from sync import rules

# A patrol covers its elder only when it saw them (schemas.sync.SEEN_OUTCOMES).
SEEN_OUTCOMES = ("seen_well", "seen_needs_help")
# visit_groups' sums over a group's visits, which count for completed tasks only.
COMPLETED_VISIT_SUMS = ("completed_on_time", "late_synced", "verified", "timed", "duration_seconds",
                        "min_duration_minutes", "short_visits", "satisfaction_rated", "satisfaction_sum",
                        "satisfaction_low", "patrols_seen_door", "patrols_seen_phone", "patrols_attempted",
                        "cross_flagged")
LOW_SATISFACTION = 2
# A call-back made: the elder was reached, or could not be after trying.
CALLBACKS_MADE = ("done", "unreachable")

# What each figure means: catalogue msgids, put in words as a report is made (services.definitions()).
DEFINITIONS = {
    "month": N_("A task belongs to the month in which its window starts, in the care time zone."),
    "planned": N_("Tasks of the month that were not cancelled."),
    "completed": N_("Tasks completed (late-synced ones included) whose visit was not rejected on review."),
    "rejected": N_("Tasks done whose visit's current review decision is a rejection (not payable): planned, "
                   "but neither completed nor in any visit figure. A decision unlocked and changed later moves "
                   "the visit back."),
    "completed_on_time": N_("Completed tasks whose visit began (check-in, or the patrol report without one; "
                            "server-corrected time) inside the task window, start and end included."),
    "late_synced": N_("Completed visits whose evidence arrived after the task had been marked missed (after_missed)."),
    "missed": N_("Tasks marked missed and still missed when the report is made."),
    "cancelled": N_("Tasks cancelled."),
    "verification_rate": N_("Verified completed visits / completed visits; verified = a valid QR or dynamic code "
                            "scanned, no invalid one, and no GPS fix outside the geofence."),
    "mean_duration_minutes": N_("Per service type, over completed visits with a measured duration: the mean "
                                "duration; mean_min_duration_minutes is the mean of those tasks' minimums and "
                                "short_visits counts visits below their minimum."),
    "satisfaction_mean": N_("Mean rating (1-5) over completed visits with a rating."),
    "satisfaction_low_share": N_("Share of those ratings at or below %(low)s."),
    "callbacks": N_("Call-backs of the month's visits that were made: the elder reached or unreachable."),
    "callback_satisfaction_mean": N_("Mean rating (1-5) the elders gave on the call-backs that reached them."),
    "callbacks_unconfirmed_share": N_("Share of the call-backs made that did not confirm the visit: the elder "
                                      "denied it or could not be reached."),
    "followups_opened": N_("Follow-ups opened in the month, counted in the community they belong to."),
    "followups_resolved": N_("Follow-ups resolved in the month."),
    "followups_overdue": N_("Follow-ups unresolved at the end of the month (for a month in progress: at the "
                            "report's time) whose due time was before it."),
    "to_date": N_("A month in progress is counted to date: every figure stops at the report's time, so planned "
                  "counts only tasks whose window has opened by then."),
    "patrol_coverage": N_("Active elders of the region in the coverage categories who were seen (seen well or "
                          "seen needing help, at the door or by phone, not rejected on review) within their "
                          "required period, over all such elders; the national target is 100%%. The period is "
                          "the month, or for an elder whose risk tier is patrolled quarterly, the quarter from "
                          "its start to the month's end."),
    "patrols_seen_door": N_("The month's completed patrols that saw the elder at the door."),
    "patrols_seen_phone": N_("The month's completed patrols that reached the elder by phone."),
    "patrols_attempted": N_("The month's completed patrols that did not see the elder (no answer, not at home, in "
                            "hospital, moved, deceased): the task is done as attempted, its follow-up stays, but "
                            "it is not coverage."),
    "providers": N_("Service tasks by their care plan's provider; patrols have no provider."),
    "caregivers": N_("Tasks by their assignee, service and patrol alike."),
    "cross_flagged": N_("Completed visits of the person flagged as overlapping another of their visits or as "
                        "reached from their previous visit at an implausible speed."),
    "rectification": N_("Providers whose satisfaction mean or verification rate, as reported (rates to 4 "
                        "decimals, means to 2), falls below its threshold; each is judged only over at least "
                        "min_visits rated or completed visits. Satisfaction is the call-backs' mean where the "
                        "provider has at least min_callbacks rated call-backs in the month, else the check-out "
                        "ratings' mean; satisfaction_source says which."),
}


@dataclass(frozen=True)
class Period:
    """The month as UTC instants: [start, end), and each local day's start (len = days + 1).
    `until` is where its figures stop: the end, or the report's time for a month in progress;
    `quarter_start` opens the quarter the month lies in (quarterly patrols' coverage)."""

    first_day: date
    start: datetime
    end: datetime
    day_starts: tuple[datetime, ...]
    until: datetime
    quarter_start: datetime

    @property
    def in_progress(self) -> bool:
        return self.until < self.end


def prepare(conn: Connection) -> None:
    """Run once per report connection, inside its transaction; SET LOCAL ends with the transaction.

    PostgreSQL's JIT spends about half a second compiling each of these large aggregations, more
    than it saves. And it guesses the groups of visit_groups as the product of each key's distinct
    values (near one group per task), so it would sort the month's million rows on disk before
    grouping them, where a hash of the few thousand real groups takes 3 MB: sorting is ruled out.
    Plans are made for each report's own values, never a generic one: psycopg prepares a statement
    run often enough on one pooled connection, and a generic plan neither knows how many tasks a
    month holds nor can use the partial index of completed patrols."""
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
    """The column naming the requested region's child that holds a community row of `Region`: for
    a city the district, read from the community's path (the id after the city's own)."""
    if area.level == "city":
        # Literals, not bound parameters: the expression is grouped by, and PostgreSQL matches a
        # GROUP BY expression to the select list's only when neither carries parameters.
        part = literal_column(str(area.path.count("/") + 1))
        return cast(func.split_part(Region.path, literal_column("'/'"), part), Integer)
    return Region.parent_id if area.level == "district" else Region.id


def _in_region(area: Area):
    return Region.path.startswith(area.path, autoescape=True)


def _in_month(period: Period, table=Task):
    """`table`'s rows of the month's tasks: tasks, and visits by their copy of the task's window
    start (their partition key), so each reads the month's partition only."""
    return and_(table.window_start_at >= period.start, table.window_start_at < period.until)


def _visit_of_task(period: Period):
    """The task's visit, found in the month's partition of visits (by the partition key, also
    stated as a range so the planner prunes before it runs)."""
    return and_(Visit.task_id == Task.id, Visit.window_start_at == Task.window_start_at, _in_month(period, Visit))


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


def _visit_sums(visit, task) -> dict:
    """COMPLETED_VISIT_SUMS as aggregates over rows holding a visit's columns (`visit`) and its
    task's (`task`): the models, or a subquery whose columns bear the same names."""
    timed = visit.duration_seconds.is_not(None)
    seen = visit.patrol_outcome.in_(SEEN_OUTCOMES)
    return {
        "completed_on_time": _count(and_(visit.started_at >= task.window_start_at,
                                         visit.started_at <= task.window_end_at)),
        "late_synced": _count(visit.is_late_sync.is_(True)),
        "verified": _count(visit.is_verified.is_(True)),
        "timed": func.count(visit.duration_seconds),
        "duration_seconds": func.coalesce(func.sum(visit.duration_seconds), 0),
        "min_duration_minutes": _sum(timed, task.min_duration_minutes),
        "short_visits": _count(and_(timed, visit.duration_seconds < task.min_duration_minutes * 60)),
        "satisfaction_rated": func.count(visit.satisfaction),
        "satisfaction_sum": func.coalesce(func.sum(visit.satisfaction), 0),
        "satisfaction_low": _count(visit.satisfaction <= LOW_SATISFACTION),
        # Patrols (service visits have no outcome): seen, by mode, or only attempted.
        "patrols_seen_door": _count(and_(seen, visit.patrol_mode == "door")),
        "patrols_seen_phone": _count(and_(seen, visit.patrol_mode == "phone")),
        "patrols_attempted": _count(and_(visit.patrol_outcome.is_not(None),
                                         visit.patrol_outcome.not_in(SEEN_OUTCOMES))),
        "cross_flagged": _count(_cross_flagged(visit.flags)),
    }


def _cross_flagged(flags):
    """The visit carries overlapping_visit or impossible_travel (backend/visits/crosscheck.py). A
    position test in the JSON text, as the visit log's flag filter: each flag is quoted there."""
    text_flags = cast(flags, Text)
    return or_(*(func.strpos(text_flags, f'"{flag}"') > 0 for flag in rules.CROSS_VISIT_FLAGS))


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
    than completed tasks are dropped here, since every visit figure counts completed tasks only.
    Visits rejected on review are still in these sums: rejected_groups takes them out."""
    if scope.first_task_id is None or not scope.children:
        return []
    ids = (scope.first_task_id, scope.last_task_id)
    keys = (Task.community_id, Task.provider_id, Task.assignee_id, Task.kind, Task.service_type)
    by_status = (
        select(
            *keys,
            Task.status,
            func.count().label("tasks"),
            *(value.label(name) for name, value in _visit_sums(Visit, Task).items()),
        )
        .select_from(Task)
        .outerjoin(Visit, and_(_visit_of_task(period), Visit.task_id.between(*ids)))
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
    # The day's number by a binary search of the local midnights, rather than up to 31
    # comparisons a task: a third of the query's time on a month of a district.
    day = func.width_bucket(Task.window_start_at,
                            bindparam("day_starts", list(period.day_starts), ARRAY(DateTime(timezone=True))))
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


def rejected_groups(conn: Connection, scope: Scope, period: Period) -> list[dict]:
    """The month's completed tasks whose visit was rejected on review, as corrections to add to
    visit_groups' rows: per (community, provider, assignee, kind, service type, local day), `rejected`
    counts them and `completed` and every visit sum take them back out (negative), so the groups
    added up count a rejected visit as planned and rejected, never as completed.

    Driven from the few current rejections rather than from the month's tasks, so the big scans
    stay as they were; nothing is stored, so a decision changed later changes the answer at once.
    The rejection is the verification state's own test (backend/reviews/verification.py), as in
    the visit log and its filter."""
    if scope.first_task_id is None or not scope.children:
        return []
    decision = verification.CURRENT
    day = func.width_bucket(Task.window_start_at,
                            bindparam("day_starts", list(period.day_starts), ARRAY(DateTime(timezone=True))))
    keys = (Task.community_id, Task.provider_id, Task.assignee_id, Task.kind, Task.service_type)
    rejected = (
        select(*keys, day.label("day"), Task.window_start_at, Task.window_end_at, Task.min_duration_minutes,
               Visit.started_at, Visit.is_late_sync, Visit.is_verified, Visit.duration_seconds, Visit.satisfaction,
               Visit.patrol_outcome, Visit.patrol_mode, Visit.flags)
        .select_from(decision)
        .join(Task, Task.id == decision.task_id)
        # by primary key: a rejection is looked up, not hashed
        .join(Visit, and_(Visit.id == decision.visit_id, _visit_of_task(period)))
        .where(decision.superseded_by_id.is_(None), verification.is_rejected(decision.decision),
               Task.status == "completed", Task.id.between(scope.first_task_id, scope.last_task_id),
               _in_month(period), Task.community_id.in_(inline_ids(scope.children)))
        .subquery()
    )
    # Grouped outside the subquery, as daily_groups is, for the day's bound parameter.
    r = rejected.c
    groups = [r[key.name] for key in keys] + [r.day]
    query = (
        select(*groups, func.count().label("rejected"), (-func.count()).label("completed"),
               *((-value).label(name) for name, value in _visit_sums(r, r).items()))
        .group_by(*groups)
    )
    rows = _rows(conn, query)
    for row in rows:
        row.update(planned=0, missed=0, cancelled=0)
        row["region_id"] = scope.children[row.pop("community_id")]
    return rows


def coverage_groups(conn: Connection, area: Area, period: Period, categories: tuple[str, ...],
                    quarterly_tiers: tuple[str, ...]) -> list[dict]:
    """In-scope elders (active, in one of `categories`) and those of them covered, per child region:
    seen by a completed patrol, not rejected on review, whose window opened from the start of the
    elder's required period (the quarter for an elder due at a tier of `quarterly_tiers`, else the
    month) up to where the month's figures stop."""
    in_scope = exists().where(ElderCategory.elder_id == Elder.id, ElderCategory.category.in_(categories))
    rejected = exists().where(verification.joins_current(Task.id), verification.CURRENT.decision == "rejected")

    def seen_since(start: datetime):
        # Not correlated: the completed patrols are read once (ix_tasks_completed_patrols, then each
        # visit by its task) and hashed, rather than every in-scope elder's tasks looked up one by one.
        return Elder.id.in_(
            select(Task.elder_id)
            .join(Visit, and_(Visit.task_id == Task.id, Visit.window_start_at == Task.window_start_at,
                              Visit.window_start_at >= start, Visit.window_start_at < period.until))
            .where(Task.kind == "patrol", Task.status == "completed", Task.window_start_at >= start,
                   Task.window_start_at < period.until, Visit.patrol_outcome.in_(SEEN_OUTCOMES), ~rejected))

    # The frequency an elder is due: their active patrol plan's own tier where it names one (few
    # plans do, so they are joined as a small grouped set), else their risk tier.
    plan_tiers = (select(PatrolPlan.elder_id, func.max(PatrolPlan.tier).label("tier"))
                  .where(PatrolPlan.status == "active", PatrolPlan.tier.is_not(None))
                  .group_by(PatrolPlan.elder_id).subquery())
    quarterly = func.coalesce(plan_tiers.c.tier, Elder.risk_tier).in_(quarterly_tiers)
    covered = or_(and_(quarterly, seen_since(period.quarter_start)), and_(~quarterly, seen_since(period.start)))
    query = (
        select(_child_of(area).label("region_id"), func.count().label("in_scope_elders"),
               _count(covered).label("in_scope_elders_visited"),
               _count(quarterly).label("in_scope_elders_quarterly"))
        .select_from(Elder)
        .join(Region, Region.id == Elder.community_id)
        .outerjoin(plan_tiers, plan_tiers.c.elder_id == Elder.id)
        .where(Elder.is_active.is_(True), _in_region(area), in_scope)
        .group_by(_child_of(area))
    )
    return _rows(conn, query)


def callback_groups(conn: Connection, scope: Scope, period: Period) -> list[dict]:
    """The call-backs made about the month's tasks, per (child region, provider): how many, how
    many did not confirm the visit, and the satisfaction the elders gave."""
    if scope.first_task_id is None or not scope.children:
        return []
    reached = Callback.status == "done"
    query = (
        select(
            Task.community_id, Task.provider_id,
            func.count().label("callbacks"),
            _count(or_(Callback.status == "unreachable", Callback.is_confirmed.is_not(True)))
            .label("callbacks_unconfirmed"),
            _count(and_(reached, Callback.satisfaction.is_not(None))).label("callback_satisfaction_rated"),
            _sum(reached, Callback.satisfaction).label("callback_satisfaction_sum"),
        )
        .select_from(Callback)
        .join(Task, Task.id == Callback.task_id)
        .where(Callback.status.in_(CALLBACKS_MADE), Task.id.between(scope.first_task_id, scope.last_task_id),
               _in_month(period), Task.community_id.in_(inline_ids(scope.children)))
        .group_by(Task.community_id, Task.provider_id)
    )
    rows = _rows(conn, query)
    for row in rows:
        row["region_id"] = scope.children[row.pop("community_id")]
    return rows


def followup_groups(conn: Connection, area: Area, period: Period) -> list[dict]:
    """Follow-ups opened, resolved and overdue, per (child region, provider)."""
    unresolved_at_end = or_(Followup.resolved_at.is_(None), Followup.resolved_at >= period.until)
    query = (
        select(
            _child_of(area).label("region_id"),
            Followup.provider_id.label("provider_id"),
            _count(Followup.opened_at >= period.start).label("followups_opened"),
            _count(and_(Followup.resolved_at >= period.start, Followup.resolved_at < period.until))
            .label("followups_resolved"),
            _count(and_(unresolved_at_end, Followup.due_at < period.until)).label("followups_overdue"),
        )
        .select_from(Followup)
        .join(Region, Region.id == Followup.region_id)
        .where(_in_region(area), Followup.opened_at < period.until,
               or_(Followup.resolved_at.is_(None), Followup.resolved_at >= period.start))
        .group_by(_child_of(area), Followup.provider_id)
    )
    return _rows(conn, query)


def _rows(conn: Connection, query) -> list[dict]:
    # PostgreSQL sums integers into bigint or numeric; the report wants plain ints.
    return [{key: int(value) if value is not None and not isinstance(value, str) else value
             for key, value in row.items()}
            for row in conn.execute(query).mappings()]
