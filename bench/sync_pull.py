"""Pull latency: a caregiver holding 100 tasks, with 1,000,000 tasks in the database.

    python bench/sync_pull.py [--tasks 1000000] [--first 300] [--incremental 1000] [--db direct|unprepared|pgbouncer]

Seeds a private database (carerounds_bench_pull, dropped at the end) by SQL: 1,000 caregivers,
10,000 elders with door plates, and `--tasks` tasks spread over ten months of history and the
coming two weeks. The target caregiver has exactly 100 tasks in the phone's window (yesterday
through today + 13) and 900 more in the past. Then it runs the real server (gunicorn, 4 sync
workers) on loopback and times, one request at a time:

- first pull: GET /api/v1/sync/pull without a cursor (a snapshot of the 100 tasks, their elders);
- empty incremental pull: the same with the cursor of a completed pull, nothing having changed.

Server time comes from gunicorn's pre_request/post_request hooks (bench/gunicorn_conf.py): from
the parsed request to the response written. Client time is the loopback round trip.
Every loop is bounded by its count and by --max-seconds. --db: as in bench/sync_push.py, the server
reaches PostgreSQL directly, with prepared statements off, or unprepared through PgBouncer.
"""

import argparse
import contextlib
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import benchlib
import psycopg
from benchlib import Server

from sync.plates import new_plate_id

DB_NAME = "carerounds_bench_pull"
CAREGIVERS = 1_000
ELDERS = 10_000
TARGET_IN_WINDOW = 100
TARGET_HISTORY = 900
TARGET_FIRST_P99_MS = 30
TARGET_INCR_P99_MS = 5
CARE_TZ = ZoneInfo("Asia/Shanghai")


