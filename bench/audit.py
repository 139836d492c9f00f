"""The audit views at scale: 5,000,000 tasks with their visits, one district.

    python bench/audit.py [--tasks 5000000] [--pages 200] [--reports 3] [--export-rows 500000]
                          [--phases pages,report,export] [--keep-db]

Seeds a private database (carerounds_bench_audit, dropped at the end) by SQL: a district of 10
streets and 100 communities, 10 providers with managers, 2,000 caregivers, 40,000 elders (60% with
a category, half of those in patrol scope), one care plan each, and `--tasks` tasks over 150 days
of history and the coming 14 days (15% patrols). History: 86% completed, each with its visit
(start within the window or a little outside, durations 10–60 min with some below the minimum,
92% verified, 60% of services rated 1–5, 1% late-synced, 12% with review flags), 9% missed with a
follow-up, 5% cancelled. Visits of the last ~3 weeks (the range the measured pages and export
read) also have their check-in and check-out items (patrols: their report item). VACUUM ANALYZE.

Then, against the real server (gunicorn, one sync worker for phases 1 and 2, loopback, requests
one at a time, a supervisor of the district with a bearer token), beside the same SQL sent
straight to PostgreSQL through psycopg (captured from the app's own engine while it builds the
same answer in-process, then replayed with the same parameters on one connection, or for the
report on as many as the app used):

1. visit log first page (GET /api/v1/audit/visits, 50 rows) for a street, the last 7 local days,
   (a) status=completed and (b) flag=too_short: p50/p99 over `--pages` requests, server time from
   gunicorn's hooks; target p99 < 100 ms. Bare: every statement the page sends, summed.
2. monthly report (GET /api/v1/reports/monthly) of the district for the last complete month:
   `--reports` requests; target < 3 s. Bare: its GROUP BY queries and name look-ups, replayed on
   as many connections as the app read on, side by side as it ran them (and summed one after
   another, for reference), and the main scan (visit_groups, all its parts) alone.
3. CSV export (GET /api/v1/audit/visits.csv) of the district over the last N local days, N chosen
   to give ~`--export-rows` rows, streamed to nowhere by the client, on a freshly started worker
   whose RSS is sampled every 20 ms; target peak < 150 MB. This server runs the worker class,
   threads and timeout of `carerounds serve` (gthread, backend/cli.py::gunicorn_settings), so its
   duration is what a user of the real server waits, and "CUT" means the file came out short.

Every phase prints the CPU load of other processes on the machine.

To iterate on one phase: `--phases report` runs only that phase (the default runs all three), and
`--keep-db` keeps the seeded database after the run and, on the next run with `--keep-db`, reuses
it instead of seeding again (minutes) when it was seeded with the same `--tasks` and
`--export-rows`; it is migrated to head either way. Dates are those of the seed (kept in the
database's comment). Hold the bench lock for as long as a kept database is in use, and run once
without `--keep-db` (or drop it) when done. Published figures come from a full run on a fresh seed.
"""

import argparse
import contextlib
import http.client
import json
import os
import re
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import benchlib
import psycopg
from benchlib import Server

DB_NAME = "carerounds_bench_audit"
PAST_DAYS, FUTURE_DAYS = 150, 14
ELDERS, CAREGIVERS, PROVIDERS = 40_000, 2_000, 10
STREETS, PER_STREET = 10, 10
CARE_TZ = ZoneInfo("Asia/Shanghai")
SERVE_TIMEOUT = 60  # the worker timeout of `carerounds serve` (backend/cli.py)
TARGET_PAGE_P99_MS, TARGET_REPORT_S, TARGET_EXPORT_MB = 100, 3.0, 150
SEED_TABLES = ["tasks", "visits", "visit_items", "followups"]
SERVICE_TYPES = "ARRAY['meal','bathing','cleaning','medical','emergency','mobility','shopping','companionship'," \
                "'recreation','learning']"
# h = a hash of the task id in 0..999: what a visit's evidence says.
FLAGS_SQL = """CASE WHEN h < 30 THEN '["qr_missing"]' WHEN h < 50 THEN '["outside_geofence"]'
                    WHEN h < 100 THEN '["too_short"]' WHEN h < 110 THEN '["after_missed"]'
                    WHEN h < 120 THEN '["clock_skew", "too_short"]' ELSE '[]' END"""


# ------------------------------------------------------------------ seeding

