"""The sweep at scale: 5,000,000 tasks, 50,000 of them due, beside the bare UPDATE it amounts to.

The sweep is two transactions, run one right after the other by the job and the CLI: detection
(backend.tasks.sweep.sweep: late flags and their notices, missed marks and their task events),
which is what the target compares with the bare UPDATE, and the follow-up step
(backend.followups.opening.open_missed_followups: a follow-up, its opening event and the owner's
notification for each missed task without one), timed and reported separately, with the total.

    python bench/sweep.py [--tasks 5000000] [--due 50000] [--runs 3] [--backlog] [--no-cli]

Seeds a private database (carerounds_bench_sweep, dropped at the end) by SQL: a district of 10
streets and 100 communities with a supervisor each for the district and every street, 20
providers (18 with a manager), 2,000 caregivers, 50,000 elders with a care plan each, and
`--tasks` tasks over 120 days of history and the coming 14 days. History is 90% completed,
6% missed (each with its follow-up, event and notification), 4% cancelled. Exactly `--due` tasks
are still `scheduled` with `missed_after_at` in the past (windows 3 to 43 hours ago, 15% patrols,
10% of the rest from the two providers without a manager);
like every scheduled task whose start alert has passed, they were already flagged late by an
earlier sweep (steady state). A few dozen tasks whose window opened in the last five minutes get
their late flag in the measured sweep. Then VACUUM ANALYZE, and for each of `--runs` rounds:

- reference: BEGIN; UPDATE tasks SET status = 'missed' WHERE status = 'scheduled' AND
  missed_after_at <= :now; ROLLBACK — the statement alone, timed without the rollback;
- real: backend.tasks.sweep.sweep(now=…) in an app context of create_app() on this database,
  then db.session.commit(), timed together (one SQLAlchemy session, as the scheduler runs it);
  then open_missed_followups(now=…) and its commit, timed on their own; with the time of each
  SQL statement both send; then the result is checked (every due task missed, one follow-up with
  an owner, one event, one follow-up event and one notification each) and the due rows are put
  back (UPDATE back to scheduled, new rows deleted, VACUUM) for the next round;
- floor (informational, first round only): every write the sweep makes (tasks, task_events,
  followups, followup_events, notifications) as ONE hand-written statement with data-modifying
  CTEs, rolled back: what the same work costs with no round trips and owners looked up once per
  community.

Each round alternates which of reference and real goes first; rounds stop early when the next
one would not fit in --budget (the 5M seed alone takes about 3.5 minutes here). Medians are
reported, ratio sweep/reference against the target (≤ 1.5×, and the sweep < 5 s), and the
follow-up step and the total beside them. Then once:
`carerounds sweep` end to end as a subprocess (beside the same command with nothing due: its
fixed start-up cost), and with --backlog a backlog sweep (the due tasks NOT yet flagged late, as
after the scheduler was down), which also flags and notifies the late starts. Every phase prints
the CPU load of other processes. A sweep that raises is reported as ERROR (exit status 0).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import benchlib
import psycopg

DB_NAME = "carerounds_bench_sweep"
PAST_DAYS, FUTURE_DAYS = 120, 14
ELDERS, CAREGIVERS, PROVIDERS, MANAGED = 50_000, 2_000, 20, 18
STREETS, PER_STREET = 10, 10
RECENT_HOURS = 3  # window (1 h) + missed grace (2 h): nothing younger can be due
TARGET_RATIO, TARGET_SECONDS = 1.5, 5.0
SERVICE_TYPES = "ARRAY['meal','bathing','cleaning','medical','emergency','mobility','shopping','companionship'," \
                "'recreation','learning']"
REASON = "no check-in before the window closed and its grace ran out"
SWEEP_TABLES = ["tasks", "task_events", "followups", "followup_events", "notifications"]


# ------------------------------------------------------------------ seeding

def layout(tasks: int, due: int) -> dict:
    """Task g (1-based) has its window start at now - (past - g) * step: g orders time."""
    if due % 5:
        raise SystemExit("--due must be a multiple of 5")
    future = round(tasks * FUTURE_DAYS / (PAST_DAYS + FUTURE_DAYS))
    past = tasks - future
    step = PAST_DAYS * 86400 / past  # seconds between consecutive window starts
    edge = int(RECENT_HOURS * 3600 / step)  # rows this far back started 3 h ago: due if still scheduled
    recent_start = past - edge + 20  # younger than 3 h less a margin: may be scheduled, never due
    due_end = past - edge - 20  # older than 3 h plus a margin; between the two, all completed
    due_start = due_end - due * 7 // 5  # 5 in every 7 of this range are due, the rest completed
    if due_start < 1:
        raise SystemExit("too many due tasks for --tasks")
    return {"tasks": tasks, "due": due, "past": past, "step": step, "due_start": due_start, "due_end": due_end,
            "recent_start": recent_start}


def seed(url: str, plan: dict, now: datetime) -> dict:
    """Triggers are off, so what they keep is made by hand: every month of the span first, the
    task events' copy of their task's window, the key tables filled after the load, the sweep's
    floor set (benchlib.narrow_tables, vacuum_after_load)."""
    timings = {}
    benchlib.make_months(url, now - timedelta(days=PAST_DAYS + 1), now + timedelta(days=FUTURE_DAYS + 1))
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET session_replication_role = replica")  # no FK triggers while loading our own rows
        cur.execute("SET maintenance_work_mem = '512MB'")
        t = time.monotonic()
        city = benchlib.seed_city(cur, now, streets=STREETS, per_street=PER_STREET, providers=PROVIDERS,
                                  managed=MANAGED, caregivers=CAREGIVERS, elders=ELDERS)
        timings["people"] = time.monotonic() - t
        t = time.monotonic()
        narrow = benchlib.narrow_tables(cur)
        indexes = benchlib.drop_plain_indexes(cur, SWEEP_TABLES)
        benchlib.check_required(cur, "tasks", benchlib.SEEDED_TASK_COLUMNS | {"care_plan_id", "late_at"})
        e = "s.e"
        cur.execute(f"""
            INSERT INTO tasks (kind, service_type, elder_id, assignee_id, care_plan_id, community_id, provider_id,
                               source_key, window_start_at, window_end_at, min_duration_minutes, status,
                               status_changed_at, late_after_at, missed_after_at, late_at, version, change_seq,
                               created_at, updated_at)
            SELECT s.kind, CASE WHEN s.kind = 'service' THEN ({SERVICE_TYPES})[s.g %% 10 + 1] END,
                   %(elder0)s + {e}, {benchlib.caregiver_of(city, e)},
                   CASE WHEN s.kind = 'service' THEN %(plan0)s + {e} END, %(community0)s + {e} %% %(communities)s,
                   CASE WHEN s.kind = 'service' THEN %(provider0)s + {e} %% %(providers)s END,
                   'bench:' || s.g, s.ws, s.ws + interval '1 hour', 20, s.status,
                   CASE WHEN s.status IN ('scheduled', 'in_progress') THEN s.ws - interval '14 days'
                        ELSE s.ws + interval '1 hour' END,
                   CASE WHEN s.kind = 'service' THEN s.ws + interval '30 minutes' END,
                   s.ws + interval '3 hours',
                   CASE WHEN s.kind = 'service' AND s.status IN ('scheduled', 'missed')
                             AND s.ws + interval '30 minutes' <= %(now)s - interval '5 minutes'
                        THEN s.ws + interval '31 minutes' END,
                   1, s.g, s.ws - interval '14 days', s.ws - interval '14 days'
            FROM (
                SELECT g, (g::bigint * 7919) %% %(elders)s AS e,
                       CASE WHEN (g::bigint * 40503) %% 97 < 15 THEN 'patrol' ELSE 'service' END AS kind,  -- 15%
                       %(now)s - (%(past)s - g) * %(step)s * interval '1 second' AS ws,
                       CASE WHEN g > %(past)s THEN 'scheduled'
                            WHEN g >= %(recent_start)s THEN CASE WHEN g %% 10 < 6 THEN 'completed'
                                 WHEN g %% 10 = 6 THEN 'in_progress' ELSE 'scheduled' END
                            WHEN g >= %(due_end)s THEN 'completed'
                            WHEN g >= %(due_start)s THEN
                                 CASE WHEN (g - %(due_start)s) %% 7 < 5 THEN 'scheduled' ELSE 'completed' END
                            WHEN (g::bigint * 2654435761) %% 100 < 90 THEN 'completed'
                            WHEN (g::bigint * 2654435761) %% 100 < 96 THEN 'missed'
                            ELSE 'cancelled' END AS status
                FROM generate_series(1, %(tasks)s) g
            ) s ORDER BY s.g
        """, {**plan, **city, "now": now})
        cur.execute("SELECT min(id) FROM tasks")
        if cur.fetchone()[0] != 1:
            raise RuntimeError("expected task ids from 1 (change_seq is seeded equal to the id)")
        timings["tasks"] = time.monotonic() - t
        t = time.monotonic()
        # The history of the missed tasks: a follow-up each (resolved but for 2%), its opening
        # event and notification, and the task's state change.
        cur.execute("""
            INSERT INTO followups (kind, priority, status, dedupe_key, elder_id, task_id, subject_user_id,
                                   provider_id, region_id, owner_id, opened_at, due_at, escalation_level, summary,
                                   details, resolved_at, resolution_code, change_seq, version, created_at,
                                   updated_at)
            SELECT 'missed_visit', 'normal', CASE WHEN t.id %% 50 = 0 THEN 'open' ELSE 'resolved' END,
                   'missed_visit:task:' || t.id, t.elder_id, t.id, t.assignee_id, t.provider_id, t.community_id,
                   %(district_supervisor)s, t.missed_after_at, t.missed_after_at + interval '1 day', 0,
                   '上门服务未完成（漏访）', '{}',
                   CASE WHEN t.id %% 50 = 0 THEN NULL ELSE t.missed_after_at + interval '5 hours' END,
                   CASE WHEN t.id %% 50 = 0 THEN NULL ELSE 'rescheduled' END, t.id, 1, t.missed_after_at,
                   t.missed_after_at
            FROM tasks t WHERE t.status = 'missed' ORDER BY t.id
        """, city)
        cur.execute("""
            INSERT INTO followup_events (followup_id, at, action, by_system, data)
            SELECT id, opened_at, 'opened', 'sweep', '{}' FROM followups ORDER BY id
        """)
        cur.execute("""
            INSERT INTO notifications (user_id, event, followup_id, task_id, dedupe_key, title, body, created_at,
                                       read_at, change_seq)
            SELECT owner_id, 'assigned', id, task_id, 'assigned:f' || id || ':' || owner_id || ':0',
                   '新的跟进事项：' || summary, summary, opened_at, opened_at + interval '1 hour', change_seq
            FROM followups ORDER BY id
        """)
        cur.execute("INSERT INTO notification_keys (dedupe_key) SELECT dedupe_key FROM notifications")
        events = narrow["task_events_partition"]
        cur.execute(f"""
            INSERT INTO task_events (task_id, at, from_status, to_status, by_system, reason{events[0]})
            SELECT id, missed_after_at, 'scheduled', 'missed', 'sweep', '{REASON}'{events[1]} FROM tasks
            WHERE status = 'missed' ORDER BY id
        """)
        cur.execute("INSERT INTO sync_clock (id, value) VALUES (1, %s)", (plan["tasks"] + 10,))
        timings["history"] = time.monotonic() - t
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
            SELECT 'tasks', count(*) FROM tasks UNION ALL
            SELECT 'due', count(*) FROM tasks WHERE status = 'scheduled' AND missed_after_at <= %(now)s UNION ALL
            SELECT 'late_pending', count(*) FROM tasks
                WHERE status = 'scheduled' AND late_at IS NULL AND late_after_at <= %(now)s UNION ALL
            SELECT 'scheduled', count(*) FROM tasks WHERE status = 'scheduled' UNION ALL
            SELECT 'followups', count(*) FROM followups
        """, {"now": now}).fetchall())
    timings["vacuum"] = time.monotonic() - t
    return {"city": city, "counts": counts, "timings": timings}


