"""Years of history beside the present: the hot paths on 20,000,000 tasks over 48 months and on
1,000,000 tasks with the same present, measured in the same run.

    python bench/history.py [--tasks 20000000] [--months 48] [--reference 1000000] [--runs 5]

Seeds two private databases (carerounds_bench_history_big and _ref, dropped at the end unless
--keep) by set-based SQL, each with the district of benchlib.seed_city (10 streets, 100
communities, 20 providers, 2,000 caregivers, 50,000 elders with a care plan each) and tasks at one
steady rate: `--tasks` spread over `--months` months up to 14 days ahead. Task g (g = 0 the
newest; ids grow with time, as generation makes them) starts at (now + 14 days) - g * step in
both databases, so the reference database holds exactly the big one's newest `--reference` tasks
(about 2.4 months at the default rate): the same present, without the years. Past tasks are 90%
completed (each with its visit and its check-in and check-out items), 6% missed, 4% cancelled;
every tenth task of the last 24 hours before its missed deadline is still scheduled (due for the
sweep, already flagged late); the coming ones are scheduled. Then VACUUM ANALYZE.

Then, in each database, on the app's own engine in this process (Flask's test client), best and median of `--runs`:

- first pull: GET /api/v1/sync/pull with no cursor, as caregiver bench_cg_0000 (about 100 tasks);
- empty pull: the same with the cursor of the completed pull, nothing changed;
- sweep: backend.tasks.sweep.sweep(now) (the detection: late flags, missed marks) and a rollback;
- visit log: GET /api/v1/audit/visits, the first page (50, newest first) as the district supervisor;
- report: GET /api/v1/reports/monthly for the district and the current month (to date);
- last_month_report: the same for the last whole month (for information: the target names the
  current month, which early in a month holds a few days).

Target: each within 1.2× of its reference figure, and the city report under 1 s. Once more per
phase, untimed, PostgreSQL's auto_explain sends every statement's executed plan to the client
(log_level notice): the partitions each phase scanned (plan nodes run at least once) are printed
beside the number each partitioned table has.
"""

import argparse
import contextlib
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import benchlib
import psycopg

BIG, REF = "carerounds_bench_history_big", "carerounds_bench_history_ref"
ELDERS, CAREGIVERS, PROVIDERS, STREETS, PER_STREET = 50_000, 2_000, 20, 10, 10
FUTURE_DAYS = 14
TARGET_RATIO, TARGET_REPORT_S = 1.2, 1.0
SERVICE_TYPES = ["meal", "bathing", "cleaning", "medical", "emergency", "mobility", "shopping", "companionship",
                 "recreation", "learning"]
DEVICE = "bench-history-phone"


# ------------------------------------------------------------------ seeding

