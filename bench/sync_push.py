"""Push throughput: verified check-ins accepted per second by the real server, side by side with
two references measured in the same run on the same rows.

    python bench/sync_push.py [--phones 64] [--seconds 15] [--profile] [--db direct|unprepared|pgbouncer]

1. bare insert:    the rows the server would store, written straight into PostgreSQL with
                   INSERT … ON CONFLICT DO NOTHING, 100 rows per transaction, one connection per
                   client process (4).
2. naive endpoint: bench/naive_app.py under the same gunicorn settings (4 sync workers): parse the
                   batch, one multi-row INSERT … ON CONFLICT DO NOTHING, commit.
3. real server:    `backend:create_app()` under gunicorn (4 sync workers), POST /api/v1/sync/push
                   with each phone's bearer token; 100-item batches of check_in/check_out items
                   with a genuine door-plate QR and a fix at the elder's door; 5% of each batch are
                   items resent from the phone's earlier batches (answered `duplicate`).

All three send the same batches (the same item UUIDs, into three different tables). Everything
runs in a private database, carerounds_bench_push, dropped at the end; traffic is loopback only.
Every load loop is bounded by its pool of prebuilt batches and by a deadline.

--db: how the real server reaches PostgreSQL: `direct` (psycopg prepares its statements),
`unprepared` (CARE_DB_PREPARED=off) or `pgbouncer` (unprepared, through a PgBouncer in transaction
mode with as many server connections as gunicorn workers; PgBouncer's own CPU is not counted).
"""

import argparse
import contextlib
import http.client
import json
import math
import multiprocessing as mp
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import benchlib
import naive_app
import psycopg
from benchlib import REPO, SECRETS, Server

from sync.items import item_fingerprint
from sync.plates import make_payload, new_plate_id
from sync.rules import haversine_m

DB_NAME = "carerounds_bench_push"
ELDERS_PER_PHONE = 20
CLIENT_PROCS = benchlib.WORKERS
TZ8 = timezone(timedelta(hours=8))
TARGET_RATE = 5_000
TARGET_RATIO = 0.25
DRAIN_SECONDS = 20


# ------------------------------------------------------------------ seeding