# ------------------------------------------------------------------ the measured statements

def meter_for(url: str, *pids: int) -> benchlib.CpuMeter:
    return benchlib.CpuMeter(lambda: list(pids) + benchlib.backend_pids(url, DB_NAME))


def bare_update(url: str, now: datetime) -> dict:
    with psycopg.connect(url) as conn:
        meter = meter_for(url, os.getpid())
        meter.start()
        t = time.perf_counter()
        rows = conn.execute("UPDATE tasks SET status = 'missed' WHERE status = 'scheduled' AND missed_after_at <= %s",
                            (now,)).rowcount
        seconds = time.perf_counter() - t
        meter.stop()
        conn.rollback()
    return {"seconds": seconds, "rows": rows, "load": benchlib.other_load(meter)}


def explain_bare(url: str, now: datetime) -> list[str]:
    """The bare UPDATE's plan summary: its top node with buffers and WAL (records, full-page
    images, bytes), and the execution time."""
    with psycopg.connect(url) as conn:
        plan = [row[0] for row in conn.execute(
            "EXPLAIN (ANALYZE, BUFFERS, WAL) UPDATE tasks SET status = 'missed' "
            "WHERE status = 'scheduled' AND missed_after_at <= %s", (now,))]
        conn.rollback()
    keep = [line.strip() for line in plan[:4] if "Buffers" in line or "WAL" in line or "Update on" in line]
    return keep + [line for line in plan if line.startswith("Execution Time")]