def layout(tasks: int, export_rows: int, now: datetime) -> dict:
    future = round(tasks * FUTURE_DAYS / (PAST_DAYS + FUTURE_DAYS))
    past = tasks - future
    step = PAST_DAYS * 86400 / past
    per_day = 86400 / step
    export_days = max(1, -(-export_rows // int(per_day)))  # whole local days, ending yesterday
    today = now.astimezone(CARE_TZ).date()
    export_from = today - timedelta(days=export_days)
    items_from = datetime.combine(export_from - timedelta(days=1), datetime.min.time(), CARE_TZ).astimezone(UTC)
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)  # the last complete month
    return {"tasks": tasks, "past": past, "step": step, "per_day": per_day, "today": today,
            "export_from": export_from, "export_to": today - timedelta(days=1), "items_from": items_from,
            "month": first}


def seed(url: str, plan: dict, now: datetime) -> dict:
    """Triggers are off, so what they keep is made by hand: every month of the span first, the
    visits' and items' copy of their task's window, the key tables filled after the load, the
    sweep's floor set (benchlib.narrow_tables, vacuum_after_load)."""
    timings = {}
    benchlib.make_months(url, now - timedelta(days=PAST_DAYS + 1), now + timedelta(days=FUTURE_DAYS + 1))
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET session_replication_role = replica")  # no FK triggers while loading our own rows
        cur.execute("SET maintenance_work_mem = '512MB'")
        t = time.monotonic()
        city = benchlib.seed_city(cur, now, streets=STREETS, per_street=PER_STREET, providers=PROVIDERS,
                                  managed=PROVIDERS, caregivers=CAREGIVERS, elders=ELDERS)
        timings["people"] = time.monotonic() - t
        narrow = benchlib.narrow_tables(cur, {"visit_items": "v.window_start_at"})
        indexes = benchlib.drop_plain_indexes(cur, SEED_TABLES)
        t = time.monotonic()
        benchlib.check_required(cur, "tasks", benchlib.SEEDED_TASK_COLUMNS | {"care_plan_id", "late_at"})
        e = "s.e"
        cur.execute(f"""
            INSERT INTO tasks (kind, service_type, elder_id, assignee_id, care_plan_id, community_id, provider_id,
                               source_key, window_start_at, window_end_at, min_duration_minutes, status,
                               status_changed_at, late_after_at, missed_after_at, version, change_seq,
                               created_at, updated_at)
            SELECT s.kind, CASE WHEN s.kind = 'service' THEN ({SERVICE_TYPES})[s.g %% 10 + 1] END,
                   %(elder0)s + {e}, {benchlib.caregiver_of(city, e)},
                   CASE WHEN s.kind = 'service' THEN %(plan0)s + {e} END, %(community0)s + {e} %% %(communities)s,
                   CASE WHEN s.kind = 'service' THEN %(provider0)s + {e} %% %(providers)s END,
                   'bench:' || s.g, s.ws, s.ws + interval '1 hour',
                   CASE WHEN s.kind = 'service' THEN 20 + 10 * (s.g %% 3) ELSE 0 END, s.status,
                   s.ws + interval '1 hour', CASE WHEN s.kind = 'service' THEN s.ws + interval '30 minutes' END,
                   s.ws + interval '3 hours', 1, s.g, s.ws - interval '14 days', s.ws - interval '14 days'
            FROM (
                SELECT g, (g::bigint * 7919) %% %(elders)s AS e,
                       CASE WHEN (g::bigint * 40503) %% 97 < 15 THEN 'patrol' ELSE 'service' END AS kind,
                       %(now)s - (%(past)s - g) * %(step)s * interval '1 second' AS ws,
                       CASE WHEN g > %(past)s THEN 'scheduled'
                            WHEN (%(past)s - g) * %(step)s < 3 * 3600 THEN
                                 CASE WHEN g %% 3 = 0 THEN 'scheduled' ELSE 'completed' END
                            WHEN abs(hashint4(g)) %% 100 < 86 THEN 'completed'
                            WHEN abs(hashint4(g)) %% 100 < 95 THEN 'missed'
                            ELSE 'cancelled' END AS status
                FROM generate_series(1, %(tasks)s) g
            ) s ORDER BY s.g
        """, {**plan, **city, "now": now})
        timings["tasks"] = time.monotonic() - t
        t = time.monotonic()
        # One visit per completed task; items (and item ids on the visit) only from items_from on.
        visit_extra = narrow["visits_partition"]
        cur.execute(f"""
            INSERT INTO visits (task_id, user_id, check_in_item_id, check_out_item_id, report_item_id, started_at,
                                ended_at, duration_seconds, is_verified, max_distance_m, satisfaction, patrol_outcome,
                                patrol_mode, is_late_sync, flags, needs_review, created_at, updated_at{visit_extra[0]})
            SELECT id, assignee_id,
                   CASE WHEN recent AND kind = 'service' THEN md5('in:' || id)::uuid::text END,
                   CASE WHEN recent AND kind = 'service' THEN md5('out:' || id)::uuid::text END,
                   CASE WHEN recent AND kind = 'patrol' THEN md5('report:' || id)::uuid::text END,
                   started, started + duration * interval '1 second', duration, h >= 50 AND h %% 37 <> 0,
                   3 + h %% 150, CASE WHEN kind = 'service' AND h %% 10 < 6 THEN
                       (ARRAY[1, 2, 3, 4, 4, 5, 5, 5, 5, 5])[h %% 10 + 1] END,
                   CASE WHEN kind = 'patrol' THEN CASE WHEN h %% 10 = 9 THEN 'no_answer' ELSE 'seen_well' END END,
                   CASE WHEN kind = 'patrol' THEN CASE WHEN h %% 4 = 0 THEN 'phone' ELSE 'door' END END,
                   h >= 100 AND h < 110, ({FLAGS_SQL})::json, h < 100 OR h >= 110 AND h < 120, started, started
                   {visit_extra[1]}
            FROM (
                SELECT id, kind, assignee_id, window_start_at, window_start_at >= %(items_from)s AS recent,
                       abs(hashint4(id # 1431655765)) %% 1000 AS h,
                       window_start_at + ((id %% 80) - 10) * interval '1 minute' AS started,
                       CASE WHEN abs(hashint4(id # 1431655765)) %% 1000 BETWEEN 50 AND 119 THEN 300 + id %% 600
                            ELSE 600 + (id * 7) %% 3000 END AS duration
                FROM tasks WHERE status = 'completed'
            ) v ORDER BY id
        """, plan)
        timings["visits"] = time.monotonic() - t
        t = time.monotonic()
        item_extra = narrow["visit_items_partition"]
        cur.execute(f"""
            INSERT INTO visit_items (id, user_id, device_id, seq, type, task_id, captured_at, captured_at_corrected,
                                     received_at, clock_offset_seconds, qr_flag, plate_id, lat, lon, accuracy_m,
                                     distance_m, flags, fingerprint, payload{item_extra[0]})
            SELECT i.id, v.user_id, 'bench-phone-' || v.user_id, v.task_id * 2 + i.n, i.type, v.task_id, i.at, i.at,
                   i.at + interval '2 minutes', 0.4, CASE WHEN v.is_verified THEN 'qr_verified' ELSE 'qr_missing' END,
                   NULL, 41.7, 123.3, 8.0, v.max_distance_m, '["qr_verified"]', md5(i.id),
                   json_build_object('id', i.id, 'type', i.type, 'task_id', v.task_id, 'captured_at', i.at,
                                     'location', json_build_object('lat', 41.7, 'lon', 123.3, 'accuracy_m', 8.0),
                                     'qr', 'CRP1.bench.' || md5(i.id)){item_extra[1]}
            FROM visits v
            CROSS JOIN LATERAL (VALUES (v.check_in_item_id, 'check_in', 0, v.started_at),
                                       (v.check_out_item_id, 'check_out', 1, v.ended_at),
                                       (v.report_item_id, 'patrol_report', 1, v.ended_at)) AS i(id, type, n, at)
            WHERE i.id IS NOT NULL ORDER BY v.task_id, i.n
        """)
        timings["items"] = time.monotonic() - t
        t = time.monotonic()
        cur.execute("""
            INSERT INTO followups (kind, priority, status, dedupe_key, elder_id, task_id, subject_user_id,
                                   provider_id, region_id, owner_id, opened_at, due_at, escalation_level, summary,
                                   details, resolved_at, resolution_code, change_seq, version, created_at,
                                   updated_at)
            SELECT 'missed_visit', 'normal', CASE WHEN t.id %% 20 = 0 THEN 'open' ELSE 'resolved' END,
                   'missed_visit:task:' || t.id, t.elder_id, t.id, t.assignee_id, t.provider_id, t.community_id,
                   %s, t.missed_after_at, t.missed_after_at + interval '1 day', 0, '上门服务未完成（漏访）', '{}',
                   CASE WHEN t.id %% 20 = 0 THEN NULL ELSE t.missed_after_at + interval '20 hours' END,
                   CASE WHEN t.id %% 20 = 0 THEN NULL ELSE 'rescheduled' END, t.id, 1, t.missed_after_at,
                   t.missed_after_at
            FROM tasks t WHERE t.status = 'missed' ORDER BY t.id
        """, (city["district_supervisor"],))
        cur.execute("INSERT INTO sync_clock (id, value) VALUES (1, %s)", (plan["tasks"] + 10,))
        timings["followups"] = time.monotonic() - t
        t = time.monotonic()
        for statement in narrow["fill"]:
            cur.execute(statement)
        benchlib.create_indexes(cur, indexes)
        timings["indexes"] = time.monotonic() - t
        conn.commit()
    t = time.monotonic()
    benchlib.vacuum_after_load(url)
    benchlib.check_default_partitions(url)
    with psycopg.connect(url, autocommit=True) as conn:
        counts = dict(conn.execute("""
            SELECT 'tasks', count(*) FROM tasks UNION ALL SELECT 'visits', count(*) FROM visits UNION ALL
            SELECT 'visit_items', count(*) FROM visit_items UNION ALL SELECT 'followups', count(*) FROM followups
        """).fetchall())
    timings["vacuum"] = time.monotonic() - t
    return {"city": city, "counts": counts, "timings": timings}


# ------------------------------------------------------------------ the app's own SQL, replayed

@dataclass
class Captured:
    """One statement the app sent: on which of its connections, and when it began and ended."""

    sql: str
    params: object
    conn: int
    start: float
    end: float = float("inf")


class Capture:
    """Records every statement the app's engine sends while active, from any thread."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.on, self.statements = False, []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if self.on and statement.strip() != "SELECT 1":
            context.bench_captured = Captured(statement, parameters, id(cursor.connection), time.perf_counter())
            self.statements.append(context.bench_captured)

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if captured := getattr(context, "bench_captured", None):
            captured.end = time.perf_counter()

    def __call__(self, fn) -> list[Captured]:
        self.on, self.statements = True, []
        try:
            fn()
        finally:
            self.on = False
        return self.statements


def replay(conn, statements: list[Captured]) -> list[float]:
    """Each statement's time (ms), results fetched, one after another in one transaction rolled
    back at the end."""
    times = []
    with conn.cursor() as cur:
        for s in statements:
            t = time.perf_counter()
            cur.execute(s.sql, s.params or None)
            if cur.description:
                cur.fetchall()
            times.append((time.perf_counter() - t) * 1000)
    conn.rollback()
    return times


SNAPSHOT_IMPORT = re.compile(r"SET TRANSACTION SNAPSHOT '[^']*'")


def replay_as_run(url: str, statements: list[Captured]) -> tuple[float, list[float]]:
    """The statements as the app ran them: on as many connections as it used, each connection's
    in their order, connections side by side, and every statement only once those that had ended
    before it began (on any connection) have ended here too. An exported snapshot is exported
    again and imported under its new id, by REPEATABLE READ read-only transactions as in the
    app. Returns the whole run's seconds and each statement's ms."""
    order = list(dict.fromkeys(s.conn for s in statements))
    done = [threading.Event() for _ in statements]
    times = [0.0] * len(statements)
    snapshot: list[str] = []
    failed: list[int] = []
    uses_snapshot = {s.conn for s in statements if "pg_export_snapshot" in s.sql or SNAPSHOT_IMPORT.search(s.sql)}

    def run(key):
        try:
            replay_connection(key)
        except BaseException:
            failed.append(key)
            for event in done:
                event.set()
            raise

    def replay_connection(key):
        with psycopg.connect(url) as conn:
            if key in uses_snapshot:
                conn.isolation_level, conn.read_only = psycopg.IsolationLevel.REPEATABLE_READ, True
            with conn.cursor() as cur:
                for i, s in enumerate(statements):
                    if s.conn != key:
                        continue
                    if failed:
                        raise RuntimeError("another connection of the replay failed")
                    for j, before in enumerate(statements):
                        if before.end <= s.start:
                            done[j].wait()
                    sql = SNAPSHOT_IMPORT.sub(f"SET TRANSACTION SNAPSHOT '{snapshot[0]}'", s.sql) \
                        if SNAPSHOT_IMPORT.search(s.sql) else s.sql
                    t = time.perf_counter()
                    cur.execute(sql, s.params or None)
                    rows = cur.fetchall() if cur.description else None
                    times[i] = (time.perf_counter() - t) * 1000
                    if "pg_export_snapshot" in s.sql:
                        snapshot.append(rows[0][0])
                    done[i].set()
            conn.rollback()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(order)) as pool:
        for future in [pool.submit(run, key) for key in order]:
            future.result()
    return time.perf_counter() - t0, times


# ------------------------------------------------------------------ HTTP

def timed_get(port: int, path: str, headers: dict) -> tuple[float, int, bytes]:
    return benchlib.timed_get(port, path, headers, timeout=900)  # an export takes minutes


def server_meter(server: Server, url: str) -> benchlib.CpuMeter:
    return benchlib.CpuMeter(lambda: server.worker_pids() + benchlib.backend_pids(url, DB_NAME))


# ------------------------------------------------------------------ main

PHASES = ("pages", "report", "export")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=5_000_000)
    parser.add_argument("--pages", type=int, default=200, help="first-page requests per filter")
    parser.add_argument("--reports", type=int, default=3, help="monthly report requests")
    parser.add_argument("--export-rows", type=int, default=500_000)
    parser.add_argument("--max-seconds", type=float, default=60, help="time bound of each page loop")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help="comma-separated phases to run, of pages, report, export (default: all)")
    parser.add_argument("--keep-db", action="store_true",
                        help=f"keep {DB_NAME} after the run, and reuse it if a kept one was seeded with the "
                             "same --tasks and --export-rows (iteration only; hold the bench lock meanwhile)")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if not args.phases or set(args.phases) - set(PHASES):
        parser.error(f"--phases takes a comma-separated subset of {', '.join(PHASES)}")
    started = time.monotonic()
    benchlib.print_machine(benchlib.machine())
    seed_key = {"tasks": args.tasks, "export_rows": args.export_rows}
    kept = kept_seed(seed_key) if args.keep_db else None
    url = benchlib.db_url(DB_NAME) if kept else benchlib.create_database(DB_NAME)
    servers = []
    try:
        with benchlib.workdir(args.keep_logs) as work:
            instance = os.path.join(work, "instance")
            t = time.monotonic()
            benchlib.migrate(url, instance)
            migrated = time.monotonic() - t
            if kept:
                now = datetime.fromisoformat(kept["now"])
                plan = layout(args.tasks, args.export_rows, now)
                city, counts = kept["city"], kept["counts"]
                print(f"reusing the kept {DB_NAME}, seeded at {kept['now']} (migrations {migrated:.1f}s)")
            else:
                now = datetime.now(UTC).replace(microsecond=0)
                plan = layout(args.tasks, args.export_rows, now)
                world = seed(url, plan, now)
                city, counts = world["city"], world["counts"]
                steps = ", ".join(f"{k} {v:.1f}s" for k, v in world["timings"].items())
                print(f"seeded {counts['tasks']:,} tasks, {counts['visits']:,} visits, {counts['visit_items']:,} "
                      f"visit items, {counts['followups']:,} follow-ups (migrations {migrated:.1f}s, {steps})")
                if args.keep_db:
                    remember_seed(url, {**seed_key, "now": now.isoformat(), "city": city, "counts": counts})
            results = run_phases(args, url, instance, work, plan, city, servers)
            report(args, plan, counts, results, time.monotonic() - started)
    finally:
        for server in servers:
            server.stop()
        if args.keep_db:
            print(f"(kept the database {DB_NAME}; drop it, or run once without --keep-db, when done)")
        else:
            benchlib.drop_database(DB_NAME)
    return 0


def kept_seed(key: dict) -> dict | None:
    """What a kept database was seeded with (its comment, written by remember_seed), if it exists
    and was seeded with `key`; None otherwise."""
    with psycopg.connect(benchlib.ADMIN_URL) as conn:
        row = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                           (DB_NAME,)).fetchone()
    if not row or not row[0]:
        return None
    with contextlib.suppress(ValueError):
        seeded = json.loads(row[0])
        if {name: seeded.get(name) for name in key} == key:
            return seeded
    return None


def remember_seed(url: str, seeded: dict) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            psycopg.sql.Identifier(DB_NAME), psycopg.sql.Literal(json.dumps(seeded))))


def run_phases(args, url, instance, work, plan, city, servers) -> dict:
    env = benchlib.server_env(url, instance)
    os.environ.update({k: v for k, v in env.items() if k in ("DATABASE_URL", "CARE_INSTANCE_PATH")
                       or k in benchlib.SECRETS})
    from backend import create_app
    from backend.extensions import db

    app = create_app()
    with app.app_context():
        capture = Capture(db.engine)
    results: dict = {}
    if "pages" in args.phases or "report" in args.phases:
        server = Server("backend:create_app()", env, work, "audit", workers=1, timeout=SERVE_TIMEOUT)
        servers.append(server)
        server.wait_ready("/api/v1/openapi.json")
        token = benchlib.login(server.port, "bench_sup_district", "bench-audit-console")
        if "pages" in args.phases:
            results.update(page_phases(args, url, plan, city, server, token, app, capture))
        if "report" in args.phases:
            results["report"] = report_phase(args, url, plan, city, server, token, app, capture)
        server.stop()
    if "export" in args.phases:
        results["export"] = export_phase(url, plan, city, env, work, servers)
    return results


def page_phases(args, url, plan, city, server, token, app, capture) -> dict:
    """1. The visit log's first page, per filter."""
    from sqlalchemy import select

    from backend.extensions import db
    from backend.users.models import User
    from backend.visitlog import queries

    results = {}
    street = city["street0"] + 2
    week_from = plan["today"] - timedelta(days=6)
    page_filters = {
        "status=completed": {"status": "completed"},
        "flag=too_short": {"flag": "too_short"},
    }
    for name, extra in page_filters.items():
        query = {"region_id": street, "date_from": week_from.isoformat(), "date_to": plan["today"].isoformat(),
                 "limit": 50, **extra}
        path = "/api/v1/audit/visits?" + urlencode(query)
        phase = f"page:{name}"
        headers = {"Authorization": "Bearer " + token, "X-Bench-Phase": "warm"}
        for _ in range(10):
            _, status, body = timed_get(server.port, path, headers)
            if status != 200:
                raise RuntimeError(f"visit log answered {status}: {body[:500]!r}")
        items = json.loads(body)["items"]
        headers["X-Bench-Phase"] = phase
        meter = server_meter(server, url)
        meter.start()
        client_ms = []
        deadline = time.monotonic() + args.max_seconds
        for _ in range(args.pages):
            if time.monotonic() >= deadline:
                break
            ms, status, _ = timed_get(server.port, path, headers)
            if status != 200:
                raise RuntimeError(f"visit log answered {status}")
            client_ms.append(ms)
        meter.stop()
        # The same page built in-process, its SQL captured, then replayed straight to PostgreSQL.
        with app.app_context():
            user = db.session.execute(select(User).where(User.username == "bench_sup_district")).scalar_one()
            filters = queries.Filters(region_id=street, date_from=week_from, date_to=plan["today"],
                                      status=(extra["status"],) if "status" in extra else (),
                                      flag=extra.get("flag"))
            statements = capture(lambda user=user, filters=filters: queries.visit_page(
                user, filters, now=datetime.now(UTC), after=None, limit=50))
            db.session.rollback()
        main_index = max(range(len(statements)), key=lambda i: len(statements[i].sql))
        with psycopg.connect(url) as conn:
            for _ in range(5):
                replay(conn, statements)
            bare_total, bare_main = [], []
            deadline = time.monotonic() + args.max_seconds
            for _ in range(args.pages):
                if time.monotonic() >= deadline:
                    break
                times = replay(conn, statements)
                bare_total.append(sum(times))
                bare_main.append(times[main_index])
            explain = explain_analyze(conn, statements[main_index].sql, statements[main_index].params)
        results[phase] = {"server": server.timings(phase), "client": client_ms, "rows": len(items),
                          "bare": bare_total, "bare_main": bare_main, "statements": len(statements),
                          "load": benchlib.other_load(meter), "cpu_ms": 1000 * meter.ours / max(1, len(client_ms)),
                          "explain": explain}
    return results


def report_phase(args, url, plan, city, server, token, app, capture) -> dict:
    """2. The monthly report of the district."""
    from backend.extensions import db
    from backend.regions.models import Region
    from backend.reports import services as report_services

    month = plan["month"].strftime("%Y-%m")
    path = "/api/v1/reports/monthly?" + urlencode({"region": city["district"], "month": month})
    headers = {"Authorization": "Bearer " + token, "X-Bench-Phase": "report"}
    meter = server_meter(server, url)
    meter.start()
    report_ms = []
    for _ in range(args.reports):
        ms, status, body = timed_get(server.port, path, headers)
        if status != 200:
            raise RuntimeError(f"monthly report answered {status}: {body[:500]!r}")
        report_ms.append(ms)
    meter.stop()
    total = json.loads(body)["total"]
    with app.app_context():
        region = db.session.get(Region, city["district"])
        statements = capture(lambda: report_services.monthly_report(region, plan["month"], now=datetime.now(UTC)))
        db.session.rollback()
    # The app reads on several connections side by side: the bare reference does the same.
    runs = [replay_as_run(url, statements) for _ in range(max(1, args.reports - 1))]
    mains = [i for i, s in enumerate(statements) if "GROUP BY" in s.sql and "visits" in s.sql]
    connections = list(dict.fromkeys(s.conn for s in statements))
    return {"server": server.timings("report"), "client": report_ms, "total": total,
            "bare": [seconds * 1000 for seconds, _ in runs], "bare_serial": [sum(times) for _, times in runs],
            "bare_main": [max(times[i] for i in mains) for _, times in runs], "main_parts": len(mains),
            "connections": len(connections),
            "per_statement": [statistics.median(col) for col in zip(*(times for _, times in runs), strict=True)],
            "labels": [f"[c{connections.index(s.conn)}] {label(s.sql)}" for s in statements],
            "load": benchlib.other_load(meter), "month": month}


def export_phase(url, plan, city, env, work, servers) -> dict:
    """3. CSV export, on a fresh single worker of the kind `carerounds serve` runs (gthread, its
    timeout), so the duration measured is what a user of the real server waits."""
    from backend.cli import gunicorn_settings

    settings = gunicorn_settings("127.0.0.1", 0, 1)
    exporter = Server("backend:create_app()", env, work, "export", workers=1, timeout=settings["timeout"],
                      worker_class=settings["worker_class"], threads=settings["threads"])
    servers.append(exporter)
    exporter.wait_ready("/api/v1/openapi.json")
    token = benchlib.login(exporter.port, "bench_sup_district", "bench-audit-export")
    query = {"region_id": city["district"], "date_from": plan["export_from"].isoformat(),
             "date_to": plan["export_to"].isoformat()}
    headers = {"Authorization": "Bearer " + token, "X-Bench-Phase": "export"}
    timed_get(exporter.port, "/api/v1/audit/visits.csv?" + urlencode(
        {**query, "date_from": plan["export_to"].isoformat()}), dict(headers, **{"X-Bench-Phase": "warm"}))
    worker = exporter.worker_pids()[0]
    baseline_kb = benchlib.proc_kb(worker, "VmRSS")
    hwm_before = benchlib.proc_kb(worker, "VmHWM")
    sampler = benchlib.RssSampler(worker).start()
    meter = server_meter(exporter, url)
    meter.start()
    conn = http.client.HTTPConnection("127.0.0.1", exporter.port, timeout=900)
    t0 = time.perf_counter()
    conn.request("GET", "/api/v1/audit/visits.csv?" + urlencode(query), headers=headers)
    response = conn.getresponse()
    size = lines = 0
    first_byte = None
    while chunk := response.read(65536):
        if first_byte is None:
            first_byte = time.perf_counter() - t0
        size += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - t0
    conn.close()
    meter.stop()
    peak_kb = sampler.stop()
    hwm_after = benchlib.proc_kb(worker, "VmHWM")
    with psycopg.connect(url) as pg:
        logged = pg.execute("SELECT row_count, finished_at IS NOT NULL FROM export_logs ORDER BY id DESC LIMIT 1"
                            ).fetchone()
        # A row is on the day its visit's evidence is (check-in, else report or check-out), else on
        # the day its window overlaps (backend/visitlog/queries.py::_on_days): a visit started a
        # little before or after its window's day is exported on the day it happened.
        expected = pg.execute("""
            SELECT count(*) FROM tasks t LEFT JOIN visits v ON v.task_id = t.id
            WHERE t.window_start_at <= now() AND tstzrange(%(begins)s, %(ends)s, '[)') @> coalesce(
                v.started_at, v.ended_at,
                greatest(t.window_start_at, least(%(begins)s, t.window_end_at - interval '1 microsecond')))
        """, {"begins": datetime.combine(plan["export_from"], datetime.min.time(), CARE_TZ),
              "ends": datetime.combine(plan["export_to"] + timedelta(days=1), datetime.min.time(), CARE_TZ)}
        ).fetchone()[0]
    exporter.stop()
    return {"status": response.status, "seconds": seconds, "first_byte": first_byte, "bytes": size,
            "rows": lines - 1, "expected": expected, "logged": logged, "baseline_kb": baseline_kb,
            "peak_kb": peak_kb, "hwm_before": hwm_before, "hwm_after": hwm_after,
            "samples": sampler.samples, "load": benchlib.other_load(meter),
            "cpu": meter.ours, "days": (plan["export_to"] - plan["export_from"]).days + 1,
            "worker": f"1 {settings['worker_class']} worker, {settings['threads']} threads, "
                      f"timeout {settings['timeout']} s"}


def explain_analyze(conn, statement, parameters) -> str:
    with conn.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters or None)
        plan = "\n".join(row[0] for row in cur.fetchall())
    conn.rollback()
    return plan