def seed(url: str, tasks: int, now: datetime) -> dict:
    """Everything by set-based SQL; the tasks table's plain indexes are dropped for the load and
    rebuilt after it (constraints stay), which is several times faster than maintaining them.
    Triggers are off, so what they keep is made by hand: every month of the span first, the key
    tables filled after the load, the sweep's floor set (benchlib.narrow_tables, vacuum_after_load)."""
    today = now.astimezone(CARE_TZ).date()
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=CARE_TZ).astimezone(UTC)
    pw = benchlib.password_hash()
    timings = {}
    # The target's history reaches 399 days back, the window 13 days ahead.
    benchlib.make_months(url, midnight - timedelta(days=400), midnight + timedelta(days=14))
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET session_replication_role = replica")  # no FK triggers while loading our own rows
        cur.execute("SET maintenance_work_mem = '256MB'")
        t = time.monotonic()
        parent, path = None, "/"
        for name, level in (("压测区", "district"), ("压测街道", "street"), ("压测社区", "community")):
            cur.execute("INSERT INTO regions (name, level, parent_id, path, created_at, updated_at) "
                        "VALUES (%s, %s, %s, '', %s, %s) RETURNING id", (name, level, parent, now, now))
            parent = cur.fetchone()[0]
            path += f"{parent}/"
            cur.execute("UPDATE regions SET path = %s WHERE id = %s", (path, parent))
        community = parent
        cur.execute("INSERT INTO providers (name, is_active, created_at, updated_at) VALUES "
                    "('压测居家养老服务中心', true, %s, %s) RETURNING id", (now, now))
        provider = cur.fetchone()[0]
        cur.execute("""
            INSERT INTO users (username, password_hash, role, display_name, is_active, provider_id, version,
                               created_at, updated_at)
            SELECT 'bench_cg_' || lpad(g::text, 4, '0'), %s, 'caregiver', '护理员' || g, true, %s, 1, %s, %s
            FROM generate_series(0, %s - 1) g ORDER BY g RETURNING id
        """, (pw, provider, now, now, CAREGIVERS))
        user_ids = sorted(row[0] for row in cur.fetchall())
        first_user = user_ids[0]
        assert user_ids == list(range(first_user, first_user + CAREGIVERS))
        cur.execute("""
            INSERT INTO elders (name, gender, birth_on, address, phone, lat, lon, community_id, risk_tier, care_notes,
                                emergency_contacts, is_active, status, version, change_seq, created_at, updated_at)
            SELECT '老人' || g, CASE WHEN g %% 2 = 0 THEN 'female' ELSE 'male' END,
                   date '1935-01-01' + (g %% 7000), '压测路' || g || '号', '1390000' || lpad(g::text, 4, '0'),
                   41.7 + (g %% 100) * 0.002, 123.3 + (g / 100) * 0.002, %s, 'general', '敲门后多等一会',
                   '[{"name": "家属", "relation": "son", "phone": "13800000000"}]', true, 'active', 1, %s + g, %s, %s
            FROM generate_series(1, %s) g ORDER BY g RETURNING id
        """, (community, tasks, now, now, ELDERS))
        elder_ids = sorted(row[0] for row in cur.fetchall())
        first_elder = elder_ids[0]
        cur.execute("INSERT INTO elder_categories (elder_id, category) SELECT id, 'solitary' FROM elders")
        with cur.copy("COPY door_plates (elder_id, plate_id, key_version, kind, serial, status, issued_at) "
                      "FROM STDIN") as copy:
            for n, elder_id in enumerate(elder_ids):
                copy.write_row((elder_id, new_plate_id(), 1, "static", f"BENCH-{n + 1:06d}", "active", now))
        timings["people"] = time.monotonic() - t

        t = time.monotonic()
        narrow = benchlib.narrow_tables(cur)
        indexes = benchlib.drop_plain_indexes(cur, ["tasks"])
        # g 1..100: the target's tasks in the phone window (days -1..12, up to 8 a day);
        # g 101..1000: the target's history; the rest: 999 other caregivers over ten months.
        benchlib.check_required(cur, "tasks", benchlib.SEEDED_TASK_COLUMNS)
        extra_cols, extra_values = benchlib.optional_columns(cur, "tasks", {
            "community_id": str(int(community)), "provider_id": str(int(provider))})
        cur.execute(f"""
            INSERT INTO tasks (kind, service_type, elder_id, assignee_id, source_key, window_start_at, window_end_at,
                               min_duration_minutes, status, status_changed_at, late_after_at, missed_after_at,
                               version, change_seq, created_at, updated_at{extra_cols})
            SELECT 'service', 'meal', elder, assignee, 'bench:' || g, ws, ws + interval '1 hour', 20,
                   CASE WHEN ws < %(now)s - interval '1 day' THEN 'completed' ELSE 'scheduled' END,
                   ws - interval '30 days', ws + interval '30 minutes', ws + interval '3 hours', 1, g,
                   ws - interval '30 days', ws - interval '30 days'{extra_values}
            FROM (
                SELECT g,
                       CASE WHEN g <= %(target_all)s THEN %(target)s ELSE %(target)s + 1 + g %% (%(users)s - 1) END
                           AS assignee,
                       CASE WHEN g <= %(target_all)s THEN %(elder0)s + g %% 20
                            ELSE %(elder0)s + (g * 7) %% %(elders)s END AS elder,
                       CASE WHEN g <= %(in_window)s
                            THEN %(midnight)s + ((g - 1) %% 14 - 1) * interval '1 day'
                                 + (8 + (g - 1) / 14) * interval '1 hour'
                            WHEN g <= %(target_all)s
                            THEN %(midnight)s - (2 + g %% 398) * interval '1 day' + interval '9 hours'
                            ELSE %(midnight)s + (g %% 314 - 300) * interval '1 day' + (8 + g %% 10) * interval '1 hour'
                       END AS ws
                FROM generate_series(1, %(tasks)s) g
            ) s
        """, {"now": now, "target_all": TARGET_IN_WINDOW + TARGET_HISTORY, "target": first_user,
              "users": CAREGIVERS, "elder0": first_elder, "elders": ELDERS, "in_window": TARGET_IN_WINDOW,
              "midnight": midnight, "tasks": tasks})
        timings["tasks"] = time.monotonic() - t
        t = time.monotonic()
        for statement in narrow["fill"]:
            cur.execute(statement)
        benchlib.create_indexes(cur, indexes)
        timings["indexes"] = time.monotonic() - t
        cur.execute("INSERT INTO sync_clock (id, value) VALUES (1, %s)", (tasks + ELDERS + 1,))
        conn.commit()
    t = time.monotonic()
    benchlib.vacuum_after_load(url)
    benchlib.check_default_partitions(url)
    with psycopg.connect(url, autocommit=True) as conn:
        target_in_window = conn.execute("""
            SELECT count(*) FROM tasks WHERE assignee_id = %s AND status <> 'cancelled'
              AND window_end_at > %s AND window_start_at < %s
        """, (first_user, midnight - timedelta(days=1), midnight + timedelta(days=14))).fetchone()[0]
        total = conn.execute("SELECT count(*) FROM tasks").fetchone()[0]
    timings["vacuum"] = time.monotonic() - t
    return {"username": "bench_cg_0000", "user_id": first_user, "in_window": target_in_window, "tasks": total,
            "timings": timings, "today": today}