FLOOR_SQL = f"""
WITH sup AS (
    SELECT DISTINCT ON (c.id) c.id AS community_id, u.id AS user_id
    FROM regions c JOIN regions s ON c.path LIKE s.path || '%%'
    JOIN users u ON u.region_id = s.id AND u.role = 'supervisor' AND u.is_active
    WHERE c.level = 'community' ORDER BY c.id, length(s.path) DESC, u.id
), m AS (
    UPDATE tasks SET status = 'missed', status_changed_at = %(now)s, change_seq = %(seq)s, version = version + 1,
                     updated_at = %(now)s
    WHERE status = 'scheduled' AND missed_after_at <= %(now)s
    RETURNING id, kind, elder_id, assignee_id, care_plan_id, window_start_at
), te AS (
    INSERT INTO task_events (task_id, at, from_status, to_status, by_system, reason, window_start_at)
    SELECT id, %(now)s, 'scheduled', 'missed', 'sweep', '{REASON}', window_start_at FROM m
), f AS (
    INSERT INTO followups (kind, priority, status, dedupe_key, elder_id, task_id, subject_user_id, provider_id,
                           region_id, owner_id, opened_at, due_at, escalation_level, summary, details, change_seq,
                           version, created_at, updated_at)
    SELECT 'missed_visit', CASE WHEN e.risk_tier = 'high' THEN 'high' ELSE 'normal' END, 'open',
           'missed_visit:task:' || m.id, m.elder_id, m.id, m.assignee_id, cp.provider_id, e.community_id,
           CASE WHEN m.kind = 'service' THEN coalesce(p.manager_id, sup.user_id) ELSE sup.user_id END,
           %(now)s, %(due)s, 0,
           CASE WHEN m.kind = 'patrol' THEN '巡访未完成' ELSE '上门服务未完成（漏访）' END, '{{}}', %(seq)s, 1,
           %(now)s, %(now)s
    FROM m JOIN elders e ON e.id = m.elder_id LEFT JOIN sup ON sup.community_id = e.community_id
    LEFT JOIN care_plans cp ON cp.id = m.care_plan_id LEFT JOIN providers p ON p.id = cp.provider_id
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id, owner_id, task_id, summary
), fe AS (
    INSERT INTO followup_events (followup_id, at, action, by_system, data)
    SELECT id, %(now)s, 'opened', 'sweep', '{{}}' FROM f
), n AS (
    SELECT owner_id, id, task_id, 'assigned:f' || id || ':' || owner_id || ':0' AS dedupe_key, summary
    FROM f WHERE owner_id IS NOT NULL
), k AS (
    INSERT INTO notification_keys (dedupe_key) SELECT dedupe_key FROM n ON CONFLICT DO NOTHING RETURNING dedupe_key
)
INSERT INTO notifications (user_id, event, followup_id, task_id, dedupe_key, title, body, created_at, change_seq)
SELECT owner_id, 'assigned', id, task_id, n.dedupe_key, '新的跟进事项：' || summary, summary, %(now)s, %(seq)s
FROM n JOIN k ON k.dedupe_key = n.dedupe_key
"""