def seed(url: str, phones: int, tasks_per_phone: int, now: datetime) -> list[dict]:
    """Regions, a provider, `phones` caregivers, their elders with door plates, their tasks.

    Returns one spec per phone: who logs in, and the tasks, elders and plates its items refer to.
    """
    pw = benchlib.password_hash()
    key = SECRETS["CARE_QR_SECRET"].encode()
    created = now - timedelta(days=1)
    window_start, window_end = now - timedelta(hours=4), now + timedelta(hours=2)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        parent = None
        path = "/"
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
        specs = []
        for p in range(phones):
            username = f"bench_cg_{p:03d}"
            cur.execute("INSERT INTO users (username, password_hash, role, display_name, is_active, provider_id, "
                        "version, created_at, updated_at) VALUES (%s, %s, 'caregiver', %s, true, %s, 1, %s, %s) "
                        "RETURNING id", (username, pw, f"护理员{p}", provider, now, now))
            specs.append({"user_id": cur.fetchone()[0], "username": username, "device_id": f"bench-phone-{p:03d}",
                          "seed": p, "elders": {}, "tasks": []})
        rng = random.Random(7)
        with cur.copy("COPY elders (name, gender, birth_on, address, lat, lon, community_id, risk_tier, care_notes, "
                      "emergency_contacts, is_active, status, version, change_seq, created_at, updated_at) FROM STDIN"
                      ) as copy:
            for p in range(phones):
                for k in range(ELDERS_PER_PHONE):
                    copy.write_row((f"老人{p}-{k}", "female", "1940-05-17", f"压测路{p}号{k}室",
                                    41.70 + rng.random() * 0.2, 123.30 + rng.random() * 0.2, community, "general",
                                    "", "[]", True, "active", 1, 1, now, now))
        cur.execute("SELECT id, lat, lon FROM elders ORDER BY id")
        elders = cur.fetchall()
        plates = []
        for n, (elder_id, lat, lon) in enumerate(elders):
            plate_id = new_plate_id()
            plates.append((elder_id, plate_id, 1, "static", f"BENCH-{n + 1:06d}", "active", now))
            specs[n // ELDERS_PER_PHONE]["elders"][elder_id] = [lat, lon, make_payload(key, plate_id, 1), None]
        with cur.copy("COPY door_plates (elder_id, plate_id, key_version, kind, serial, status, issued_at) "
                      "FROM STDIN") as copy:
            for row in plates:
                copy.write_row(row)
        cur.execute("SELECT elder_id, id FROM door_plates")
        for elder_id, plate_row in cur.fetchall():
            for spec in specs:
                if elder_id in spec["elders"]:
                    spec["elders"][elder_id][3] = plate_row
        cur.execute("CREATE TEMP TABLE phone_elders (user_id int, elder_id int)")
        with cur.copy("COPY phone_elders FROM STDIN") as copy:
            for spec in specs:
                for elder_id in spec["elders"]:
                    copy.write_row((spec["user_id"], elder_id))
        benchlib.check_required(cur, "tasks", benchlib.SEEDED_TASK_COLUMNS)
        extra_cols, extra_values = benchlib.optional_columns(cur, "tasks", {
            "community_id": str(int(community)), "provider_id": str(int(provider))})
        cur.execute(f"""
            INSERT INTO tasks (kind, service_type, elder_id, assignee_id, source_key, window_start_at, window_end_at,
                               min_duration_minutes, status, status_changed_at, late_after_at, missed_after_at,
                               version, change_seq, created_at, updated_at{extra_cols})
            SELECT 'service', 'meal', pe.elder_id, pe.user_id, 'bench:' || pe.elder_id || ':' || g, %(ws)s, %(we)s,
                   20, 'scheduled', %(created)s, %(ws)s + interval '30 minutes', %(we)s + interval '2 hours',
                   1, 1, %(created)s, %(created)s{extra_values}
            FROM phone_elders pe CROSS JOIN generate_series(1, %(per)s) g
            ORDER BY pe.user_id, g, pe.elder_id
        """, {"ws": window_start, "we": window_end, "created": created, "per": tasks_per_phone // ELDERS_PER_PHONE})
        cur.execute("INSERT INTO sync_clock (id, value) VALUES (1, 1)")
        for table in ("bench_bare_items", "bench_naive_items"):
            cur.execute(f"CREATE TABLE {table} (LIKE visit_items INCLUDING ALL)")
            # Since visit_items is partitioned (migration 0016) the copy's key is (id, window_start_at)
            # and it has that column: the references stay the plain table keyed by the item's id
            # they always were, which the real server's claim table and partitions are measured against.
            cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey, ADD PRIMARY KEY (id)")
            cur.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS window_start_at")
        by_user = {spec["user_id"]: spec for spec in specs}
        cur.execute("SELECT assignee_id, id, elder_id FROM tasks ORDER BY assignee_id, id")
        for user_id, task_id, elder_id in cur.fetchall():
            by_user[user_id]["tasks"].append((task_id, elder_id))
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return specs


# ------------------------------------------------------------------ the phones' batches

class Batch:
    __slots__ = ("items", "rows", "new", "dup")

    def __init__(self, items, rows, new, dup):
        self.items, self.rows, self.new, self.dup = items, rows, new, dup


def build_phone(spec: dict, batch_size: int, dup_share: float, now: datetime) -> list[Batch]:
    """The phone's outbox cut into batches: its check-ins and check-outs in capture order, each
    batch after the first carrying `dup_share` of items resent from earlier batches."""
    rng = random.Random(spec["seed"])
    tasks = spec["tasks"]
    base = now - timedelta(hours=3)
    step = 7200 / len(tasks)
    events = []
    for k, (task_id, elder_id) in enumerate(tasks):
        at = base + timedelta(seconds=k * step)
        events.append((at, 0, task_id, elder_id))
        events.append((at + timedelta(minutes=25), 1, task_id, elder_id))
    events.sort()
    received = now.isoformat()
    items, rows = [], []
    for seq, (at, kind, task_id, elder_id) in enumerate(events):
        lat, lon, qr, plate_row = spec["elders"][elder_id]
        fix_lat, fix_lon = lat + rng.uniform(-1e-4, 1e-4), lon + rng.uniform(-1e-4, 1e-4)  # within ~15 m
        item = {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "seq": seq,
                "type": "check_out" if kind else "check_in", "task_id": task_id,
                "captured_at": at.astimezone(TZ8).isoformat(timespec="seconds"), "qr": qr,
                "location": {"lat": round(fix_lat, 6), "lon": round(fix_lon, 6), "accuracy_m": 8.0}}
        if kind:
            item["services"] = [{"service_type": "meal", "outcome": "done", "reason": None}]
            item["satisfaction"] = 5
            item["signature"] = {"signer": "elder", "confirmed": True, "image_sha256": None}
        text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
        items.append(text)
        rows.append((item["id"], spec["user_id"], spec["device_id"], seq, item["type"], task_id,
                     item["captured_at"], item["captured_at"], received, 0.0, "qr_verified", plate_row,
                     item["location"]["lat"], item["location"]["lon"], 8.0,
                     round(haversine_m(lat, lon, item["location"]["lat"], item["location"]["lon"]), 1),
                     '["qr_verified"]', item_fingerprint(item), text))
    batches, sent, pos = [], [], 0
    resend = round(batch_size * dup_share)
    while pos < len(items):
        old = rng.sample(sent, resend) if len(sent) >= resend and sent else []
        fresh = list(range(pos, min(len(items), pos + batch_size - len(old))))
        pos += len(fresh)
        chosen = sorted(old) + fresh
        batches.append(Batch([items[i] for i in chosen], [rows[i] for i in chosen], len(fresh), len(old)))
        sent += fresh
    return batches


# ------------------------------------------------------------------ client processes

def client_main(conn, specs, batch_size, dup_share, now, url):
    phones = [(spec, build_phone(spec, batch_size, dup_share, now)) for spec in specs]
    conn.send(("built", sum(len(b) for _, b in phones)))
    while True:
        command = conn.recv()
        if command[0] == "quit":
            return
        kind, args = command[0], command[1]
        if kind == "bare":
            conn.send(run_bare(phones, url, **args))
        else:
            conn.send(run_http(phones, kind, **args))


def run_bare(phones, url, start_at, stop_at):
    records, exhausted = [], None
    order = [(spec, b[i]) for i in range(max(len(b) for _, b in phones)) for spec, b in phones if i < len(b)]
    sql = {}
    with psycopg.connect(url) as db:
        _sleep_until(start_at)
        for _, batch in order:
            if time.monotonic() >= stop_at:
                break
            n = len(batch.rows)
            if n not in sql:
                sql[n] = naive_app.insert_sql(n, "bench_bare_items")
            t0 = time.monotonic()
            with db.cursor() as cur:
                cur.execute(sql[n], [v for row in batch.rows for v in row])
                inserted = cur.rowcount
            db.commit()
            t1 = time.monotonic()
            records.append((t1, n, inserted, n - inserted, 0, 0, 200, t1 - t0, batch.dup))
        else:
            exhausted = time.monotonic()
    return {"records": records, "exhausted": [exhausted] if exhausted else []}


def run_http(phones, kind, port, start_at, stop_at, tokens):
    path = "/push" if kind == "naive" else "/api/v1/sync/push"
    records, exhausted, lock = [], [], threading.Lock()

    def phone_loop(spec, batches):
        headers = {"Content-Type": "application/json", "X-Bench-Phase": kind}
        if kind == "real":
            headers["Authorization"] = "Bearer " + tokens[spec["device_id"]]
        prefix = '{"device_id":"' + spec["device_id"] + '","device_time":"'
        mine = []
        _sleep_until(start_at)
        for batch in batches:
            if time.monotonic() >= stop_at:
                break
            body = (prefix + datetime.now(TZ8).isoformat() + '","items":[' + ",".join(batch.items) + "]}").encode()
            t0 = time.monotonic()
            # Sync workers close every connection, so each batch opens its own. An answer that has not
            # come DRAIN_SECONDS after the deadline is given up: status 0, "unanswered".
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=stop_at - t0 + DRAIN_SECONDS)
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                mine.append((time.monotonic(), len(batch.items), 0, 0, 0, 0, 0, time.monotonic() - t0, batch.dup))
                continue
            finally:
                conn.close()
            t1 = time.monotonic()
            if response.status != 200:
                mine.append((t1, len(batch.items), 0, 0, 0, 0, response.status, t1 - t0, batch.dup))
                continue
            answer = json.loads(data)
            if kind == "naive":
                new = answer["inserted"]
                mine.append((t1, len(batch.items), new, len(batch.items) - new, 0, 0, 200, t1 - t0, batch.dup))
            else:
                statuses = Counter(r["status"] for r in answer["results"])
                verified = sum(1 for r in answer["results"]
                               if r["status"] == "accepted" and r["flags"] == ["qr_verified"])
                mine.append((t1, len(batch.items), statuses["accepted"], statuses["duplicate"], statuses["rejected"],
                             verified, 200, t1 - t0, batch.dup))
        else:
            with lock:
                exhausted.append(time.monotonic())
        with lock:
            records.extend(mine)

    threads = [threading.Thread(target=phone_loop, args=phone) for phone in phones]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"records": records, "exhausted": exhausted}


def _sleep_until(at: float) -> None:
    delay = at - time.monotonic()
    if delay > 0:
        time.sleep(delay)


class Clients:
    def __init__(self, specs, batch_size, dup_share, now, url):
        ctx = mp.get_context("fork")
        self.pipes, self.procs = [], []
        procs = min(CLIENT_PROCS, len(specs))
        for n in range(procs):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=client_main, args=(child, specs[n::procs], batch_size, dup_share, now, url),
                               daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)
        self.batches = sum(pipe.recv()[1] for pipe in self.pipes)

    def run(self, kind, warmup, measure, cpu_pids, own_pids=lambda: [], **args):
        """One phase: every client process starts at the same instant and stops sending at the
        deadline. CPU is accounted for `cpu_pids()` (server workers and their PostgreSQL backends),
        and separately for `own_pids()` (the part of them that is not PostgreSQL)."""
        meter = benchlib.CpuMeter(cpu_pids)
        own = benchlib.CpuMeter(own_pids)
        client_pids = [proc.pid for proc in self.procs]
        clients = benchlib.CpuMeter(lambda: [pid for pid in client_pids if pid not in meter.before])
        meter.start()
        own.start()
        clients.start()
        start_at = time.monotonic() + 0.5
        stop_at = start_at + warmup + measure
        for pipe in self.pipes:
            pipe.send((kind, dict(args, start_at=start_at, stop_at=stop_at)))
        parts = [pipe.recv() for pipe in self.pipes]
        meter.stop()
        own.stop()
        clients.stop()
        meter.own = own.ours
        meter.others = meter.machine - meter.ours - clients.ours
        records = [r for part in parts for r in part["records"]]
        exhausted = [t for part in parts for t in part["exhausted"]]
        return Phase(kind, records, start_at + warmup, min([stop_at] + exhausted), exhausted, meter)

    def close(self):
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("quit",))
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()


