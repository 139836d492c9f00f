"""A provider's statement at scale: a district month of 500,000 visits among 5,000,000.

    python bench/settlement.py [--tasks 5000000] [--month-visits 500000] [--providers 10] [--runs 3] [--keep]

Seeds a private database (carerounds_bench_settlement, dropped at the end) by SQL: the district of
benchlib.seed_city (10 streets, 100 communities, `--providers` providers, 2,000 caregivers, 40,000
elders with one care plan each), `--tasks` completed service tasks with their visits, of which
`--month-visits` fall in the last complete month and the rest in the ten months before it
(durations 10–60 min in one-hour windows, 5% flagged for review, 0.5% rejected on review), a
price for every service type (half per visit, half per hour in quarter hours), and a funding rule
per plan (a third each government, co-pay and self-pay, with a monthly cap on the government's).
On a schema partitioned by month, every month of the span is made first and the narrow key
tables (task_keys, visit_keys) filled after the load, as the app's triggers would; VACUUM ANALYZE.

Then, in one process on the app's own engine, for the first provider (1/`--providers` of the
month): the draft statement (backend/settlement/ledger.compute plus its totals, best of `--runs`)
beside a bare `SELECT … sum(…) … GROUP BY service_type` over the same visits, measured in the same
run; target: draft ≤ 3× the bare aggregate and under 2 s. Then issuing (lifecycle.issue and the
commit: its lines stored) in a fresh child process whose peak RSS (VmHWM) is read when it is done;
target under 200 MB.

Seeding 5,000,000 visits takes minutes on a small machine: `--keep` leaves the database in place
and, when it is already seeded, measures again without seeding (its issued statements deleted
first), so that two versions of the code are measured against the same data.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import benchlib
import psycopg

DB_NAME = "carerounds_bench_settlement"
CARE_TZ = ZoneInfo("Asia/Shanghai")
ELDERS, CAREGIVERS, STREETS, PER_STREET = 40_000, 2_000, 10, 10
SERVICE_TYPES = ["meal", "bathing", "cleaning", "medical", "emergency", "mobility", "shopping", "companionship",
                 "recreation", "learning"]
TARGET_RATIO, TARGET_DRAFT_S, TARGET_ISSUE_MB = 3.0, 2.0, 200


def month_bounds(now: datetime) -> tuple[datetime, datetime, datetime]:
    """(history start, month start, month end) in UTC: the last complete month and ten before it."""
    today = now.astimezone(CARE_TZ).date()
    end = today.replace(day=1)
    first = (end - timedelta(days=1)).replace(day=1)
    history = first
    for _ in range(10):
        history = (history - timedelta(days=1)).replace(day=1)

    def utc(day):
        return datetime.combine(day, datetime.min.time(), CARE_TZ).astimezone(UTC)
    return utc(history), utc(first), utc(end)


def seed(url: str, args, now: datetime) -> dict:
    history, first, end = month_bounds(now)
    benchlib.make_months(url, history - timedelta(days=1), end + timedelta(days=1))
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET session_replication_role = replica")
        city = benchlib.seed_city(cur, now, streets=STREETS, per_street=PER_STREET, providers=args.providers,
                                  managed=0, caregivers=CAREGIVERS, elders=ELDERS)
        narrow = benchlib.narrow_tables(cur)
        indexes = benchlib.drop_plain_indexes(cur, ["tasks", "visits"])
        benchlib.check_required(cur, "tasks", benchlib.SEEDED_TASK_COLUMNS | {"care_plan_id", "late_at"})
        e = "s.e"
        month_seconds = (end - first).total_seconds()
        history_seconds = (first - history).total_seconds()
        cur.execute(f"""
            INSERT INTO tasks (kind, service_type, elder_id, assignee_id, care_plan_id, community_id, provider_id,
                               source_key, window_start_at, window_end_at, min_duration_minutes, status,
                               status_changed_at, late_after_at, missed_after_at, version, change_seq,
                               created_at, updated_at)
            SELECT 'service', (%(types)s::text[])[s.g %% 10 + 1], %(elder0)s + {e}, {benchlib.caregiver_of(city, e)},
                   %(plan0)s + {e}, %(community0)s + {e} %% %(communities)s, %(provider0)s + {e} %% %(providers)s,
                   'bench:' || s.g, s.ws, s.ws + interval '1 hour', 20, 'completed', s.ws + interval '1 hour',
                   s.ws + interval '30 minutes', s.ws + interval '3 hours', 1, s.g, s.ws, s.ws
            FROM (
                SELECT g, (g::bigint * 7919) %% %(elders)s AS e,
                       CASE WHEN g <= %(month_visits)s
                            THEN %(first)s + (g * %(month_seconds)s / %(month_visits)s) * interval '1 second'
                            ELSE %(history)s + ((g - %(month_visits)s) * %(history_seconds)s /
                                                greatest(%(tasks)s - %(month_visits)s, 1)) * interval '1 second'
                       END AS ws
                FROM generate_series(1, %(tasks)s) g
            ) s ORDER BY s.ws
        """, {**city, "types": SERVICE_TYPES, "tasks": args.tasks, "month_visits": args.month_visits,
              "first": first, "history": history, "month_seconds": month_seconds,
              "history_seconds": history_seconds})
        cur.execute("""
            INSERT INTO visits (task_id, user_id, started_at, ended_at, duration_seconds, is_verified, satisfaction,
                                is_late_sync, flags, needs_review, created_at, updated_at, window_start_at)
            SELECT id, assignee_id, window_start_at, window_start_at + d * interval '1 second', d, h >= 50, 5, false,
                   CASE WHEN h < 50 THEN '["qr_missing"]' ELSE '[]' END::json, h < 50, window_start_at, window_start_at,
                   window_start_at
            FROM (SELECT id, assignee_id, window_start_at, mod(abs(hashint4(id)), 1000) AS h,
                         600 + mod(id * 7, 3000) AS d FROM tasks) t
        """)
        cur.execute("""
            INSERT INTO reviews (task_id, visit_id, seq, decision, reason_code, decided_by_id, decided_at)
            SELECT v.task_id, v.id, 1, 'rejected', 'no_presence_evidence', %s, v.ended_at + interval '1 day'
            FROM visits v WHERE v.needs_review AND v.id %% 10 = 0
        """, (city["district_supervisor"],))
        cur.execute("""
            INSERT INTO prices (service_type, unit, price_fen, rounding_minutes, effective_on, created_at)
            SELECT t, CASE WHEN n %% 2 = 0 THEN 'visit' ELSE 'hour' END, 1500 + 500 * n, 15, date '2020-01-01', now()
            FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, n)
        """, (SERVICE_TYPES,))
        cur.execute("""
            INSERT INTO funding_rules (care_plan_id, kind, monthly_cap_fen, updated_at)
            SELECT id, (ARRAY['government', 'copay', 'self_pay'])[mod(id, 3) + 1],
                   CASE WHEN mod(id, 3) < 2 THEN 40000 END, now() FROM care_plans
        """)
        for statement in narrow["fill"]:
            cur.execute(statement)
        benchlib.create_indexes(cur, indexes)
        conn.commit()
    benchlib.vacuum_after_load(url)
    benchlib.check_default_partitions(url)
    return {"provider": city["provider0"], "month": f"{first.astimezone(CARE_TZ):%Y-%m}", "first": first,
            "end": end}


BARE = """
SELECT t.service_type, count(*), sum(v.duration_seconds)
  FROM tasks t JOIN visits v ON v.task_id = t.id
 WHERE t.provider_id = :provider AND t.window_start_at >= :first AND t.window_start_at < :end
   AND t.kind = 'service' AND t.status = 'completed'
 GROUP BY t.service_type