def seed(url: str, tasks: int, step_s: float, now: datetime) -> dict:
    """The city, `tasks` tasks (g = 0 the newest) with their visits and items; timings by part."""
    newest = now + timedelta(days=FUTURE_DAYS)
    timings = {}
    benchlib.make_months(url, newest - timedelta(seconds=step_s * tasks), newest)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET session_replication_role = replica")  # no FK triggers while loading our own rows
        cur.execute("SET maintenance_work_mem = '512MB'")
        t = time.monotonic()
        city = benchlib.seed_city(cur, now, streets=STREETS, per_street=PER_STREET, providers=PROVIDERS,
                                  managed=0, caregivers=CAREGIVERS, elders=ELDERS)
        timings["city"] = time.monotonic() - t
        narrow = benchlib.narrow_tables(cur, {"visit_items": "t.ws"})
        indexes = benchlib.drop_plain_indexes(cur, ["tasks", "visits", "visit_items"])
        benchlib.check_required(cur, "tasks", benchlib.SEEDED_TASK_COLUMNS | {"care_plan_id", "late_at"})
        t = time.monotonic()
        e = "s.e"
        # Status by age: scheduled ahead of its missed deadline (ws + 3 h) or due (every tenth of the
        # last day before it); older ones completed, missed or cancelled (45:3:2).
        cur.execute(f"""
            INSERT INTO tasks (id, kind, service_type, elder_id, assignee_id, care_plan_id, community_id,
                               provider_id, source_key, window_start_at, window_end_at, min_duration_minutes,
                               status, status_changed_at, late_after_at, late_at, missed_after_at, version,
                               change_seq, created_at, updated_at)
            SELECT %(tasks)s - s.g, 'service', (%(types)s::text[])[s.g %% 10 + 1], %(elder0)s + {e},
                   {benchlib.caregiver_of(city, e)}, %(plan0)s + {e}, %(community0)s + {e} %% %(communities)s,
                   %(provider0)s + {e} %% %(providers)s, 'bench:' || s.g, s.ws, s.ws + interval '1 hour', 20,
                   s.status, least(s.ws + interval '1 hour', %(now)s), s.ws + interval '30 minutes',
                   CASE WHEN s.status = 'scheduled' AND s.ws + interval '30 minutes' <= %(now)s
                        AND s.ws + interval '3 hours' <= %(now)s THEN s.ws + interval '30 minutes' END,
                   s.ws + interval '3 hours', 1, %(tasks)s - s.g, s.ws - interval '7 days', s.ws - interval '7 days'
            FROM (
                SELECT g, e, ws,
                       CASE WHEN ws + interval '3 hours' > %(now)s THEN 'scheduled'
                            WHEN ws + interval '27 hours' > %(now)s AND g %% 10 = 0 THEN 'scheduled'
                            WHEN g %% 50 < 45 THEN 'completed'
                            WHEN g %% 50 < 48 THEN 'missed'
                            ELSE 'cancelled' END AS status
                FROM (SELECT g, (g::bigint * 7919) %% %(elders)s AS e,
                             %(newest)s - (g * %(step)s) * interval '1 second' AS ws
                      FROM generate_series(0, %(tasks)s - 1) g) raw
            ) s
        """, {**city, "types": SERVICE_TYPES, "tasks": tasks, "newest": newest, "step": step_s, "now": now})
        cur.execute("SELECT setval(pg_get_serial_sequence('tasks', 'id'), %s)", (tasks,))
        timings["tasks"] = time.monotonic() - t
        t = time.monotonic()
        # Check-in and check-out items of every completed task, ids derived from the task's id.
        item_extra = narrow["visit_items_partition"]
        cur.execute(f"""
            INSERT INTO visit_items (id, user_id, device_id, seq, type, task_id, captured_at, captured_at_corrected,
                                     received_at, clock_offset_seconds, lat, lon, accuracy_m, distance_m, flags,
                                     fingerprint, payload{item_extra[0]})
            SELECT md5(k.kind || t.id)::uuid::text, t.assignee_id, 'bench-dev-' || t.assignee_id,
                   2 * t.id + k.n, k.kind, t.id, t.ws + k.at, t.ws + k.at, t.ws + k.at + interval '2 minutes', 0,
                   41.7, 123.3, 10, 12, '[]', md5(k.kind || t.id) || md5(t.id || k.kind),
                   '{{"note": ""}}'{item_extra[1]}
            FROM (SELECT id, assignee_id, window_start_at AS ws FROM tasks WHERE status = 'completed') t
            CROSS JOIN (VALUES ('check_in', 0, interval '5 minutes'),
                               ('check_out', 1, interval '35 minutes')) k(kind, n, at)
        """)
        timings["items"] = time.monotonic() - t
        t = time.monotonic()
        visit_extra = narrow["visits_partition"]
        cur.execute(f"""
            INSERT INTO visits (task_id, user_id, check_in_item_id, check_out_item_id, started_at, ended_at,
                                duration_seconds, is_verified, satisfaction, is_late_sync, flags, needs_review,
                                crosschecked_at, created_at, updated_at{visit_extra[0]})
            SELECT id, assignee_id, md5('check_in' || id)::uuid::text, md5('check_out' || id)::uuid::text,
                   window_start_at + interval '5 minutes', window_start_at + interval '35 minutes', 1800, true, 5,
                   false, '[]', false, window_start_at + interval '1 hour', window_start_at, window_start_at
                   {visit_extra[1]}
            FROM tasks WHERE status = 'completed'
        """)
        timings["visits"] = time.monotonic() - t
        t = time.monotonic()
        for statement in narrow["fill"]:
            cur.execute(statement)
        benchlib.create_indexes(cur, indexes)
        cur.execute("INSERT INTO sync_clock (id, value) VALUES (1, %s) ON CONFLICT (id) DO UPDATE SET value = %s",
                    (tasks + ELDERS + 1, tasks + ELDERS + 1))
        timings["indexes"] = time.monotonic() - t
        conn.commit()
    t = time.monotonic()
    benchlib.vacuum_after_load(url)
    with psycopg.connect(url, autocommit=True) as conn:
        counts = conn.execute("""
            SELECT count(*), count(*) FILTER (WHERE status = 'scheduled' AND missed_after_at <= %s),
                   min(window_start_at), max(window_start_at)
            FROM tasks""", (now,)).fetchone()
    timings["vacuum"] = time.monotonic() - t
    return {"city": city, "tasks": counts[0], "due": counts[1], "oldest": counts[2], "newest": counts[3],
            "timings": timings}