class Phase:
    """The records of one phase: (done_at, items, new, duplicate, rejected, verified, http_status,
    latency, duplicates_sent) per batch, the measuring window and the CPU it cost."""

    def __init__(self, kind, records, w0, w1, exhausted, meter):
        self.kind, self.records, self.w0, self.w1, self.exhausted = kind, records, w0, w1, exhausted
        inside = [r for r in records if w0 <= r[0] < w1]
        self.seconds = max(w1 - w0, 1e-9)
        self.rate_new = sum(r[2] for r in inside) / self.seconds
        self.rate_items = sum(r[1] for r in inside) / self.seconds
        self.rate_verified = sum(r[5] for r in inside) / self.seconds
        answered = [r for r in records if r[6] == 200]
        self.totals = [sum(r[i] for r in answered) for i in range(1, 6)] + [sum(r[8] for r in answered)]
        self.unanswered_items = sum(r[1] for r in records if r[6] != 200)
        self.http_errors = Counter(r[6] for r in records if r[6] != 200)
        self.latencies = [r[7] * 1000 for r in inside]
        # CPU milliseconds per item offered (new or resent), over the whole phase.
        offered = max(1, self.totals[0] + self.unanswered_items)
        self.cpu_ms_per_item = 1000 * meter.ours / offered
        self.own_cpu_ms_per_item = 1000 * meter.own / offered  # of which outside PostgreSQL
        self.others_cpus = max(0.0, meter.others / meter.elapsed)  # neither the server nor the load generator
        self.meter = meter


