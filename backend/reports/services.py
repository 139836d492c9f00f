"""The monthly report of a region: figures per region, provider, service type, caregiver and day,
and the providers to be listed for rectification (整改).

The SQL lives in figures.py; here its queries run side by side on connections that share one
snapshot (readers.py), and the grouped sums are added up per dimension and turned into rates and
means. Nothing here loops over visits, only over already grouped rows.
"""

from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from backend import replica
from backend.clock import local_midnight
from backend.extensions import among, db
from backend.plans.models import ServiceType
from backend.providers import workforce
from backend.providers.models import Provider
from backend.rectifications import services as rectifications
from backend.regions.models import Region
from backend.reports import figures, readers
from backend.users.models import User

VISIT_SUMS = ("planned", "completed", "rejected", "completed_on_time", "late_synced", "missed", "cancelled",
              "verified",
              "timed", "duration_seconds", "min_duration_minutes", "short_visits", "satisfaction_rated",
              "satisfaction_sum", "satisfaction_low", "patrols_seen_door", "patrols_seen_phone", "patrols_attempted",
              "cross_flagged")
FOLLOWUP_SUMS = ("followups_opened", "followups_resolved", "followups_overdue")
COVERAGE_SUMS = ("in_scope_elders", "in_scope_elders_visited", "in_scope_elders_quarterly")
CALLBACK_SUMS = ("callbacks", "callbacks_unconfirmed", "callback_satisfaction_rated", "callback_satisfaction_sum")
PATROL_COVERAGE_TARGET = 1.0


@dataclass(frozen=True)
class Thresholds:
    min_satisfaction: float
    min_verification: float
    min_visits: int
    # From this many rated call-backs in the month, a provider's satisfaction is the call-backs'.
    min_callbacks: int = 3

    @classmethod
    def from_config(cls, config) -> "Thresholds":
        return cls(config["RECTIFICATION_MIN_SATISFACTION"], config["RECTIFICATION_MIN_VERIFICATION"],
                   config["RECTIFICATION_MIN_VISITS"], config["RECTIFICATION_MIN_CALLBACKS"])