# ------------------------------------------------------------------ measuring

class Phases:
    """The five measured operations against one database, each a callable returning nothing."""

    def __init__(self, app, seeded: dict, now: datetime):
        self.app, self.now, self.city = app, now, seeded["city"]
        self.client = app.test_client()
        self.caregiver = self._login("bench_cg_0000", DEVICE)
        self.supervisor = self._login("bench_sup_district", "bench-history-console")
        today = now.astimezone(_care_tz()).date()
        self.month = f"{today:%Y-%m}"
        self.last_month = f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"
        self.cursor = None

    def _login(self, username: str, device: str) -> dict:
        answer = self.client.post("/api/v1/auth/login", json={"username": username, "password": benchlib.PASSWORD,
                                                              "device_id": device})
        if answer.status_code != 200:
            raise RuntimeError(f"login of {username}: {answer.status_code} {answer.get_data(as_text=True)[:300]}")
        return {"Authorization": "Bearer " + answer.get_json()["access_token"]}

    def _get(self, path: str, headers: dict) -> dict:
        answer = self.client.get(path, headers=headers)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path}: {answer.status_code} {answer.get_data(as_text=True)[:300]}")
        return answer.get_json()

    def first_pull(self):
        query = {"device_id": DEVICE, "limit": 500}
        body = self._get("/api/v1/sync/pull?" + urlencode(query), self.caregiver)
        while body.get("has_more"):
            body = self._get("/api/v1/sync/pull?" + urlencode({**query, "cursor": body["cursor"]}), self.caregiver)
        self.cursor = body["cursor"]

    def empty_pull(self):
        if self.cursor is None:
            self.first_pull()
        body = self._get("/api/v1/sync/pull?" + urlencode({"device_id": DEVICE, "limit": 500, "cursor": self.cursor}),
                         self.caregiver)
        changed = len(body["tasks"]["upserted"]) + len(body["tasks"]["removed"])
        if changed:
            raise RuntimeError(f"the empty pull brought {changed} task changes")

    def sweep(self):
        from backend.extensions import db
        from backend.tasks.sweep import sweep

        with self.app.app_context():
            result = sweep(now=self.now)
            db.session.rollback()
        if not result.ran:
            raise RuntimeError("the sweep did not run (its lock is held elsewhere)")

    def visit_log(self):
        body = self._get("/api/v1/audit/visits?limit=50", self.supervisor)
        if len(body["items"]) != 50:
            raise RuntimeError(f"the visit log's first page held {len(body['items'])} rows")

    def report(self):
        self._get(f"/api/v1/reports/monthly?region={self.city['district']}&month={self.month}", self.supervisor)

    def last_month_report(self):
        self._get(f"/api/v1/reports/monthly?region={self.city['district']}&month={self.last_month}", self.supervisor)

    ALL = ("first_pull", "empty_pull", "sweep", "visit_log", "report", "last_month_report")


def _care_tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


def measure(targets: dict, now: datetime, runs: int) -> dict:
    """Per database: the seconds of every run of every phase, and the relations each phase's plans
    ran. Runs alternate between the databases (which goes first alternates too), so the load other
    processes put on the machine falls on both alike."""
    phases = {name: Phases(benchlib.app_for(url, "bench-history-"), seeded, now)
              for name, (url, seeded) in targets.items()}
    for each in phases.values():  # warm the caches and the app's lazy imports
        for phase in Phases.ALL:
            getattr(each, phase)()
    times = {name: {phase: [] for phase in Phases.ALL} for name in targets}
    order = list(targets)
    for run in range(runs):
        for phase in Phases.ALL:
            for name in order if run % 2 == 0 else reversed(order):
                t = time.perf_counter()
                getattr(phases[name], phase)()
                times[name][phase].append(time.perf_counter() - t)
    results = {}
    for name, each in phases.items():
        scanned = {}
        with explained(each.app) as plans:
            for phase in Phases.ALL:
                plans.clear()
                getattr(each, phase)()
                scanned[phase] = sorted({relation for plan in plans for relation in ran_relations(plan)})
        url = targets[name][0]
        results[name] = {"times": times[name], "scanned": scanned, "partitions": partition_counts(url),
                         "parents": parent_of(url)}
    return results