def floor_statement(url: str, now: datetime) -> dict:
    with psycopg.connect(url) as conn:
        seq = conn.execute("UPDATE sync_clock SET value = value + 1 WHERE id = 1 RETURNING value").fetchone()[0]
        meter = meter_for(url, os.getpid())
        meter.start()
        t = time.perf_counter()
        conn.execute(FLOOR_SQL, {"now": now, "seq": seq, "due": now + timedelta(days=1)})
        missed = conn.execute("SELECT count(*) FROM tasks WHERE change_seq = %s", (seq,)).fetchone()[0]
        seconds = time.perf_counter() - t
        meter.stop()
        conn.rollback()
    return {"seconds": seconds, "rows": missed, "load": benchlib.other_load(meter)}


class StatementClock:
    """Times every statement the app's engine sends (after_cursor_execute), labelled by its start."""

    LABELS = (("pg_try_advisory", "advisory lock"), ("UPDATE sync_clock", "next change number"),
              ("UPDATE tasks SET late_at", "UPDATE tasks: late flags"),
              ("UPDATE tasks SET status", "UPDATE tasks: missed"),
              ("INSERT INTO task_events", "INSERT task_events"), ("INSERT INTO followups", "INSERT followups"),
              ("INSERT INTO followup_events", "INSERT followup_events"),
              ("INSERT INTO notifications", "INSERT notifications"), ("SELECT audit_head", "audit: lock head"),
              ("INSERT INTO audit_trail", "audit: append entry"), ("UPDATE audit_head", "audit: move head"),
              ("INSERT INTO audit_head", "audit: move head"), ("SELECT count(*) AS count_1 FROM followups",
                                                                 "count opened follow-ups"),
              ("SELECT 1", "pool pre-ping"),
              ("SELECT tasks.id FROM tasks", "follow-ups: lock missed w/o one"))

    def __init__(self, engine):
        from sqlalchemy import event

        self.rows: list[tuple[str, float]] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        elapsed = time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())
        text = " ".join(statement.split())
        label = next((name for prefix, name in self.LABELS if prefix in text[:60]), text[:40])
        self.rows.append((label, elapsed))

    def take(self) -> list[tuple[str, float]]:
        rows, self.rows = self.rows, []
        return rows