# ------------------------------------------------------------------ checks

def check_database(url: str, phase: Phase) -> list[str]:
    """Compare what the server answered with what it stored."""
    items, accepted, duplicate, rejected, verified, dup_sent = phase.totals
    problems = []
    with psycopg.connect(url) as conn:
        stored, stored_verified, clean = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE qr_flag = 'qr_verified'), "
            "count(*) FILTER (WHERE flags::jsonb = '[\"qr_verified\"]'::jsonb) FROM visit_items").fetchone()
        quarantined = conn.execute("SELECT count(*) FROM quarantined_items").fetchone()[0]
        visits, visits_verified = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE is_verified AND NOT needs_review) FROM visits").fetchone()
        statuses = dict(conn.execute("SELECT status, count(*) FROM tasks GROUP BY status").fetchall())
    print(f"  database: {stored:,} visit_items ({stored_verified:,} qr_verified, {clean:,} with no other flag), "
          f"{quarantined} quarantined, {visits:,} visits ({visits_verified:,} verified, not for review), "
          f"tasks {statuses}")
    if not accepted <= stored <= accepted + phase.unanswered_items:
        problems.append(f"server answered {accepted} accepted ({phase.unanswered_items} items unanswered) but "
                        f"stored {stored}")
    if phase.unanswered_items:
        print(f"  {phase.unanswered_items:,} items were in batches still unanswered {DRAIN_SECONDS}s after the "
              "deadline; the server was stopped (uncommitted work rolled back) before this check")
    if stored_verified != stored or clean != stored:
        problems.append(f"{stored - clean} stored items carry flags besides qr_verified")
    if rejected or quarantined:
        problems.append(f"{rejected} rejected items, {quarantined} quarantined")
    if duplicate != dup_sent:
        problems.append(f"{dup_sent} resent items but {duplicate} answered duplicate")
    if verified != accepted:
        problems.append(f"{accepted - verified} accepted items were not clean qr_verified")
    return problems