@contextlib.contextmanager
def explained(app):
    """auto_explain on every pooled connection the app checks out meanwhile: each statement's executed
    plan (JSON, with actual rows) comes back as a notice and lands in the yielded list."""
    from sqlalchemy import event

    from backend.extensions import db

    plans: list = []
    handled = set()

    def on_notice(diagnostic):
        message = diagnostic.message_primary or ""
        if "plan:" in message:
            with contextlib.suppress(ValueError):
                plans.append(json.loads(message.split("plan:", 1)[1]))

    def on_checkout(dbapi_connection, record, proxy):
        with dbapi_connection.cursor() as cursor:
            for statement in EXPLAIN_ON:
                cursor.execute(statement)
        dbapi_connection.commit()
        if id(dbapi_connection) not in handled:
            handled.add(id(dbapi_connection))
            dbapi_connection.add_notice_handler(on_notice)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "checkout", on_checkout)
    try:
        yield plans
    finally:
        event.remove(engine, "checkout", on_checkout)
        engine.dispose()  # the connections go, and their settings with them


EXPLAIN_ON = ("LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0", "SET auto_explain.log_analyze = on",
              "SET auto_explain.log_timing = off", "SET auto_explain.log_format = json",
              "SET auto_explain.log_level = notice", "SET client_min_messages = notice")


def ran_relations(node) -> list[str]:
    """Relation names of the plan's scan nodes that ran at least once."""
    found = []
    stack = [node.get("Plan", node) if isinstance(node, dict) else node]
    while stack:
        plan = stack.pop()
        if isinstance(plan, dict):
            if "Relation Name" in plan and plan.get("Actual Loops", 1) > 0:
                found.append(plan["Relation Name"])
            stack.extend(plan.get("Plans", []))
        elif isinstance(plan, list):
            stack.extend(plan)
    return found


def partition_counts(url: str) -> dict[str, int]:
    """Partitioned table → its number of partitions (an empty dict on an unpartitioned schema)."""
    with psycopg.connect(url) as conn:
        return dict(conn.execute("""
            SELECT parent.relname, count(*) FROM pg_inherits i
            JOIN pg_class parent ON parent.oid = i.inhparent JOIN pg_class child ON child.oid = i.inhrelid
            JOIN pg_partitioned_table p ON p.partrelid = parent.oid
            WHERE parent.relnamespace = current_schema()::regnamespace
            GROUP BY parent.relname ORDER BY 1""").fetchall())


def parent_of(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("""
            SELECT child.relname, parent.relname FROM pg_inherits i
            JOIN pg_class parent ON parent.oid = i.inhparent JOIN pg_class child ON child.oid = i.inhrelid
            WHERE parent.relnamespace = current_schema()::regnamespace""").fetchall())