def timed_get(port: int, path: str, headers: dict) -> tuple[float, int, dict]:
    elapsed, status, body = benchlib.timed_get(port, path, headers)
    return elapsed, status, json.loads(body)


def run_pulls(port: int, token: str, device: str, cursor: str | None, phase: str, count: int,
              max_seconds: float, check) -> tuple[list[float], dict]:
    query = {"device_id": device, "limit": 500}
    if cursor:
        query["cursor"] = cursor
    path = "/api/v1/sync/pull?" + urlencode(query)
    headers = {"Authorization": "Bearer " + token, "X-Bench-Phase": phase}
    latencies, last = [], None
    deadline = time.monotonic() + max_seconds
    for _ in range(count):
        if time.monotonic() >= deadline:
            break
        ms, status, body = timed_get(port, path, headers)
        if status != 200:
            raise RuntimeError(f"{phase} pull answered {status}: {body}")
        check(body)
        latencies.append(ms)
        last = body
    return latencies, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--first", type=int, default=300, help="first pulls to time")
    parser.add_argument("--incremental", type=int, default=1000, help="empty incremental pulls to time")
    parser.add_argument("--warmup", type=int, default=40, help="untimed pulls of each kind first")
    parser.add_argument("--max-seconds", type=float, default=60, help="time bound of each timed loop")
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument("--db", choices=("direct", "unprepared", "pgbouncer"), default="direct",
                        help="how the server reaches PostgreSQL")
    args = parser.parse_args()
    started = time.monotonic()
    benchlib.print_machine(benchlib.machine())
    url = benchlib.create_database(DB_NAME)
    server = None
    try:
        with benchlib.workdir(args.keep_logs) as work, contextlib.ExitStack() as stack:
            instance = os.path.join(work, "instance")
            t = time.monotonic()
            benchlib.migrate(url, instance)
            migrated = time.monotonic() - t
            now = datetime.now(UTC)
            world = seed(url, args.tasks, now)
            steps = ", ".join(f"{k} {v:.1f}s" for k, v in world["timings"].items())
            print(f"seeded {world['tasks']:,} tasks (migrations {migrated:.1f}s, {steps}); target caregiver "
                  f"{world['username']} holds {world['in_window']} tasks in the window")
            if world["in_window"] != TARGET_IN_WINDOW:
                print(f"  WARNING: expected {TARGET_IN_WINDOW} tasks in the window")
            server_url = stack.enter_context(benchlib.pgbouncer(url, work)) if args.db == "pgbouncer" else url
            print(f"server: {args.db}")
            server = Server("backend:create_app()", benchlib.server_env(
                server_url, instance, **({} if args.db == "direct" else {"CARE_DB_PREPARED": "off"})), work, "pull")
            server.wait_ready("/api/v1/openapi.json")
            device = "bench-pull-phone"
            token = benchlib.login(server.port, world["username"], device)

            resets = set()

            def check_first(body):
                resets.add(body["reset"])  # docs/sync-protocol.md 4.6: true on a snapshot's first page
                assert body["has_more"] is False, "a first pull of 100 tasks is one page"
                assert len(body["tasks"]["upserted"]) == TARGET_IN_WINDOW, len(body["tasks"]["upserted"])
                assert body["digest"]["count"] == TARGET_IN_WINDOW

            def check_empty(body):
                assert body["has_more"] is False and body["reset"] is False
                assert not body["tasks"]["upserted"] and not body["tasks"]["removed"], "nothing changed"
                assert not body["elders"]["upserted"] and body["digest"]["count"] == TARGET_IN_WINDOW

            _, first_body = run_pulls(server.port, token, device, None, "warm-first", args.warmup, args.max_seconds,
                                      check_first)
            cursor = first_body["cursor"]
            elders = len(first_body["elders"]["upserted"])
            size = len(json.dumps(first_body, ensure_ascii=False).encode())
            run_pulls(server.port, token, device, cursor, "warm-incr", args.warmup, args.max_seconds, check_empty)
            def pids():
                return server.worker_pids() + benchlib.backend_pids(url, DB_NAME)

            first_cpu = benchlib.CpuMeter(pids)
            first_cpu.start()
            first_client, _ = run_pulls(server.port, token, device, None, "first", args.first, args.max_seconds,
                                        check_first)
            first_cpu.stop()
            incr_cpu = benchlib.CpuMeter(pids)
            incr_cpu.start()
            incr_client, _ = run_pulls(server.port, token, device, cursor, "incr", args.incremental,
                                       args.max_seconds, check_empty)
            incr_cpu.stop()
            first_server, incr_server = server.timings("first"), server.timings("incr")
            p = benchlib.percentile
            print(f"first pull: {len(first_server)} timed, {TARGET_IN_WINDOW} tasks + {elders} elders, {size:,} bytes"
                  f"; empty incremental pull: {len(incr_server)} timed; one request at a time, "
                  f"gunicorn {benchlib.WORKERS} sync workers")
            if resets != {True}:
                print(f"  NOTE: first pulls answered reset={sorted(resets)}; docs/sync-protocol.md 4.6 says a "
                      "snapshot's first page has reset: true")
            for name, meter, n in (("first pull", first_cpu, len(first_client)),
                                   ("empty incremental pull", incr_cpu, len(incr_client))):
                print(f"  {name}: CPU {1000 * meter.ours / max(1, n):.2f} ms per request (gunicorn workers + "
                      f"postgres); other load on the machine "
                      f"{max(0.0, meter.machine - meter.ours) / meter.elapsed:.2f} CPUs (incl. this client)")
            print()
            rows = []
            for name, server_ms, client_ms, target in (
                    ("first pull (no cursor)", first_server, first_client, TARGET_FIRST_P99_MS),
                    ("empty incremental pull", incr_server, incr_client, TARGET_INCR_P99_MS)):
                rows.append((f"{name}, server p50", f"{p(server_ms, 50):.2f} ms", f"client {p(client_ms, 50):.2f} ms",
                             "", ""))
                rows.append((f"{name}, server p99", f"{p(server_ms, 99):.2f} ms", f"client {p(client_ms, 99):.2f} ms",
                             f"< {target} ms", "PASS" if p(server_ms, 99) < target else "FAIL"))
            benchlib.print_table(rows, ("figure", "value", "loopback round trip", "target", "result"))
            print(f"{world['tasks']:,} tasks in the database; whole run {time.monotonic() - started:.0f}s")
    finally:
        if server:
            server.stop()
        benchlib.drop_database(DB_NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