LABELS = (("pg_export_snapshot", "snapshot export"), ("SET TRANSACTION SNAPSHOT", "snapshot import"),
          ("min(tasks.id)", "scope (the month's task ids)"), ("in_scope_elders", "coverage_groups"),
          ("followups_opened", "followup_groups"), ("completed_on_time", "visit_groups (main)"),
          ("AS day", "daily_groups"), ("FROM service_types", "service type names"),
          ("FROM users", "caregiver names"), ("FROM providers", "provider names"), ("FROM regions", "child regions"))


def label(sql: str) -> str:
    text = " ".join(sql.split())
    for needle, name in LABELS:
        if needle in text:
            return name
    return text[:30] if text.startswith("SET") else text[:40]


def report(args, plan, counts, results, elapsed) -> None:
    rows = []
    print()
    for name in ("page:status=completed", "page:flag=too_short"):
        if name in results:
            rows += report_page(name, results[name])
    if "report" in results:
        rows += report_report(results["report"])
    if "export" in results:
        rows += report_export(results["export"])
    print()
    benchlib.print_table(rows, ("figure", "value", "reference (same run)", "ratio", "target", "result"))
    print(f"{counts['tasks']:,} tasks, {counts['visits']:,} visits; phases {','.join(args.phases)}; "
          f"whole run {elapsed:.0f}s")
    if os.environ.get("BENCH_SHOW_PLANS"):
        for name in ("page:status=completed", "page:flag=too_short"):
            if name in results:
                print(f"\n-- {name}: main query plan\n{results[name]['explain']}")