"""


def measure_draft(url: str, target: dict, runs: int) -> dict:
    from sqlalchemy import text

    from backend.extensions import db
    from backend.settlement import ledger

    app = benchlib.app_for(url, "bench-settlement-")
    drafts, bares, lines = [], [], 0
    with app.app_context():
        for _ in range(runs):
            t = time.perf_counter()
            db.session.execute(text(BARE), {k: target[k] for k in ("provider", "first", "end")}).all()
            bares.append(time.perf_counter() - t)
            t = time.perf_counter()
            draft = ledger.compute(target["provider"], target["month"])
            ledger.totals(draft.lines)
            drafts.append(time.perf_counter() - t)
            lines = len(draft.lines)
            db.session.rollback()
    return {"draft_s": min(drafts), "bare_s": min(bares), "lines": lines, "drafts": drafts, "bares": bares}


def issue_child(url: str, provider: int, month: str) -> None:
    """In a fresh process: issue the statement, commit, print the time and the peak RSS."""
    from backend.audit.trail import acting_as
    from backend.extensions import db
    from backend.providers.models import Provider
    from backend.settlement import lifecycle
    from backend.users.models import User

    app = benchlib.app_for(url, "bench-settlement-")
    with app.app_context(), acting_as("bench:settlement"):
        user = db.session.query(User).filter_by(username="bench_sup_district").one()
        provider_row = db.session.get(Provider, provider)
        before = benchlib.proc_kb(os.getpid(), "VmRSS")
        t = time.perf_counter()
        statement = lifecycle.issue(provider_row, month, by=user, at=datetime.now(UTC))
        db.session.commit()
        elapsed = time.perf_counter() - t
        print(json.dumps({"issue_s": elapsed, "lines": statement.line_count, "rss_before_kb": before,
                          "peak_kb": benchlib.proc_kb(os.getpid(), "VmHWM")}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=5_000_000)
    parser.add_argument("--month-visits", type=int, default=500_000)
    parser.add_argument("--providers", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database; reuse it when already seeded")
    parser.add_argument("--issue-child", nargs=3, metavar=("URL", "PROVIDER", "MONTH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.issue_child:
        url, provider, month = args.issue_child
        issue_child(url, int(provider), month)
        return
    now = datetime.now(UTC)
    benchlib.print_machine(benchlib.machine())
    target = reused(now) if args.keep else None
    url = benchlib.db_url(DB_NAME) if target else benchlib.create_database(DB_NAME)
    try:
        if target:
            benchlib.migrate(url, tempfile.mkdtemp(prefix="bench-settlement-"))  # to this code's head
            print(f"reusing {DB_NAME}: {target['tasks']:,} visits, its issued statements deleted")
        else:
            benchlib.migrate(url, tempfile.mkdtemp(prefix="bench-settlement-"))
            t = time.monotonic()
            target = seed(url, args, now)
            print(f"seeded {args.tasks:,} visits ({args.month_visits:,} in {target['month']}) in "
                  f"{time.monotonic() - t:.0f} s")
        draft = measure_draft(url, target, args.runs)
        ratio = draft["draft_s"] / draft["bare_s"] if draft["bare_s"] else float("inf")
        print(f"provider {target['provider']}, {target['month']}: {draft['lines']:,} lines")
        print(f"  draft statement  {draft['draft_s']:.3f} s (runs: {', '.join(f'{x:.3f}' for x in draft['drafts'])})")
        print(f"  bare GROUP BY    {draft['bare_s']:.3f} s (runs: {', '.join(f'{x:.3f}' for x in draft['bares'])})")
        under = "under" if draft["draft_s"] < TARGET_DRAFT_S else "OVER"
        print(f"  ratio {ratio:.1f}× (target ≤ {TARGET_RATIO}×), draft {under} {TARGET_DRAFT_S} s")
        child = subprocess.run([sys.executable, __file__, "--issue-child", url, str(target["provider"]),
                                target["month"]], capture_output=True, text=True, timeout=600,
                               env=benchlib.server_env(url, tempfile.mkdtemp(prefix="bench-settlement-")))
        if child.returncode:
            raise RuntimeError(child.stderr[-3000:])
        issued = json.loads(child.stdout.strip().splitlines()[-1])
        peak_mb = issued["peak_kb"] / 1024
        print(f"  issue (store {issued['lines']:,} lines, commit) {issued['issue_s']:.3f} s, peak RSS {peak_mb:.0f} MB "
              f"(target < {TARGET_ISSUE_MB} MB; {issued['rss_before_kb'] / 1024:.0f} MB before issuing)")
    finally:
        if not args.keep:
            benchlib.drop_database(DB_NAME)


def reused(now: datetime) -> dict | None:
    """The target of a database kept by an earlier --keep run (None when there is none), with the
    statements that run issued deleted so that the month can be issued again."""
    try:
        conn = psycopg.connect(benchlib.db_url(DB_NAME), autocommit=True)
    except psycopg.OperationalError:
        return None
    with conn:
        if conn.execute("SELECT to_regclass('funding_rules') IS NULL OR NOT EXISTS (SELECT 1 FROM funding_rules)"
                        ).fetchone()[0]:
            return None
        conn.execute("SET session_replication_role = replica")  # the audit trail's triggers: not for this
        if conn.execute("SELECT to_regclass('statement_cap_usage') IS NOT NULL").fetchone()[0]:
            conn.execute("DELETE FROM statement_cap_usage")
        conn.execute("DELETE FROM statement_lines")
        conn.execute("DELETE FROM statements")
        provider, tasks = conn.execute("SELECT (SELECT min(id) FROM providers), (SELECT count(*) FROM tasks)"
                                       ).fetchone()
    _, first, end = month_bounds(now)
    return {"provider": provider, "month": f"{first.astimezone(CARE_TZ):%Y-%m}", "first": first, "end": end,
            "tasks": tasks}


if __name__ == "__main__":
    main()