# ------------------------------------------------------------------ the run

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=20_000_000)
    parser.add_argument("--months", type=int, default=48)
    parser.add_argument("--reference", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help=(
        "keep both databases, and reuse them on the next --keep run of the same --tasks, --months and "
        "--reference (migrated to head first): the seed's time and sizes are kept in the database's comment"))
    args = parser.parse_args()
    now = datetime.now(UTC)
    step_s = (args.months * 30.44 * 86400) / args.tasks
    benchlib.print_machine(benchlib.machine())
    print(f"{args.tasks:,} tasks over {args.months} months (one every {step_s:.2f} s) beside the newest "
          f"{args.reference:,} of them; {args.runs} runs")
    sizes = {REF: args.reference, BIG: args.tasks}
    kept = {name: kept_seed(name, {"tasks": tasks, "months": args.months}) for name, tasks in sizes.items()}
    if args.keep and all(kept.values()) and len({k["seeded_at"] for k in kept.values()}) == 1:
        # Both seeded together earlier: measured as of that time (the sweep finds what was due then).
        now = datetime.fromisoformat(kept[REF]["seeded_at"])
        print(f"reusing the databases kept from {now:%Y-%m-%d %H:%M} UTC")
    else:
        kept = {}
    targets = {}
    try:
        for name, tasks in sizes.items():
            url = benchlib.db_url(name) if kept else benchlib.create_database(name)
            benchlib.migrate(url, tempfile.mkdtemp(prefix="bench-history-"))
            if kept:
                targets[name] = (url, kept[name])
                continue
            t = time.monotonic()
            seeded = seed(url, tasks, step_s, now)
            parts = ", ".join(f"{k} {v:.0f} s" for k, v in seeded["timings"].items())
            print(f"{name}: {seeded['tasks']:,} tasks from {seeded['oldest']:%Y-%m-%d} to "
                  f"{seeded['newest']:%Y-%m-%d}, {seeded['due']:,} due; seeded in {time.monotonic() - t:.0f} s "
                  f"({parts})", flush=True)
            if args.keep:
                remember_seed(name, {"tasks": tasks, "months": args.months, "seeded_at": now.isoformat(),
                                     "district": seeded["city"]["district"]})
            targets[name] = (url, seeded)
        report(measure(targets, now, args.runs), args)
    finally:
        if not args.keep:
            for name in (REF, BIG):
                benchlib.drop_database(name)


def kept_seed(name: str, wanted: dict) -> dict | None:
    """The kept database's seed description if it was seeded as `wanted` (None otherwise)."""
    with psycopg.connect(benchlib.ADMIN_URL) as conn:
        row = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                           (name,)).fetchone()
    comment = row[0] if row else None
    if not comment or not comment.startswith("bench-history "):
        return None
    kept = json.loads(comment.removeprefix("bench-history "))
    if any(kept.get(key) != value for key, value in wanted.items()):
        return None
    return {**kept, "city": {"district": kept["district"]}}


def remember_seed(name: str, description: dict) -> None:
    with psycopg.connect(benchlib.ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'COMMENT ON DATABASE "{name}" IS ' + "'bench-history " + json.dumps(description) + "'")


def report(results: dict, args) -> None:
    ref, big = results[REF], results[BIG]
    rows = []
    for phase in Phases.ALL:
        r, b = min(ref["times"][phase]), min(big["times"][phase])
        ratio = b / r if r else float("inf")
        verdict = "ok" if ratio <= TARGET_RATIO else "OVER"
        if phase == "report" and b >= TARGET_REPORT_S:
            verdict += f", OVER {TARGET_REPORT_S:.0f} s"
        rows.append((phase, f"{r * 1000:.1f}", f"{statistics.median(ref['times'][phase]) * 1000:.1f}",
                     f"{b * 1000:.1f}", f"{statistics.median(big['times'][phase]) * 1000:.1f}", f"{ratio:.2f}×",
                     verdict))
    small, large = _size(args.reference), _size(args.tasks)
    benchlib.print_table(rows, ("phase", f"{small} best ms", f"{small} median ms", f"{large} best ms",
                                f"{large} median ms", "best ratio", f"target ≤ {TARGET_RATIO}×"))
    print("partitions:", ", ".join(f"{t} {n}" for t, n in big["partitions"].items()) or "none (unpartitioned)")
    for phase in Phases.ALL:
        print(f"{phase} scanned ({large}): {describe(big['scanned'][phase], big['parents'], big['partitions'])}")


def _size(tasks: int) -> str:
    return f"{tasks / 1e6:g}M" if tasks >= 1_000_000 else f"{tasks / 1e3:g}k"


def describe(relations: list[str], parents: dict[str, str], counts: dict[str, int]) -> str:
    by_parent: dict[str, list[str]] = {}
    plain = []
    for relation in relations:
        parent = parents.get(relation)
        if parent in counts:
            by_parent.setdefault(parent, []).append(relation)
        else:
            plain.append(relation)
    parts = [f"{parent} {len(names)}/{counts[parent]} ({', '.join(sorted(names)[:4])}"
             f"{', …' if len(names) > 4 else ''})" for parent, names in sorted(by_parent.items())]
    return "; ".join(parts + sorted(plain)) or "nothing"


if __name__ == "__main__":
    main()