def report_page(name: str, r: dict) -> list[tuple]:
    p = benchlib.percentile
    server_ms = r["server"]
    print(f"{name}: {len(server_ms)} requests, {r['rows']} rows a page, {r['statements']} statements a page; "
          f"CPU {r['cpu_ms']:.1f} ms per request (worker + postgres); other load {r['load']:.2f} CPUs")
    print(f"  bare SQL (all the page's statements) p50 {p(r['bare'], 50):.2f} ms p99 {p(r['bare'], 99):.2f} ms; "
          f"main query alone p50 {p(r['bare_main'], 50):.2f} ms p99 {p(r['bare_main'], 99):.2f} ms")
    ok = p(server_ms, 99) < TARGET_PAGE_P99_MS
    return [(f"visit log first page, {name[5:]}, p50", f"{p(server_ms, 50):.1f} ms",
             f"bare SQL {p(r['bare'], 50):.2f} ms", f"{p(server_ms, 50) / p(r['bare'], 50):.1f}x", "", ""),
            (f"visit log first page, {name[5:]}, p99", f"{p(server_ms, 99):.1f} ms",
             f"bare SQL {p(r['bare'], 99):.2f} ms", f"{p(server_ms, 99) / p(r['bare'], 99):.1f}x",
             f"< {TARGET_PAGE_P99_MS} ms", "PASS" if ok else "FAIL")]