# ------------------------------------------------------------------ profiling (scratch runs)

def profile_workers(server: Server, seconds: float, out_dir: Path) -> list[subprocess.Popen]:
    procs = []
    for pid in server.worker_pids():
        out = out_dir / f"pyspy-{pid}.txt"
        procs.append(subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--duration", str(int(seconds)),
                                       "--rate", "200", "--format", "raw", "--nonblocking", "-o", str(out)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


def summarize_profile(out_dir: Path, top: int = 30) -> None:
    inclusive, own, total = Counter(), Counter(), 0
    for path in out_dir.glob("pyspy-*.txt"):
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack:
                continue
            n = int(count)
            frames = [_short(f) for f in stack.split(";")]
            total += n
            for frame in set(frames):
                inclusive[frame] += n
            own[frames[-1]] += n
    if not total:
        print("  (py-spy recorded nothing)")
        return
    print(f"  py-spy, {total} samples over the workers; inclusive share of worker time:")
    for frame, n in inclusive.most_common(200):
        if any(key in frame for key in ("backend/", "sync/", "schemas/", "psycopg", "sqlalchemy/orm/session",
                                        "marshmallow/schema", "flask_smorest", "json/")) and n / total > 0.01:
            print(f"    {100 * n / total:5.1f}%  {frame}")
    print("  own (leaf) time:")
    for frame, n in own.most_common(top):
        print(f"    {100 * n / total:5.1f}%  {frame}")


def _short(frame: str) -> str:
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", str(REPO) + "/", "lib/python3"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where.rsplit(':', 1)[0]})"


# ------------------------------------------------------------------ main

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phones", type=int, default=64)
    parser.add_argument("--tasks-per-phone", type=int, default=3600, help="pool size; each task gives 2 items")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds of the real server")
    parser.add_argument("--ref-seconds", type=float, default=6, help="measured seconds of each reference")
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--profile", action="store_true", help="scratch run: py-spy the real server's workers "
                                                               "(the figures are then not comparable)")
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument("--db", choices=("direct", "unprepared", "pgbouncer"), default="direct",
                        help="how the real server reaches PostgreSQL")
    args = parser.parse_args()
    started = time.monotonic()
    info = benchlib.machine()
    benchlib.print_machine(info)
    url = benchlib.create_database(DB_NAME)
    servers, clients = [], None
    try:
        with benchlib.workdir(args.keep_logs) as work, contextlib.ExitStack() as stack:
            instance = os.path.join(work, "instance")
            t = time.monotonic()
            benchlib.migrate(url, instance)
            now = datetime.now(UTC)
            specs = seed(url, args.phones, args.tasks_per_phone, now)
            print(f"seeded {args.phones} phones x {args.tasks_per_phone} tasks in {time.monotonic() - t:.1f}s")
            env = benchlib.server_env(url, instance)
            real_url = url
            if args.db == "pgbouncer":
                real_url = stack.enter_context(benchlib.pgbouncer(url, work))
            real_env = benchlib.server_env(real_url, instance,
                                           **({} if args.db == "direct" else {"CARE_DB_PREPARED": "off"}))
            print(f"real server: {args.db}")
            real = Server("backend:create_app()", real_env, work, "real")
            servers.append(real)
            naive = Server("naive_app:create()", env, work, "naive", pythonpath=str(benchlib.BENCH))
            servers.append(naive)
            real.wait_ready("/api/v1/openapi.json")
            naive.wait_ready("/ready")
            tokens = {spec["device_id"]: benchlib.login(real.port, spec["username"], spec["device_id"])
                      for spec in specs}
            t = time.monotonic()
            clients = Clients(specs, 100, 0.05, now, url)
            print(f"built {clients.batches:,} batches of 100 items in {time.monotonic() - t:.1f}s; "
                  f"{args.phones} phones over {len(clients.procs)} client processes; gunicorn {benchlib.WORKERS} "
                  "sync workers")

            def checkpoint():
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("CHECKPOINT")

            def pids(*owners):
                return lambda: [pid for owner in owners for pid in owner()] + benchlib.backend_pids(url, DB_NAME)

            client_pids = [proc.pid for proc in clients.procs]
            checkpoint()
            bare = clients.run("bare", args.warmup, args.ref_seconds, pids(lambda: client_pids), lambda: client_pids)
            checkpoint()
            naive_phase = clients.run("naive", args.warmup, args.ref_seconds, pids(naive.worker_pids),
                                      naive.worker_pids, port=naive.port, tokens=tokens)
            checkpoint()
            profiling = profile_workers(real, args.warmup + args.seconds, Path(work)) if args.profile else []
            real_phase = clients.run("real", args.warmup, args.seconds, pids(real.worker_pids),
                                     real.worker_pids, port=real.port, tokens=tokens)
            for proc in profiling:
                proc.wait(timeout=60)
            real.stop()  # whatever it still works on is rolled back, so the database check is exact
            naive.stop()
            report(url, bare, naive_phase, real_phase, real.timings("real"), naive.timings("naive"), args)
            if args.profile:
                summarize_profile(Path(work))
            print(f"whole run {time.monotonic() - started:.0f}s")
    finally:
        if clients:
            clients.close()
        for server in servers:
            server.stop()
        benchlib.drop_database(DB_NAME)
    return 0