def month_period(first_day: date, now: datetime | None = None) -> figures.Period:
    """The month starting `first_day`, bounded by local midnights of the care time zone; its figures
    stop at `now` while the month is in progress (a month not begun stops at its start)."""
    days = monthrange(first_day.year, first_day.month)[1]
    starts = tuple(local_midnight(first_day + timedelta(days=n)) for n in range(days + 1))
    until = starts[-1] if now is None else min(max(now, starts[0]), starts[-1])
    quarter_start = local_midnight(first_day.replace(month=(first_day.month - 1) // 3 * 3 + 1))
    return figures.Period(first_day=first_day, start=starts[0], end=starts[-1], day_starts=starts, until=until,
                          quarter_start=quarter_start)


def quarterly_tiers(config) -> tuple[str, ...]:
    """The risk tiers patrolled quarterly (PATROL_FREQUENCY): their elders' coverage is judged on the quarter."""
    return tuple(sorted(tier for tier, every in config["PATROL_FREQUENCY"].items() if every == "quarter"))


def monthly_report(region: Region, first_day: date, *, now: datetime, thresholds: Thresholds | None = None) -> dict:
    """Every figure of `region` for the month starting `first_day`, as plain data for any format."""
    thresholds = thresholds or Thresholds.from_config(current_app.config)
    period = month_period(first_day, now)
    area = figures.Area.of(region)
    source = replica.heavy_read_source(now=now)
    categories = tuple(current_app.config["COVERAGE_CATEGORIES"])
    quarterly = quarterly_tiers(current_app.config)
    with readers.snapshot_readers(current_app.config["REPORT_CONNECTIONS"], source.engine) as conns:
        for conn in conns:
            figures.prepare(conn)
        # The month's task ids first, and meanwhile the follow-ups (about as long).
        scope, followups = readers.run_all(conns, [partial(figures.scope_of, area=area, period=period),
                                                   partial(figures.followup_groups, area=area, period=period)])
        # Then the big scan, cut in as many parts as there are connections, and the smaller
        # queries on whichever connection frees up first.
        jobs = [partial(figures.visit_groups, scope=part, period=period) for part in scope.parts(len(conns))]
        jobs += [partial(figures.daily_groups, scope=scope, period=period),
                 partial(figures.coverage_groups, area=area, period=period, categories=categories,
                         quarterly_tiers=quarterly),
                 partial(figures.callback_groups, scope=scope, period=period),
                 partial(figures.rejected_groups, scope=scope, period=period)]
        *visit_parts, daily_rows, coverage, callbacks, rejected = readers.run_all(conns, jobs)
        # The providers found are held to account for their workforce, read in the same snapshot.
        provider_ids = {row["provider_id"] for rows in (*visit_parts, rejected, followups, callbacks) for row in rows}
        month_ids = None if scope.first_task_id is None else (scope.first_task_id, scope.last_task_id)
        staff = workforce.summaries(conns[0], provider_ids, first_day.strftime("%Y-%m"), month_ids)
    # Rejected visits' rows take them out of completed and every visit sum, and count them as rejected.
    visits = [row for rows in visit_parts for row in rows] + rejected
    daily = {row["day"]: dict(row) for row in daily_rows}
    for row in rejected:
        daily[row["day"]]["completed"] += row["completed"]

    by_region = _merge(_add_up(visits, "region_id", VISIT_SUMS), _add_up(followups, "region_id", FOLLOWUP_SUMS),
                       _add_up(coverage, "region_id", COVERAGE_SUMS),
                       _add_up(callbacks, "region_id", CALLBACK_SUMS))
    by_provider = _merge(_add_up(visits, "provider_id", VISIT_SUMS),
                         _add_up(followups, "provider_id", FOLLOWUP_SUMS),
                         _add_up(callbacks, "provider_id", CALLBACK_SUMS))
    by_provider.pop(None, None)
    total = _merge(_add_up(visits, None, VISIT_SUMS), _add_up(followups, None, FOLLOWUP_SUMS),
                   _add_up(coverage, None, COVERAGE_SUMS), _add_up(callbacks, None, CALLBACK_SUMS))[None]
    services = _add_up([row for row in visits if row["kind"] == "service"], "service_type", VISIT_SUMS)
    caregivers = _add_up(visits, "assignee_id", VISIT_SUMS)
    caregivers.pop(None, None)

    providers = _names(Provider, by_provider)
    provider_rows = [{"provider_id": pid, "name": providers.get(pid, ""), **_visit_figures(sums)}
                     for pid, sums in sorted(by_provider.items(), key=lambda item: providers.get(item[0], ""))]
    for row in provider_rows:
        row["satisfaction_source"] = satisfaction_source(row, thresholds)
    return {
        "region": {"id": region.id, "name": region.name, "level": region.level},
        "month": first_day.strftime("%Y-%m"),
        "period": {"start_at": period.start, "end_at": period.end,
                   "time_zone": current_app.config["CARE_TIMEZONE"]},
        "generated_at": now,
        "as_of": source.as_of,
        "read_from": source.read_from,
        # A month in progress is counted to date: its figures stop at figures_until (the report's time).
        "month_in_progress": period.in_progress,
        "figures_until": period.until,
        "coverage": {"categories": list(categories), "quarterly_tiers": list(quarterly),
                     "rule": "quarter_for_quarterly_tiers" if quarterly else "month"},
        "definitions": definitions(),
        "thresholds": {"min_satisfaction": thresholds.min_satisfaction,
                       "min_verification": thresholds.min_verification, "min_visits": thresholds.min_visits,
                       "min_callbacks": thresholds.min_callbacks},
        "patrol_coverage_target": PATROL_COVERAGE_TARGET,
        "total": _region_figures(region, total),
        "regions": [_region_figures(child, by_region.get(child.id, {})) for child in _children(region)],
        "providers": provider_rows,
        "service_types": _service_type_rows(services),
        "caregivers": _caregiver_rows(caregivers),
        "daily": [{"date": first_day + timedelta(days=n - 1),
                   "planned": daily.get(n, {}).get("planned", 0),
                   "completed": daily.get(n, {}).get("completed", 0)}
                  for n in range(1, len(period.day_starts))],
        "rectification": rectification_list(provider_rows, thresholds),
        # The providers' own accountability: their workforce, and rectification orders past their
        # deadline with no response (as of `now`).
        "workforce": [{"provider_id": row["provider_id"], "name": row["name"], **staff[row["provider_id"]]}
                      for row in provider_rows],
        "overdue_rectifications": rectifications.overdue_rows([row["provider_id"] for row in provider_rows],
                                                              now=now),
    }


def satisfaction_source(row: dict, thresholds: Thresholds) -> str:
    """Which satisfaction judges a provider: "callback" (what the elders said when called) from
    min_callbacks rated call-backs in the month, else "check_out" (recorded on the caregiver's phone)."""
    return "callback" if row["callback_satisfaction_rated"] >= max(thresholds.min_callbacks, 1) else "check_out"


def definitions() -> dict[str, str]:
    """What each figure means, in the reader's language."""
    return {key: gettext(text, low=figures.LOW_SATISFACTION) for key, text in figures.DEFINITIONS.items()}


def rectification_list(providers: list[dict], thresholds: Thresholds) -> list[dict]:
    """Providers below a threshold, with which ones they failed; a rate counts only over enough visits
    (call-back satisfaction over the min_callbacks that chose it). "completed" excludes visits
    rejected on review, so a rejection lowers the verification rate's base, never raises it."""
    listed = []
    for row in providers:
        source = satisfaction_source(row, thresholds)
        if source == "callback":
            satisfaction, rated, enough = row["callback_satisfaction_mean"], row["callback_satisfaction_rated"], 1
        else:
            satisfaction, rated, enough = row["satisfaction_mean"], row["satisfaction_rated"], thresholds.min_visits
        failed = []
        if _below(satisfaction, rated, thresholds.min_satisfaction, enough):
            failed.append("satisfaction")
        if _below(row["verification_rate"], row["completed"], thresholds.min_verification, thresholds.min_visits):
            failed.append("verification")
        if failed:
            listed.append({key: row[key] for key in RECTIFICATION_KEYS}
                          | {"failed": failed, "satisfaction_source": source})
    return listed


RECTIFICATION_KEYS = ("provider_id", "name", "completed", "rejected", "verification_rate", "satisfaction_rated",
                      "satisfaction_mean", "callback_satisfaction_rated", "callback_satisfaction_mean")


def _below(value: float | None, over: int, threshold: float, at_least: int) -> bool:
    return value is not None and over >= max(at_least, 1) and value < threshold


def _add_up(rows: list[dict], key: str | None, names: tuple[str, ...]) -> dict:
    """Sum `names` over the grouped rows per value of `key` (None: one group of everything)."""
    out: dict = defaultdict(lambda: dict.fromkeys(names, 0))
    for row in rows:
        sums = out[row[key] if key else None]
        for name in names:
            sums[name] += row.get(name, 0)
    return dict(out)


def _merge(*groups: dict) -> dict:
    merged: dict = defaultdict(dict)
    for group in groups:
        for key, sums in group.items():
            merged[key].update(sums)
    merged.setdefault(None, {})
    return dict(merged)


def _ratio(part: int, whole: int, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


def _visit_figures(sums: dict) -> dict:
    get = lambda name: sums.get(name, 0)  # noqa: E731
    return {
        "planned": get("planned"), "completed": get("completed"), "rejected": get("rejected"),
        "completed_on_time": get("completed_on_time"),
        "late_synced": get("late_synced"), "missed": get("missed"), "cancelled": get("cancelled"),
        "verified": get("verified"), "verification_rate": _ratio(get("verified"), get("completed")),
        "satisfaction_rated": get("satisfaction_rated"),
        "satisfaction_mean": _ratio(get("satisfaction_sum"), get("satisfaction_rated"), 2),
        "satisfaction_low": get("satisfaction_low"),
        "satisfaction_low_share": _ratio(get("satisfaction_low"), get("satisfaction_rated")),
        "callbacks": get("callbacks"), "callbacks_unconfirmed": get("callbacks_unconfirmed"),
        "callbacks_unconfirmed_share": _ratio(get("callbacks_unconfirmed"), get("callbacks")),
        "callback_satisfaction_rated": get("callback_satisfaction_rated"),
        "callback_satisfaction_mean": _ratio(get("callback_satisfaction_sum"), get("callback_satisfaction_rated"), 2),
        "followups_opened": get("followups_opened"), "followups_resolved": get("followups_resolved"),
        "followups_overdue": get("followups_overdue"),
        "patrols_seen_door": get("patrols_seen_door"), "patrols_seen_phone": get("patrols_seen_phone"),
        "patrols_attempted": get("patrols_attempted"),
        "patrols_door_share": _ratio(get("patrols_seen_door"), get("patrols_seen_door") + get("patrols_seen_phone")),
        "patrols_phone_share": _ratio(get("patrols_seen_phone"), get("patrols_seen_door") + get("patrols_seen_phone")),
    }


def _region_figures(region: Region, sums: dict) -> dict:
    in_scope, visited = sums.get("in_scope_elders", 0), sums.get("in_scope_elders_visited", 0)
    return {"region_id": region.id, "name": region.name, "level": region.level, **_visit_figures(sums),
            "in_scope_elders": in_scope, "in_scope_elders_visited": visited,
            "in_scope_elders_quarterly": sums.get("in_scope_elders_quarterly", 0),
            "patrol_coverage": _ratio(visited, in_scope)}


def _service_type_rows(services: dict) -> list[dict]:
    names = {t.code: t.name_zh for t in db.session.execute(
        select(ServiceType).where(ServiceType.code.in_([code for code in services if code]))).scalars()}
    return [{"service_type": code, "name": names.get(code, code), "completed": sums["completed"],
             "timed": sums["timed"],
             "mean_duration_minutes": _ratio(sums["duration_seconds"], sums["timed"] * 60, 2),
             "mean_min_duration_minutes": _ratio(sums["min_duration_minutes"], sums["timed"], 2),
             "short_visits": sums["short_visits"]}
            for code, sums in sorted(services.items(), key=lambda item: item[0] or "") if code]


def _caregiver_rows(caregivers: dict) -> list[dict]:
    # Columns, not User objects: a district has thousands of caregivers.
    users = {u.id: u for u in db.session.execute(
        select(User.id, User.display_name, User.username, User.role, User.provider_id)
        .where(among(User.id, caregivers)))}
    rows = []
    for user_id, sums in caregivers.items():
        user = users.get(user_id)
        counts = _visit_figures(sums)
        rows.append({"user_id": user_id, "name": (user.display_name or user.username) if user else "",
                     "role": user.role if user else None, "provider_id": user.provider_id if user else None,
                     **{key: counts[key] for key in (
                         "planned", "completed", "rejected", "completed_on_time", "late_synced", "missed",
                         "verified",
                         "verification_rate", "satisfaction_rated", "satisfaction_mean",
                         "satisfaction_low_share")},
                     "cross_flagged": sums["cross_flagged"]})
    return sorted(rows, key=lambda row: (row["name"], row["user_id"]))


def _children(region: Region) -> list[Region]:
    if region.level == "community":
        return []
    return list(db.session.execute(
        select(Region).where(Region.parent_id == region.id).order_by(Region.name, Region.id)).scalars())


def _names(model, ids) -> dict:
    ids = [i for i in ids if i is not None]
    return {id_: name for id_, name in db.session.execute(select(model.id, model.name).where(model.id.in_(ids)))}