def report_report(r: dict) -> list[tuple]:
    worst = max(r["server"]) / 1000
    median = statistics.median(r["server"]) / 1000
    bare = statistics.median(r["bare"]) / 1000
    bare_main = statistics.median(r["bare_main"]) / 1000
    print(f"monthly report {r['month']} of the district: {len(r['server'])} requests, "
          f"{r['total']['planned']:,} planned / {r['total']['completed']:,} completed tasks; other load "
          f"{r['load']:.2f} CPUs (this counts the report's own parallel query workers, which come and go "
          f"within a request)")
    print(f"  bare SQL replayed as the app ran it ({r['connections']} connections side by side) "
          f"{bare:.2f} s; the same statements one after another {statistics.median(r['bare_serial']) / 1000:.2f} s; "
          f"per statement (median ms, [c] = connection):")
    for name, ms in zip(r["labels"], r["per_statement"], strict=True):
        print(f"    {name:<36} {ms:9.1f}")
    main = f"main scan ({r['main_parts']} parts side by side)" if r["main_parts"] > 1 else "main query"
    return [("monthly report, district, median", f"{median:.2f} s", f"bare SQL {bare:.2f} s",
             f"{median / bare:.2f}x", "", ""),
            ("monthly report, district, worst", f"{worst:.2f} s", f"{main} {bare_main:.2f} s",
             f"{worst / bare_main:.2f}x", f"< {TARGET_REPORT_S:.0f} s",
             "PASS" if worst < TARGET_REPORT_S else "FAIL")]


