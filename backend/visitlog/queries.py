"""The visit log in SQL: one row per task that came due, with its evidence, scoped, filtered and keyset-paged.

A page is found on `tasks` alone, by (window_start_at, id) through indexes that lead with the
window start or with the denormalised community or provider, then joined to its evidence and names;
follow-ups come in a second query for the page's ids. Scope and the region filter become a list of
community ids read first, so the planner sees real values rather than a subquery.

The date filter means the visit's day: the local day of its check-in (or, for a patrol without
one, its report); a task with no evidence falls on every day its window covers. So a weekly
patrol done today is found under today, not under the Monday its window opened.
"""

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, and_, cast, func, literal, literal_column, select, true, tuple_
from sqlalchemy.orm import aliased

from backend import replica
from backend.clock import local_midnight, local_today
from backend.elders.models import Elder
from backend.errors import NotFound, ValidationFailed
from backend.extensions import db, inline_ids
from backend.followups.models import Followup
from backend.plans.models import ServiceType
from backend.providers.models import Provider
from backend.regions.models import Region
from backend.reviews import verification
from backend.scope import region_ids_clause
from backend.tasks.models import Task
from backend.users.models import User
from backend.visits.models import Visit, VisitItem

EXPORT_BATCH = 2000
# Made once: building aliases per query costs more than the query itself.
_CHECK_IN, _CHECK_OUT = aliased(VisitItem, name="check_in"), aliased(VisitItem, name="check_out")
_COMMUNITY, _STREET = aliased(Region, name="community"), aliased(Region, name="street")
# Only tasks with a visit can match: a missed task is neither verified nor unverified.
VERIFICATION = {"verified": (Visit.is_verified, True), "unverified": (Visit.is_verified, False),
                "needs_review": (Visit.needs_review, True)}
# A visit's day is looked for among tasks whose window was open within AFTER_WINDOW of it: late
# evidence completing a missed task is found for a week after its window closed (later, by the
# window filters only). The window start is bounded too, by the longest window a plan makes (a
# quarter's patrol), so the index range stays finite; the end test runs before the evidence
# subquery, which keeps that to the few tasks that can match.
AFTER_WINDOW = timedelta(days=7)
DAY_LOOKBACK = timedelta(days=92) + AFTER_WINDOW
# Evidence captured before its window opens (flag outside_window) is still the window's task.
DAY_LOOKAHEAD = timedelta(days=1)


@dataclass(frozen=True)
class Filters:
    region_id: int | None = None
    provider_id: int | None = None
    caregiver_id: int | None = None
    community_worker_id: int | None = None
    elder_id: int | None = None
    service_type: str | None = None
    kind: str | None = None
    status: tuple[str, ...] = ()
    flag: str | None = None
    verification: str | None = None
    verification_state: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    window_from: date | None = None
    window_to: date | None = None
    descending: bool = True

    @classmethod
    def from_args(cls, args: dict) -> "Filters":
        return cls(region_id=args.get("region_id"), provider_id=args.get("provider_id"),
                   caregiver_id=args.get("caregiver_id"), community_worker_id=args.get("community_worker_id"),
                   elder_id=args.get("elder_id"),
                   service_type=args.get("service_type"), kind=args.get("kind"),
                   status=tuple(args.get("status") or ()), flag=args.get("flag"),
                   verification=args.get("verification"), verification_state=args.get("verification_state"),
                   date_from=args.get("date_from"), date_to=args.get("date_to"),
                   window_from=args.get("window_from"), window_to=args.get("window_to"),
                   descending=args.get("sort", "-window_start_at").startswith("-"))


@dataclass(frozen=True)
class Cursor:
    start: datetime
    id: int