def report(url, bare, naive_phase, real_phase, server_ms, naive_ms, args) -> None:
    print()
    for phase in (bare, naive_phase, real_phase):
        items, new, dup, rej, verified, dup_sent = phase.totals
        note = f", pool exhausted after {phase.seconds:.1f}s" if phase.exhausted else ""
        print(f"  {phase.kind:5}: {len(phase.records):,} batches, {items:,} items: {new:,} new, {dup:,} duplicate "
              f"({dup_sent:,} resent), {rej} rejected, HTTP errors {dict(phase.http_errors)}{note}")
        if phase.kind == "bare":
            split = "the clients only: their backends end before the phase's CPU is read"
        else:
            split = (f"gunicorn workers {phase.own_cpu_ms_per_item:.3f} "
                     f"+ postgres {phase.cpu_ms_per_item - phase.own_cpu_ms_per_item:.3f}")
        print(f"         batch latency (client) p50 {benchlib.percentile(phase.latencies, 50):.1f} ms, "
              f"p99 {benchlib.percentile(phase.latencies, 99):.1f} ms; CPU {phase.cpu_ms_per_item:.3f} ms per item "
              f"({split}); other load on the machine {phase.others_cpus:.2f} CPUs")
    print(f"  server time per batch (gunicorn hooks): real p50 {benchlib.percentile(server_ms, 50):.1f} ms, "
          f"p99 {benchlib.percentile(server_ms, 99):.1f} ms; naive p50 {benchlib.percentile(naive_ms, 50):.1f} ms, "
          f"p99 {benchlib.percentile(naive_ms, 99):.1f} ms")
    problems = check_database(url, real_phase)
    for problem in problems:
        print(f"  CHECK FAILED: {problem}")
    rate = real_phase.rate_verified
    ratio_naive = rate / naive_phase.rate_new if naive_phase.rate_new else math.nan
    ratio_bare = rate / bare.rate_new if bare.rate_new else math.nan
    cost_ratio = naive_phase.cpu_ms_per_item / real_phase.cpu_ms_per_item if real_phase.cpu_ms_per_item else math.nan
    print()
    benchlib.print_table([
        ("real push: verified check-ins accepted/s", f"{rate:,.0f}", "", "", f">= {TARGET_RATE:,}",
         "PASS" if rate >= TARGET_RATE and not problems else "FAIL"),
        ("  all items answered/s (incl. 5% resends)", f"{real_phase.rate_items:,.0f}", "", "", "", ""),
        ("bare INSERT..ON CONFLICT, 100-row tx, 4 conns", f"{bare.rate_new:,.0f}", "", "", "", ""),
        ("naive endpoint, same gunicorn settings", f"{naive_phase.rate_new:,.0f}", "", "", "", ""),
        ("real / naive endpoint", f"{rate:,.0f}", f"{naive_phase.rate_new:,.0f}", f"{ratio_naive:.3f}",
         f">= {TARGET_RATIO}", "PASS" if ratio_naive >= TARGET_RATIO else "FAIL"),
        ("real / bare insert", f"{rate:,.0f}", f"{bare.rate_new:,.0f}", f"{ratio_bare:.3f}", "reported", ""),
        ("CPU ms per item: real vs naive", f"{real_phase.cpu_ms_per_item:.3f}",
         f"{naive_phase.cpu_ms_per_item:.3f}", f"{cost_ratio:.3f}", "reported", ""),
        ("server checks (responses vs database)", "ok" if not problems else f"{len(problems)} failed", "", "",
         "all ok", "PASS" if not problems else "FAIL"),
    ], ("figure", "value", "reference", "ratio", "target", "result"))
    print(f"measured {args.seconds:g}s (real) and {args.ref_seconds:g}s (each reference) after {args.warmup:g}s "
          f"of warm-up; {args.phones} phones, 100-item batches, 5% resent")


if __name__ == "__main__":
    sys.exit(main())