def real_sweep(app, url: str, now: datetime, clock: StatementClock) -> dict:
    """The job's two steps as the scheduler runs them: the sweep and its commit (timed: the
    figure compared with the bare UPDATE), then the follow-up step and its commit (timed apart)."""
    from backend.extensions import db
    from backend.followups.opening import open_missed_followups
    from backend.tasks.sweep import sweep

    with app.app_context():
        meter = meter_for(url, os.getpid())
        clock.take()
        meter.start()
        t = time.perf_counter()
        try:
            result = sweep(now=now)
            t_commit = time.perf_counter()
            db.session.commit()
            seconds = time.perf_counter() - t
            commit_seconds = time.perf_counter() - t_commit
            sweep_rows = clock.take()
            t_followups = time.perf_counter()
            result.followups = open_missed_followups(now=now)
            db.session.commit()
            followup_seconds = time.perf_counter() - t_followups
        except Exception as error:  # noqa: BLE001 - reported in the table, the run goes on
            db.session.rollback()
            db.session.remove()
            clock.take()
            message = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            return {"error": f"{type(getattr(error, 'orig', None) or error).__name__}: {message}"[:300],
                    "seconds": time.perf_counter() - t}
        meter.stop()
        db.session.remove()
    followup_rows = clock.take()
    return {"seconds": seconds, "commit": commit_seconds, "followup_seconds": followup_seconds,
            "total": seconds + followup_seconds, "result": result, "statements": sweep_rows,
            "followup_statements": followup_rows, "load": benchlib.other_load(meter), "cpu": meter.ours}


# ------------------------------------------------------------------ checking and putting back

def marks(conn) -> dict:
    """The highest id of each table the sweep appends to (what a round must delete afterwards),
    and the change counter: the sweep's own number is the next one."""
    found = {table: conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
             for table in ("task_events", "followups", "followup_events", "notifications")}
    found["clock"] = conn.execute("SELECT value FROM sync_clock WHERE id = 1").fetchone()[0]
    return found


def verify(url: str, before: dict, now: datetime, due: int, late_expected: int) -> tuple[dict, list[str]]:
    with psycopg.connect(url) as conn:
        seq = before["clock"] + 1  # the sweep takes the next change number first; the follow-up step the one after
        got = dict(conn.execute("""
            SELECT 'missed', count(*) FROM tasks WHERE change_seq = %(seq)s AND status = 'missed' UNION ALL
            SELECT 'late', count(*) FROM tasks WHERE change_seq = %(seq)s AND late_at = %(now)s UNION ALL
            SELECT 'still_due', count(*) FROM tasks WHERE status = 'scheduled' AND missed_after_at <= %(now)s UNION ALL
            SELECT 'task_events', count(*) FROM task_events WHERE id > %(task_events)s AND to_status = 'missed'
            UNION ALL SELECT 'followups', count(*) FROM followups WHERE id > %(followups)s AND kind = 'missed_visit'
            UNION ALL SELECT 'unowned', count(*) FROM followups WHERE id > %(followups)s AND owner_id IS NULL
            UNION ALL SELECT 'owned', count(*) FROM followups f JOIN tasks t ON t.id = f.task_id
                WHERE f.id > %(followups)s AND t.change_seq = %(seq)s AND f.owner_id IS NOT NULL
            UNION ALL SELECT 'followup_events', count(*) FROM followup_events WHERE id > %(followup_events)s
            UNION ALL SELECT 'assigned', count(*) FROM notifications
                WHERE id > %(notifications)s AND event = 'assigned'
            UNION ALL SELECT 'late_notices', count(*) FROM notifications
                WHERE id > %(notifications)s AND event = 'late_start'
        """, {"seq": seq, "now": now, **before}).fetchall())
    got["seq"] = seq
    problems = [f"{name}: {got[name]} (expected {want})" for name, want in (
        ("missed", due), ("still_due", 0), ("task_events", due), ("followups", due), ("unowned", 0), ("owned", due),
        ("followup_events", due), ("assigned", due), ("late", late_expected)) if got[name] != want]
    if got["late_notices"] < got["late"]:  # each late task tells its caregiver (and its provider's manager)
        problems.append(f"late_notices: {got['late_notices']} (expected at least {got['late']})")
    return got, problems