def report_export(x: dict) -> list[tuple]:
    mb = x["peak_kb"] / 1024
    complete = x["status"] == 200 and x["rows"] == x["expected"] and x["logged"] and x["logged"][1]
    print(f"CSV export on {x['worker']}: {x['days']} local days of the district, {x['rows']:,} rows (expected "
          f"{x['expected']:,}), {x['bytes'] / 1e6:.0f} MB in {x['seconds']:.1f} s "
          f"({x['rows'] / x['seconds']:,.0f} rows/s, first byte after {x['first_byte'] or 0:.2f} s); export log "
          f"{x['logged']}; worker RSS before {x['baseline_kb'] / 1024:.0f} MB, peak sampled {mb:.0f} MB "
          f"({x['samples']} samples), VmHWM {x['hwm_before'] / 1024:.0f} -> {x['hwm_after'] / 1024:.0f} MB; "
          f"CPU {x['cpu']:.1f} s; other load {x['load']:.2f} CPUs")
    # The server is configured as `carerounds serve` is, so "CUT" means a real user's file would
    # have been cut short, not a comparison with the timeout.
    return [("CSV export, peak worker RSS", f"{mb:.0f} MB", f"idle worker {x['baseline_kb'] / 1024:.0f} MB",
             f"+{mb - x['baseline_kb'] / 1024:.0f} MB", f"< {TARGET_EXPORT_MB} MB",
             "PASS" if mb < TARGET_EXPORT_MB and complete else "FAIL"),
            ("CSV export, duration", f"{x['seconds']:.1f} s", f"{x['rows']:,} rows", "",
             "(not a target)", "complete" if complete else "CUT")]


if __name__ == "__main__":
    sys.exit(main())