def encode_cursor(cursor: Cursor) -> str:
    body = json.dumps([cursor.start.isoformat(), cursor.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    """Problems: validation_failed naming `cursor` when it is not one of ours."""
    try:
        start, task_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        start = datetime.fromisoformat(start)
        if start.tzinfo is None or type(task_id) is not int:
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("cursor", _l("malformed cursor; pass next_cursor from the previous page")) from None
    return Cursor(start, task_id)


def visit_page(user: User, filters: Filters, *, now: datetime, after: Cursor | None, limit: int) -> dict:
    """A page of the log, read on the replica while it keeps up (backend/replica.py)."""
    rows = visit_rows(user, filters, now=now, after=after, limit=limit + 1,
                      source=replica.heavy_read_source(now=now))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(Cursor(rows[-1]["window_start_at"], rows[-1]["id"])) if more else None
    return {"items": rows, "next_cursor": next_cursor}


def iter_visit_rows(user: User, filters: Filters, *, now: datetime, batch: int | None = None) -> Iterator[dict]:
    """Every row of the filtered view, in keyset batches: memory stays flat however many there are.
    Read on the replica while it keeps up, each batch in a short transaction of its own."""
    batch = batch or EXPORT_BATCH
    after = None
    source = replica.heavy_read_source(now=now)
    while True:
        rows = visit_rows(user, filters, now=now, after=after, limit=batch, source=source)
        yield from rows
        if len(rows) < batch:
            return
        after = Cursor(rows[-1]["window_start_at"], rows[-1]["id"])


def visit_row(user: User, task_id: int) -> dict | None:
    """One task's row if the user may see it, due or not."""
    rows = visit_rows(user, Filters(), now=None, after=None, limit=1, task_id=task_id)
    return rows[0] if rows else None


def visit_rows(user: User, filters: Filters, *, now: datetime | None, after: Cursor | None, limit: int,
               task_id: int | None = None, source: replica.Source | None = None) -> list[dict]:
    """Rows read from `source` (the session's, the primary's, unless given). Problems: not_found
    when the region filter names no region.

    Newest first, a page is first looked for in the month its upper bound falls in (now's, or the
    cursor's): bounded on both sides, that reads one monthly partition of tasks. Unbounded below,
    PostgreSQL would open every month's index (the default partition, which may hold any date,
    stops it from reading the months in order and stopping early). The month's rows come first in
    the page's order, so when the month holds a whole page it is the page; otherwise the page is
    read again without the bound."""
    since = _newest_month(filters, now, after)
    with replica.read_connection(source or replica.Source(db.engine, "primary", now)) as conn:
        rows = []
        if since is not None:
            rows = _read(conn, user, filters, now=now, after=after, limit=limit, task_id=task_id, since=since)
        if len(rows) < limit:
            rows = _read(conn, user, filters, now=now, after=after, limit=limit, task_id=task_id, since=None)
        followups = _followups_of(conn, [row["id"] for row in rows])
    for row in rows:
        row["flags"] = row["flags"] or []
        row["followups"] = followups.get(row["id"], [])
    return rows


def _newest_month(filters: Filters, now: datetime | None, after: Cursor | None) -> datetime | None:
    """Where the month of a newest-first page's upper bound begins (None: no such bound)."""
    if not filters.descending or (after is None and now is None):
        return None
    return local_midnight(local_today(after.start if after is not None else now).replace(day=1))


def _read(conn, user: User, filters: Filters, *, now, after: Cursor | None, limit: int, task_id: int | None,
          since: datetime | None) -> list[dict]:
    page = _page_query(user, filters, now=now, after=after, limit=limit, task_id=task_id)
    if since is not None:
        page = page.where(Task.window_start_at >= since)
    page = page.subquery("page")
    # The page's month stated on every table joined by it too, so the plan holds that month's
    # partitions only, whatever join it picks.
    until = after.start if after is not None else now

    def in_month(column):
        return true() if since is None else and_(column >= since, column <= until)
    check_in, check_out, community, street = _CHECK_IN, _CHECK_OUT, _COMMUNITY, _STREET
    order = (page.c.window_start_at.desc(), page.c.id.desc()) if filters.descending \
        else (page.c.window_start_at, page.c.id)
    query = (
        select(
            Task.id, Task.kind, Task.service_type, ServiceType.name_zh.label("service_name"), Task.elder_id,
            Elder.name.label("elder_name"), Task.assignee_id.label("caregiver_id"),
            func.coalesce(func.nullif(User.display_name, ""), User.username).label("caregiver_name"),
            Visit.user_id.label("performed_by_id"), Task.provider_id, Provider.name.label("provider_name"),
            Task.community_id, community.name.label("community_name"), street.name.label("street_name"),
            Task.window_start_at, Task.window_end_at, Task.status,
            check_in.captured_at.label("check_in_at"), check_in.captured_at_corrected.label("check_in_at_corrected"),
            check_out.captured_at.label("check_out_at"),
            check_out.captured_at_corrected.label("check_out_at_corrected"),
            Visit.duration_seconds, Visit.is_verified, check_in.qr_flag.label("check_in_qr"),
            check_out.qr_flag.label("check_out_qr"), Visit.max_distance_m.label("distance_m"), Visit.flags,
            Visit.is_late_sync, Visit.satisfaction, Visit.patrol_outcome, Visit.patrol_mode, Visit.needs_review,
            verification.state(verification.CURRENT.decision).label("verification_state"),
        )
        .select_from(page)
        .join(Task, and_(Task.id == page.c.id, Task.window_start_at == page.c.window_start_at,
                         in_month(Task.window_start_at)))
        .join(Elder, Elder.id == Task.elder_id)
        .join(community, community.id == Task.community_id)
        .outerjoin(street, street.id == community.parent_id)
        .outerjoin(ServiceType, ServiceType.code == Task.service_type)
        .outerjoin(User, User.id == Task.assignee_id)
        .outerjoin(Provider, Provider.id == Task.provider_id)
        .outerjoin(Visit, and_(_of_task(Visit), in_month(Visit.window_start_at)))
        .outerjoin(verification.CURRENT, verification.joins_current(Task.id))
        .outerjoin(check_in, and_(check_in.id == Visit.check_in_item_id,
                                  check_in.window_start_at == Visit.window_start_at,
                                  in_month(check_in.window_start_at)))
        .outerjoin(check_out, and_(check_out.id == func.coalesce(Visit.check_out_item_id, Visit.report_item_id),
                                   check_out.window_start_at == Visit.window_start_at,
                                   in_month(check_out.window_start_at)))
        .order_by(*order)
    )
    # On a connection, not through the ORM's result path: plain rows, about twice as fast, which
    # an export of half a million rows feels.
    return [dict(row._mapping) for row in conn.execute(query)]


def _of_task(table):
    """`table`'s rows of the task (visits, items): by task id and the task's window start, the
    partition key they share with it, so each lookup reads one month's partition."""
    return and_(table.task_id == Task.id, table.window_start_at == Task.window_start_at)


def _page_query(user: User, filters: Filters, *, now, after: Cursor | None, limit: int, task_id: int | None):
    query = select(Task.id, Task.window_start_at)
    communities = _communities(user, filters.region_id)
    if communities is not None:
        query = query.where(Task.community_id.in_(inline_ids(communities)))
    if user.role == "provider_manager":  # their provider's visits, wherever its elders live
        query = query.where(Task.provider_id == user.provider_id)
    if task_id is not None:
        query = query.where(Task.id == task_id)
    if now is not None:
        query = query.where(Task.window_start_at <= now)  # came due: future tasks are not visits yet
    # Both person filters name the task's assignee: they differ in whom the console offers.
    for column, value in ((Task.provider_id, filters.provider_id), (Task.assignee_id, filters.caregiver_id),
                          (Task.assignee_id, filters.community_worker_id), (Task.elder_id, filters.elder_id),
                          (Task.service_type, filters.service_type),
                          (Task.kind, filters.kind)):
        if value is not None:
            query = query.where(column == value)
    if filters.status:
        query = query.where(Task.status.in_(filters.status))
    if filters.window_from:
        query = query.where(Task.window_start_at >= local_midnight(filters.window_from))
    if filters.window_to:
        query = query.where(Task.window_start_at < local_midnight(filters.window_to + timedelta(days=1)))
    if filters.date_from or filters.date_to:
        query = query.where(*_on_days(filters.date_from, filters.date_to))
    # Evidence filters are correlated scalar subqueries on purpose: the planner cannot turn them
    # into a join driven from `visits` (it misjudges LIKE on JSON text badly), so a page is still
    # read in window order and stops at `limit`, looking up each candidate's visit by task id.
    if filters.flag:
        # Flags come from a fixed vocabulary and are stored as a JSON list of strings, so the quoted
        # name matches exactly one flag. A position test rather than LIKE: for
        # LIKE '%…%' PostgreSQL guesses almost no match and sorts the whole scope instead.
        flags = select(cast(Visit.flags, Text)).where(_of_task(Visit)).scalar_subquery()
        query = query.where(func.strpos(flags, f'"{filters.flag}"') > 0)
    if filters.verification:
        column, wanted = VERIFICATION[filters.verification]
        query = query.where(select(column).where(_of_task(Visit)).scalar_subquery() == wanted)
    if filters.verification_state:
        # The visit log's own column, so the filter finds exactly the rows that show the state.
        state = (select(verification.state(verification.CURRENT.decision)).select_from(Visit)
                 .outerjoin(verification.CURRENT, verification.joins_current(Visit.task_id))
                 .where(_of_task(Visit)).scalar_subquery())
        query = query.where(state == filters.verification_state)
    key = tuple_(Task.window_start_at, Task.id)
    if after is not None:
        bound = tuple_(literal(after.start, Task.window_start_at.type), literal(after.id))
        query = query.where(key < bound if filters.descending else key > bound)
    if filters.descending:
        return query.order_by(Task.window_start_at.desc(), Task.id.desc()).limit(limit)
    return query.order_by(Task.window_start_at, Task.id).limit(limit)


def _on_days(first: date | None, last: date | None) -> list:
    """Conditions for "the visit fell on a day from `first` to `last`" (local days, inclusive).

    Evidence decides when there is any: the corrected check-in, else the report or check-out.
    A correlated subquery by task id, as the evidence filters below are, after the window tests
    (AFTER_WINDOW, DAY_LOOKBACK, DAY_LOOKAHEAD) that bound the candidates.
    """
    begins = local_midnight(first) if first else None
    ends = local_midnight(last + timedelta(days=1)) if last else None
    visited = select(func.coalesce(Visit.started_at, Visit.ended_at)).where(_of_task(Visit)) \
        .scalar_subquery()
    # Without evidence, the moment of the window nearest the first day stands for the task: it
    # falls within the days exactly when the window overlaps them.
    # The window's last instant, so a window ending at the first day's midnight is not on that day.
    last_instant = Task.window_end_at - literal_column("interval '1 microsecond'")
    nearest = Task.window_start_at if begins is None else func.greatest(
        Task.window_start_at, func.least(literal(begins, Task.window_start_at.type), last_instant))
    # A range test rather than two comparisons, so the subquery runs once per candidate.
    days = func.tstzrange(literal(begins, Task.window_start_at.type), literal(ends, Task.window_start_at.type),
                          "[)")
    conditions = []
    if begins is not None:
        conditions += [Task.window_start_at >= begins - DAY_LOOKBACK, Task.window_end_at > begins - AFTER_WINDOW]
    if ends is not None:
        conditions.append(Task.window_start_at < ends + DAY_LOOKAHEAD)
    return [*conditions, days.op("@>")(func.coalesce(visited, nearest))]


def _communities(user: User, region_id: int | None) -> list[int] | None:
    """The community ids the user may see within the region filter; None when nothing narrows."""
    if user.role in ("admin", "provider_manager") and region_id is None:
        return None
    query = select(Region.id).where(Region.level == "community", region_ids_clause(user, Region.id))
    if region_id is not None:
        region = db.session.get(Region, region_id)
        if region is None:
            raise NotFound("region")
        query = query.where(Region.path.startswith(region.path))
    return list(db.session.execute(query).scalars())


def _followups_of(conn, task_ids: list[int]) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {}
    if not task_ids:
        return found
    query = select(Followup.task_id, Followup.id, Followup.kind, Followup.status) \
        .where(Followup.task_id.in_(inline_ids(task_ids))).order_by(Followup.id)
    for task_id, followup_id, kind, status in conn.execute(query):
        found.setdefault(task_id, []).append({"id": followup_id, "kind": kind, "status": status})
    return found