def put_back(url: str, before: dict, seq: int, now: datetime) -> float:
    """Undo a sweep: its rows (and its notifications' dedupe keys) deleted, its tasks scheduled
    again (late flags as before), the sweep's floor set again (no trigger follows a task set back
    to scheduled, and the sweep may have raised it past them); VACUUM."""
    t = time.monotonic()
    with psycopg.connect(url) as conn:
        # The deleted notifications' dedupe keys too: left claimed, they would keep a later sweep
        # (the backlog phase) from notifying the same late starts again.
        conn.execute("DELETE FROM notification_keys k USING notifications n WHERE n.id > %s "
                     "AND k.dedupe_key = n.dedupe_key", (before["notifications"],))
        for table in ("notifications", "followup_events", "followups", "task_events"):
            conn.execute(f"DELETE FROM {table} WHERE id > %s", (before[table],))
        conn.execute("""
            UPDATE tasks SET status = CASE WHEN status = 'missed' THEN 'scheduled' ELSE status END,
                             status_changed_at = created_at,
                             late_at = CASE WHEN late_at = %(now)s AND missed_after_at > %(now)s THEN NULL
                                            ELSE late_at END,
                             version = 1, change_seq = id, updated_at = created_at
            WHERE change_seq = %(seq)s
        """, {"now": now, "seq": seq})
        benchlib.set_sweep_floor(conn)
        conn.commit()
    vacuum(url)
    return time.monotonic() - t


def vacuum(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM " + ", ".join(SWEEP_TABLES))


def run_cli(env: dict, at: datetime) -> tuple[float, str]:
    t = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "backend.cli", "sweep", "--now", at.strftime("%Y-%m-%dT%H:%M:%S%z")],
                          cwd=benchlib.REPO, env=env, capture_output=True, text=True, timeout=300)
    seconds = time.monotonic() - t
    if done.returncode:
        raise RuntimeError(f"`carerounds sweep` failed:\n{done.stderr[-3000:]}")
    return seconds, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


# ------------------------------------------------------------------ main

def breakdown(runs: list[dict], key: str = "statements") -> list[tuple[str, float]]:
    """Median seconds per statement label over the runs (labels summed within a run)."""
    per_label: dict[str, list[float]] = {}
    for run in runs:
        sums: dict[str, float] = {}
        for label, seconds in run[key]:
            sums[label] = sums.get(label, 0.0) + seconds
        for label, seconds in sums.items():
            per_label.setdefault(label, []).append(seconds)
    return [(label, statistics.median(values)) for label, values in per_label.items()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=5_000_000)
    parser.add_argument("--due", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3, help="rounds of reference + real sweep")
    parser.add_argument("--budget", type=float, default=450,
                        help="seconds of the whole run after which further rounds and optional phases are skipped")
    parser.add_argument("--backlog", action="store_true", help="also time one backlog sweep (late flags too)")
    parser.add_argument("--no-cli", action="store_true", help="skip `carerounds sweep` end to end")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()
    benchlib.print_machine(benchlib.machine())
    plan = layout(args.tasks, args.due)
    now = datetime.now(UTC).replace(microsecond=0)
    url = benchlib.create_database(DB_NAME)
    try:
        with benchlib.workdir(args.keep_logs) as work:
            instance = os.path.join(work, "instance")
            t = time.monotonic()
            benchlib.migrate(url, instance)
            migrated = time.monotonic() - t
            world = seed(url, plan, now)
            counts = world["counts"]
            steps = ", ".join(f"{k} {v:.1f}s" for k, v in world["timings"].items())
            print(f"seeded {counts['tasks']:,} tasks, {counts['scheduled']:,} scheduled, {counts['due']:,} due, "
                  f"{counts['late_pending']} late starts pending, {counts['followups']:,} past follow-ups "
                  f"(migrations {migrated:.1f}s, {steps})")
            if counts["due"] != args.due:
                raise RuntimeError(f"seed made {counts['due']} due tasks, not {args.due}")
            late_expected = counts["late_pending"]

            env = benchlib.server_env(url, instance)
            os.environ.update({k: v for k, v in env.items() if k in ("DATABASE_URL", "CARE_INSTANCE_PATH")
                               or k in benchlib.SECRETS})
            from backend import create_app
            from backend.extensions import db

            app = create_app()
            with app.app_context():
                clock = StatementClock(db.engine)
            wal = explain_bare(url, now)  # untimed: warms the cache for both sides, and says where the work is
            print("bare UPDATE, EXPLAIN (ANALYZE, BUFFERS, WAL), rolled back:\n  " + "\n  ".join(wal))
            vacuum(url)

            refs, reals, floors, put_backs, failure = [], [], [], [], None
            round_seconds = 0.0
            for n in range(args.runs):
                # Keep room for one more round and for the end-to-end command (about one sweep and
                # one putting back).
                reserve = round_seconds + (0 if args.no_cli else round_seconds * 0.8)
                if n and time.monotonic() - started + reserve > args.budget:
                    print(f"  (stopping after {n} rounds: time budget --budget {args.budget:.0f}s)")
                    break
                round_started = time.monotonic()
                order = ("bare", "real") if n % 2 == 0 else ("real", "bare")
                for side in order:
                    if side == "bare":
                        refs.append(bare_update(url, now))
                        vacuum(url)
                        continue
                    with psycopg.connect(url) as conn:
                        before = marks(conn)
                    run = real_sweep(app, url, now, clock)
                    if "error" in run:
                        failure = run["error"]
                        continue
                    got, problems = verify(url, before, now, args.due, late_expected)
                    if problems:
                        raise RuntimeError("the sweep did not do its work: " + "; ".join(problems))
                    run["checked"] = got
                    reals.append(run)
                    put_backs.append(put_back(url, before, got["seq"], now))
                if n == 0 or failure:  # the floor once is enough: it is informational
                    floors.append(floor_statement(url, now))
                    vacuum(url)
                if failure:
                    break
                round_seconds = time.monotonic() - round_started

            cli = cli_idle = backlog = None
            if failure:
                print(f"THE REAL SWEEP FAILED: {failure}")
            if not failure and not args.no_cli and time.monotonic() - started < args.budget:
                cli_idle = run_cli(env, now - timedelta(days=PAST_DAYS + 5))  # nothing due then: the fixed cost
                with psycopg.connect(url) as conn:
                    before = marks(conn)
                cli = run_cli(env, now)
                got, problems = verify(url, before, now, args.due, late_expected)
                if problems:
                    raise RuntimeError("`carerounds sweep` did not do its work: " + "; ".join(problems))
                put_back(url, before, got["seq"], now)
            if not failure and args.backlog and time.monotonic() - started < args.budget:
                with psycopg.connect(url) as conn:
                    conn.execute("UPDATE tasks SET late_at = NULL WHERE status = 'scheduled' AND missed_after_at <= %s",
                                 (now,))
                    conn.commit()
                    backlog_late = conn.execute("SELECT count(*) FROM tasks WHERE status = 'scheduled' AND "
                                                "late_at IS NULL AND late_after_at <= %s AND missed_after_at > %s",
                                                (now, now)).fetchone()[0]
                    before = marks(conn)
                vacuum(url)
                backlog = real_sweep(app, url, now, clock)
                got, problems = verify(url, before, now, args.due, backlog_late)
                backlog["checked"], backlog["problems"] = got, problems

            report(args, counts, refs, reals, floors, put_backs, cli, cli_idle, backlog,
                   time.monotonic() - started, failure)
    finally:
        benchlib.drop_database(DB_NAME)
    return 0


def seconds_list(runs: list[dict], key: str = "seconds") -> str:
    return ", ".join(f"{run[key]:.2f}" for run in runs)


def report(args, counts, refs, reals, floors, put_backs, cli, cli_idle, backlog, elapsed, failure=None) -> None:
    def med(runs, key="seconds"):
        return statistics.median(run[key] for run in runs)

    if not reals:
        bare_s, floor_s = med(refs), med(floors)
        print(f"\nbare UPDATE: {len(refs)} runs, {refs[0]['rows']:,} rows; times {seconds_list(refs)} s")
        print(f"floor (all the sweep's writes as one statement): {seconds_list(floors)} s")
        loads = [run["load"] for run in refs + floors]
        print(f"other load on the machine: {min(loads):.2f}-{max(loads):.2f} CPUs of {os.cpu_count()}\n")
        benchlib.print_table([
            ("real sweep incl. commit", "ERROR", f"bare UPDATE {bare_s:.2f} s", "-", f"<= {TARGET_RATIO}x", "FAIL"),
            ("real sweep, absolute", "ERROR", "", "", f"< {TARGET_SECONDS:.0f} s", "FAIL"),
            ("floor: same writes, 1 statement", f"{floor_s:.2f} s", f"bare UPDATE {bare_s:.2f} s",
             f"{floor_s / bare_s:.2f}x", "reported", ""),
        ], ("figure", "value", "reference (same run)", "ratio", "target", "result"))
        print(f"the real sweep failed: {failure}")
        print(f"{counts['tasks']:,} tasks in the database; whole run {elapsed:.0f}s")
        return

    real_s, bare_s, floor_s = med(reals), med(refs), med(floors)
    follow_s, total_s = med(reals, "followup_seconds"), med(reals, "total")
    ratio = real_s / bare_s
    first = reals[0]["result"]
    checked = reals[0]["checked"]
    print(f"\nchecked after each round: {checked['missed']:,} missed, {checked['task_events']:,} task events, "
          f"{checked['followups']:,} follow-ups ({checked['owned']:,} with an owner), "
          f"{checked['followup_events']:,} opening events, {checked['assigned']:,} owner notifications, "
          f"{checked['late']} late flags")
    print(f"sweep (detection): {len(reals)} runs, each {first.missed:,} missed, {first.late} late; "
          f"times {seconds_list(reals)} s, of which commit {seconds_list(reals, 'commit')} s")
    print(f"follow-up step: {first.followups:,} opened; times {seconds_list(reals, 'followup_seconds')} s; "
          f"total {seconds_list(reals, 'total')} s; CPU of this process + its backend {med(reals, 'cpu'):.2f} s")
    if first.followups != first.missed:
        print(f"  NOTE: open_missed_followups() reported {first.followups} follow-ups opened; the database holds "
              f"{checked['followups']:,} new ones")
    print(f"bare UPDATE: {len(refs)} runs, {refs[0]['rows']:,} rows; times {seconds_list(refs)} s")
    print(f"floor (all the writes of both steps as one statement): {seconds_list(floors)} s")
    print(f"putting the due rows back took {', '.join(f'{s:.1f}' for s in put_backs)} s (not measured)")
    loads = [run["load"] for run in refs + reals + floors]
    print(f"other load on the machine during the measured statements: {min(loads):.2f}-{max(loads):.2f} CPUs "
          f"(median {statistics.median(loads):.2f}) of {os.cpu_count()}")
    for title, key, whole in (("the sweep (detection)", "statements", "seconds"),
                              ("the follow-up step", "followup_statements", "followup_seconds")):
        print(f"\nwhere {title}'s time goes (median per statement kind, seconds):")
        for label, seconds in sorted(breakdown(reals, key), key=lambda row: -row[1]):
            if seconds >= 0.0005:
                print(f"  {label[:32]:<32} {seconds:7.3f}")
        between = statistics.median(run[whole] - sum(s for _, s in run[key]) for run in reals)
        print(f"  {'(Python, driver, COMMIT)':<32} {between:7.3f}")
    print()
    table = [
        ("SWEEP (detection) incl. commit, median", f"{real_s:.2f} s", f"bare UPDATE {bare_s:.2f} s",
         f"{ratio:.2f}x", f"<= {TARGET_RATIO}x", "PASS" if ratio <= TARGET_RATIO else "FAIL"),
        ("SWEEP (detection), absolute", f"{real_s:.2f} s", "", "", f"< {TARGET_SECONDS:.0f} s",
         "PASS" if real_s < TARGET_SECONDS else "FAIL"),
        ("follow-up step incl. commit, median", f"{follow_s:.2f} s", f"bare UPDATE {bare_s:.2f} s",
         f"{follow_s / bare_s:.2f}x", "reported", ""),
        ("total: sweep + follow-up step", f"{total_s:.2f} s", f"bare UPDATE {bare_s:.2f} s",
         f"{total_s / bare_s:.2f}x", "reported", ""),
        ("floor: all writes, 1 statement", f"{floor_s:.2f} s", f"bare UPDATE {bare_s:.2f} s",
         f"{floor_s / bare_s:.2f}x", "reported", ""),
        ("total / floor", f"{total_s:.2f} s", f"floor {floor_s:.2f} s", f"{total_s / floor_s:.2f}x", "reported", ""),
    ]
    if cli:
        table.append(("`carerounds sweep` end to end (both)", f"{cli[0]:.2f} s", f"nothing due {cli_idle[0]:.2f} s",
                      f"{cli[0] / bare_s:.2f}x bare", "reported", ""))
    if backlog:
        table.append(("backlog: sweep (late flags too)", f"{backlog['seconds']:.2f} s", f"bare UPDATE {bare_s:.2f} s",
                      f"{backlog['seconds'] / bare_s:.2f}x", "reported", "ok" if not backlog["problems"] else "CHECK"))
        table.append(("backlog: follow-up step", f"{backlog['followup_seconds']:.2f} s", "", "", "reported", ""))
    benchlib.print_table(table, ("figure", "value", "reference (same run)", "ratio", "target", "result"))
    if cli:
        print(f"`carerounds sweep` said: {cli[1]!r}")
    if backlog:
        b = backlog["result"]
        print(f"backlog sweep: {b.late:,} late, {b.missed:,} missed, {b.followups:,} follow-ups, "
              f"{backlog['checked']['late_notices']:,} late-start notifications; other load {backlog['load']:.2f} CPUs")
        for label, seconds in sorted(breakdown([backlog]), key=lambda row: -row[1])[:6]:
            print(f"  {label[:28]:<28} {seconds:7.3f}")
        for problem in backlog["problems"]:
            print(f"  NOTE: {problem}")
    print(f"{counts['tasks']:,} tasks in the database; whole run {elapsed:.0f}s")


if __name__ == "__main__":
    sys.exit(main())
