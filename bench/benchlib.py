"""Shared plumbing of the sync benchmarks: a private PostgreSQL database, the real server under
gunicorn on loopback, server-side request timings, machine facts and the result table.

Nothing here touches any database but the one a benchmark names for itself, and every server
listens on 127.0.0.1 only.
"""

import contextlib
import glob
import http.client
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from importlib import metadata
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# Secrets shared by every gunicorn worker and by the seeding code (plates must verify).
SECRETS = {
    "CARE_SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
    "CARE_TOKEN_SECRET": "bench-token-secret-0123456789abcdef0123456789",
    "CARE_QR_SECRET": "bench-qr-secret-0123456789abcdef0123456789ab",
}
PASSWORD = "bench-password-123"
WORKERS = 4  # gunicorn sync workers, for the real server and the naive endpoint alike


# ------------------------------------------------------------------ the benchmark's own database

def db_url(name: str) -> str:
    base = ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def create_database(name: str) -> str:
    if not name.startswith("carerounds_bench"):
        raise ValueError("benchmarks only create databases named carerounds_bench*")
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return db_url(name)


def drop_database(name: str) -> None:
    if not name.startswith("carerounds_bench"):
        raise ValueError("benchmarks only drop databases named carerounds_bench*")
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(url: str, instance: str, **extra) -> dict:
    env = dict(os.environ, DATABASE_URL=url, CARE_INSTANCE_PATH=instance, **SECRETS)
    env.update({k: str(v) for k, v in extra.items()})
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


@contextlib.contextmanager
def pgbouncer(url: str, work: str, pool_size: int = WORKERS):
    """PgBouncer in transaction mode before `url`'s database (`pool_size` server connections) on a
    free port, as deploy/pgbouncer.ini has it; yields the URL that goes through it. As root it
    runs as `postgres` (PgBouncer refuses root)."""
    import pwd

    from sqlalchemy import make_url

    server = make_url(url)
    folder = Path(work) / "pgbouncer"
    folder.mkdir()
    port = free_port()
    (folder / "pgbouncer.ini").write_text(
        f"[databases]\n{server.database} = host={server.host} port={server.port or 5432} dbname={server.database}"
        f" user={server.username}\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder}/users.txt\npool_mode = transaction\n"
        f"default_pool_size = {pool_size}\nmax_client_conn = 1000\nlogfile = {folder}/pgbouncer.log\n")
    (folder / "users.txt").write_text(f'"{server.username}" ""\n')
    command = [shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (Path(work), folder):
            os.chown(path, user.pw_uid, user.pw_gid)
        command = ["runuser", "-u", "postgres", "--", *command]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    bounced = f"postgresql://{server.username}@127.0.0.1:{port}/{server.database}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(bounced, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("pgbouncer did not start") from None
                time.sleep(0.1)
        yield bounced
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def migrate(url: str, instance: str) -> None:
    """`carerounds db upgrade` against the benchmark database."""
    done = subprocess.run([sys.executable, "-m", "backend.cli", "db", "upgrade"], cwd=REPO,
                          env=server_env(url, instance), capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise RuntimeError(f"`carerounds db upgrade` failed:\n{done.stderr[-3000:]}")


def password_hash() -> str:
    # A cheap hash: logins are set-up, not what is measured. check_password_hash reads any method.
    from werkzeug.security import generate_password_hash

    return generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


# The task columns the seeds fill (community_id and provider_id where the schema has them).
SEEDED_TASK_COLUMNS = {
    "id", "kind", "service_type", "elder_id", "assignee_id", "source_key", "window_start_at", "window_end_at",
    "min_duration_minutes", "status", "status_changed_at", "late_after_at", "missed_after_at", "version",
    "change_seq", "created_at", "updated_at", "community_id", "provider_id",
}


def optional_columns(cur, table: str, wanted: dict[str, str]) -> tuple[str, str]:
    """The (column list, value list) SQL fragments for those of `wanted` (column → SQL value) that
    `table` has, for columns other work may have added. Fails clearly on a required column the
    seed does not know, rather than with a constraint error."""
    cur.execute("SELECT column_name, is_nullable = 'YES' OR column_default IS NOT NULL "
                "FROM information_schema.columns WHERE table_name = %s AND table_schema = current_schema()", (table,))
    columns = dict(cur.fetchall())
    present = {name: value for name, value in wanted.items() if name in columns}
    return "".join(f", {name}" for name in present), "".join(f", {value}" for value in present.values())


def check_required(cur, table: str, known: set[str]) -> None:
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s AND is_nullable = 'NO' "
                "AND column_default IS NULL AND table_schema = current_schema()", (table,))
    unknown = {row[0] for row in cur.fetchall()} - known
    if unknown:
        raise RuntimeError(f"{table} has required columns the benchmark seed does not fill: {sorted(unknown)}")


# ------------------------------------------------------------------ servers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with WORKERS (or `workers`) sync workers on 127.0.0.1 and the bench timing hooks.

    `worker_class` and `threads` are for a phase that must run as `carerounds serve` does (the
    audit export on gthread workers); the push benchmark's real and naive servers stay sync."""

    def __init__(self, app: str, env: dict, log_dir: str, name: str, pythonpath: str | None = None,
                 workers: int = WORKERS, timeout: int = 60, worker_class: str = "sync", threads: int = 1):
        self.port = free_port()
        self.timing_dir = Path(log_dir) / f"timing-{name}"
        self.timing_dir.mkdir(parents=True, exist_ok=True)
        env = dict(env, BENCH_TIMING_DIR=str(self.timing_dir))
        args = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", worker_class, "--threads", str(threads),
                "-b", f"127.0.0.1:{self.port}", "--timeout", str(timeout), "--graceful-timeout", "5",
                "--backlog", "2048", "-c", str(BENCH / "gunicorn_conf.py")]
        if pythonpath:
            args += ["--pythonpath", pythonpath]
        self.log_path = Path(log_dir) / f"gunicorn-{name}.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args + [app], cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}:\n{self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path)
                if conn.getresponse().status < 500:
                    conn.close()
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout}s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def stop(self) -> None:
        if self.log.closed:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()

    def timings(self, phase: str) -> list[float]:
        """Server-side durations (ms) of the requests sent with header X-Bench-Phase: phase."""
        out = []
        for path in glob.glob(str(self.timing_dir / "*.log")):
            with open(path) as f:
                for line in f:
                    tag, ms = line.split()
                    if tag == phase:
                        out.append(float(ms))
        return out


def http_json(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    import json

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, (json.loads(data) if data else None)


def timed_get(port: int, path: str, headers: dict, timeout: float = 30) -> tuple[float, int, bytes]:
    """One GET on a fresh connection: (milliseconds until the whole body arrived, status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t0 = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - t0) * 1000
    conn.close()
    return elapsed, response.status, body


def login(port: int, username: str, device_id: str) -> str:
    import json

    status, body = http_json(port, "POST", "/api/v1/auth/login", json.dumps(
        {"username": username, "password": PASSWORD, "device_id": device_id}).encode())
    if status != 200:
        raise RuntimeError(f"login of {username} failed: {status} {body}")
    return body["access_token"]


# ------------------------------------------------------------------ CPU accounting

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> float:
    """User + system CPU seconds consumed so far by these processes (those still alive)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


def backend_pids(url: str, database: str) -> list[int]:
    """The PostgreSQL backends connected to `database`, other than the one asking."""
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (database,))]


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot, whoever used them."""
    parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(parts) - parts[3] - parts[4]) / _TICK


class CpuMeter:
    """CPU seconds used by a changing set of processes between start() and stop(), and by the
    rest of the machine (other sessions' tests, say) over the same time."""

    def __init__(self, pids):
        self.pids = pids  # a callable: the processes to account, asked at start and at stop

    def start(self):
        self.before = {pid: cpu_seconds([pid]) for pid in self.pids()}
        self.busy0, self.t0 = machine_busy_seconds(), time.monotonic()

    def stop(self):
        pids = set(self.pids()) | set(self.before)
        self.ours = sum(cpu_seconds([pid]) - self.before.get(pid, 0.0) for pid in pids)
        self.elapsed = time.monotonic() - self.t0
        self.machine = machine_busy_seconds() - self.busy0
        return self


# ------------------------------------------------------------------ figures

def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, int(-(-p * len(ordered) // 100)))
    return ordered[min(rank, len(ordered)) - 1]


def machine() -> dict:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "?"
    with contextlib.suppress(OSError):
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    with psycopg.connect(ADMIN_URL) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("flask", "sqlalchemy", "psycopg", "gunicorn"))
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram": ram, "postgresql": pg,
            "python": platform.python_version(), "packages": versions, "kernel": platform.release()}


def print_machine(info: dict) -> None:
    print(f"machine: nproc={info['nproc']} cpu={info['cpu']!r} ram={info['ram']} kernel={info['kernel']}")
    print(f"         PostgreSQL {info['postgresql']}, Python {info['python']}, {info['packages']}")


def print_table(rows: list[tuple], headers: tuple) -> None:
    cells = [tuple(str(c) for c in headers)] + [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    print(line)
    for n, row in enumerate(cells):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            print(line)
    print(line)


@contextlib.contextmanager
def workdir(keep: bool = False):
    path = tempfile.mkdtemp(prefix="carerounds-bench-")
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)
        else:
            print(f"(kept logs in {path})")


# ------------------------------------------------------------------ large seeds (sweep, audit)

def other_load(meter: CpuMeter) -> float:
    """CPUs used by everything but the measured processes while `meter` ran (other sessions'
    tests, this client included when it is not among the measured pids)."""
    return max(0.0, meter.machine - meter.ours) / meter.elapsed if meter.elapsed else float("nan")


def drop_plain_indexes(cur, tables: list[str]) -> list[str]:
    """Drop the indexes of `tables` that back no constraint (keys and unique constraints stay),
    for a bulk load; returns their definitions for create_indexes()."""
    cur.execute("""
        SELECT indexdef, indexname FROM pg_indexes i
        WHERE tablename = ANY(%s) AND schemaname = current_schema()
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
    """, (tables,))
    found = cur.fetchall()
    for _, name in found:
        cur.execute(f'DROP INDEX "{name}"')
    return [definition for definition, _ in found]


def set_sweep_floor(conn) -> None:
    """The sweep's floor (migration 0020: no scheduled task starts before it) set from the tasks,
    after writes its trigger does not follow: a load with triggers off, tasks put back to
    scheduled. The caller commits."""
    conn.execute("UPDATE sweep_floor SET starts_at = (SELECT min(window_start_at) FROM tasks "
                 "WHERE status = 'scheduled') WHERE id = 1")


def vacuum_after_load(url: str) -> None:
    """What triggers would have kept on a load made with them off (session_replication_role =
    replica): the sweep's floor (set_sweep_floor); then VACUUM ANALYZE."""
    with psycopg.connect(url, autocommit=True) as conn:
        set_sweep_floor(conn)
        conn.execute("VACUUM ANALYZE")


def create_indexes(cur, definitions: list[str]) -> None:
    """Build the indexes drop_plain_indexes() dropped. A partitioned table's index is listed as
    `ON ONLY <table>` (the parent alone, invalid until each partition's is attached): built
    without ONLY, PostgreSQL makes it on every partition."""
    for definition in definitions:
        cur.execute(definition.replace(" ON ONLY ", " ON ", 1))


def contiguous(ids: list[int], what: str) -> int:
    """The first of `ids`, after checking they are one run of consecutive numbers (seeds address
    rows by offset from it)."""
    ids = sorted(ids)
    if ids != list(range(ids[0], ids[0] + len(ids))):
        raise RuntimeError(f"{what} ids are not contiguous")
    return ids[0]


def seed_city(cur, now, *, streets: int, per_street: int, providers: int, managed: int, caregivers: int,
              elders: int) -> dict:
    """A district of `streets` streets with `per_street` communities each, by set-based SQL:

    - supervisors: bench_sup_district (the district), bench_sup_sNN (one per street);
    - `providers` providers in the district, the first `managed` with a manager (bench_mgr_NN, a
      supervisor account of the district); the others send their follow-ups to the region's supervisor;
    - `caregivers` caregivers bench_cg_NNNN, caregiver c working for provider c % providers;
    - `elders` elders, elder e living in community e % communities, served by provider
      e % providers under one active care plan each (plan id = plan0 + e), cared for by
      caregiver `caregiver_of(e)`; risk tier high/key/general 10/20/70%, categories for 60%.

    Every id range is contiguous; the returned dict holds the first id of each.
    """
    pw = password_hash()
    ids: dict = {}
    cur.execute("INSERT INTO regions (name, level, parent_id, path, created_at, updated_at) "
                "VALUES ('压测区', 'district', NULL, '', %s, %s) RETURNING id", (now, now))
    district = cur.fetchone()[0]
    cur.execute("UPDATE regions SET path = %s WHERE id = %s", (f"/{district}/", district))
    cur.execute("""
        INSERT INTO regions (name, level, parent_id, path, created_at, updated_at)
        SELECT '压测街道' || lpad(s::text, 2, '0'), 'street', %s, '', %s, %s FROM generate_series(1, %s) s
        ORDER BY s RETURNING id
    """, (district, now, now, streets))
    street0 = contiguous([r[0] for r in cur.fetchall()], "street")
    cur.execute("UPDATE regions SET path = %s || id || '/' WHERE parent_id = %s", (f"/{district}/", district))
    # community k (0-based) lies in street k // per_street
    cur.execute("""
        INSERT INTO regions (name, level, parent_id, path, created_at, updated_at)
        SELECT '压测社区' || lpad((k / %(per)s + 1)::text, 2, '0') || '-' || lpad((k %% %(per)s + 1)::text, 2, '0'),
               'community', %(street0)s + k / %(per)s, '', %(now)s, %(now)s
        FROM generate_series(0, %(n)s - 1) k ORDER BY k RETURNING id
    """, {"per": per_street, "street0": street0, "now": now, "n": streets * per_street})
    community0 = contiguous([r[0] for r in cur.fetchall()], "community")
    cur.execute("UPDATE regions c SET path = s.path || c.id || '/' FROM regions s "
                "WHERE c.parent_id = s.id AND c.level = 'community'")
    communities = streets * per_street
    cur.execute("""
        INSERT INTO providers (name, region_id, is_active, created_at, updated_at)
        SELECT '压测居家养老服务中心' || lpad(p::text, 2, '0'), %s, true, %s, %s FROM generate_series(1, %s) p
        ORDER BY p RETURNING id
    """, (district, now, now, providers))
    provider0 = contiguous([r[0] for r in cur.fetchall()], "provider")
    user_cols = "username, password_hash, role, display_name, is_active, region_id, provider_id, version, " \
                "created_at, updated_at"
    cur.execute(f"INSERT INTO users ({user_cols}) VALUES ('bench_sup_district', %s, 'supervisor', '区督导', true, "
                "%s, NULL, 1, %s, %s) RETURNING id", (pw, district, now, now))
    ids["district_supervisor"] = cur.fetchone()[0]
    cur.execute(f"""
        INSERT INTO users ({user_cols})
        SELECT 'bench_sup_s' || lpad(s::text, 2, '0'), %s, 'supervisor', '街道督导' || s, true, %s + s - 1, NULL, 1,
               %s, %s
        FROM generate_series(1, %s) s ORDER BY s
    """, (pw, street0, now, now, streets))
    cur.execute(f"""
        INSERT INTO users ({user_cols})
        SELECT 'bench_mgr_' || lpad(p::text, 2, '0'), %s, 'supervisor', '机构负责人' || p, true, %s, %s + p - 1, 1,
               %s, %s
        FROM generate_series(1, %s) p ORDER BY p RETURNING id
    """, (pw, district, provider0, now, now, managed))
    manager0 = contiguous([r[0] for r in cur.fetchall()], "manager") if managed else None
    if managed:
        cur.execute("UPDATE providers SET manager_id = %s + (id - %s) WHERE id < %s + %s",
                    (manager0, provider0, provider0, managed))
    cur.execute(f"""
        INSERT INTO users ({user_cols})
        SELECT 'bench_cg_' || lpad(c::text, 4, '0'), %s, 'caregiver', '护理员' || c, true, NULL, %s + c %% %s, 1,
               %s, %s
        FROM generate_series(0, %s - 1) c ORDER BY c RETURNING id
    """, (pw, provider0, providers, now, now, caregivers))
    caregiver0 = contiguous([r[0] for r in cur.fetchall()], "caregiver")
    check_required(cur, "elders", {"id", "name", "gender", "birth_on", "address", "community_id", "risk_tier",
                                   "care_notes", "emergency_contacts", "is_active", "status", "version", "change_seq",
                                   "created_at", "updated_at"})
    cur.execute("""
        INSERT INTO elders (name, gender, birth_on, address, phone, lat, lon, community_id, risk_tier, care_notes,
                            emergency_contacts, is_active, status, version, change_seq, created_at, updated_at)
        SELECT '老人' || e, CASE WHEN e %% 2 = 0 THEN 'female' ELSE 'male' END, date '1930-01-01' + (e %% 9000),
               '压测路' || e || '号', '139' || lpad(e::text, 8, '0'), 41.7 + (e %% 200) * 0.001,
               123.3 + (e / 200 %% 200) * 0.001, %(c0)s + e %% %(nc)s,
               CASE WHEN e %% 10 = 0 THEN 'high' WHEN e %% 10 < 3 THEN 'key' ELSE 'general' END, '敲门后多等一会',
               '[{"name": "家属", "relation": "son", "phone": "13800000000"}]', true, 'active', 1, 1, %(now)s, %(now)s
        FROM generate_series(0, %(n)s - 1) e ORDER BY e RETURNING id
    """, {"c0": community0, "nc": communities, "now": now, "n": elders})
    elder0 = contiguous([r[0] for r in cur.fetchall()], "elder")
    cur.execute("""
        INSERT INTO elder_categories (elder_id, category)
        SELECT id, (ARRAY['solitary', 'empty_nest', 'left_behind', 'advanced_age', 'low_income',
                          'disabled'])[(id - %s) %% 10 + 1]
        FROM elders WHERE (id - %s) %% 10 < 6
    """, (elder0, elder0))
    check_required(cur, "care_plans", {"id", "elder_id", "provider_id", "starts_on", "status", "revision",
                                       "revised_at", "version", "created_at", "updated_at"})
    cur.execute("""
        INSERT INTO care_plans (elder_id, provider_id, starts_on, status, revision, revised_at, version,
                                created_at, updated_at)
        SELECT id, %s + (id - %s) %% %s, date '2025-01-01', 'active', 1, %s, 1, %s, %s FROM elders ORDER BY id
        RETURNING id
    """, (provider0, elder0, providers, now, now, now))
    plan0 = contiguous([r[0] for r in cur.fetchall()], "care plan")
    return {"district": district, "district_path": f"/{district}/", "street0": street0, "streets": streets,
            "community0": community0, "communities": communities, "provider0": provider0, "providers": providers,
            "managed": managed, "caregiver0": caregiver0, "caregivers": caregivers, "elder0": elder0,
            "elders": elders, "plan0": plan0, **ids}


def caregiver_of(city: dict, elder_sql: str) -> str:
    """SQL: the caregiver id of elder offset `elder_sql` (0-based), one who works for its provider."""
    p, per = city["providers"], city["caregivers"] // city["providers"]
    # mod() rather than %: the fragment goes into queries with %(name)s placeholders
    return f"({city['caregiver0']} + mod({elder_sql}, {p}) + {p} * mod(({elder_sql}) / {p}, {per}))"


# ------------------------------------------------------------------ a schema partitioned by month

# Narrow unpartitioned tables holding the keys of a partitioned one (what foreign keys point at,
# what keeps an id unique across partitions), by the table whose ids they hold.
KEY_TABLES = {"task_keys": "tasks", "visit_keys": "visits", "visit_item_ids": "visit_items"}
# The tables that carry a copy of their task's window_start_at, their partition key (migration 0016).
WINDOW_COPIES = ("visits", "visit_items", "task_events")


def app_for(url: str, prefix: str = "carerounds-bench-app-"):
    """The Flask app on the benchmark database, in this process, with the bench secrets and a
    fresh instance folder (a temporary directory named by `prefix`)."""
    from backend import create_app

    config = {"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
              "INSTANCE_PATH": tempfile.mkdtemp(prefix=prefix),
              "SECRET_KEY": SECRETS["CARE_SECRET_KEY"], "TOKEN_SECRET": SECRETS["CARE_TOKEN_SECRET"],
              "QR_SECRET": SECRETS["CARE_QR_SECRET"]}
    return create_app(config)


def make_months(url: str, oldest: datetime, newest: datetime) -> None:
    """On a partitioned schema, every month of the seeded span made first (the migration makes
    only the months around today; the rest would land in the default partitions)."""
    try:
        from backend import partitions
    except ImportError:
        return
    from backend.clock import local_today
    from backend.extensions import db

    app = app_for(url)
    with app.app_context():
        for table in partitions.MONTHLY:
            partitions.ensure_months(db.session, table, local_today(oldest), local_today(newest))
        db.session.commit()
        db.engine.dispose()


def narrow_tables(cur, sources: dict[str, str] | None = None) -> dict:
    """What the schema's partitioning asks of a seed that runs without triggers: the copied
    partition columns of WINDOW_COPIES (`<table>_partition`: column-list and value fragments, the
    value being `sources[table]`, the task's window_start_at as the seed's SELECT names it,
    "window_start_at" unless given; both empty when the schema has no such column), and the
    statements filling the narrow key tables a trigger or the push keeps (KEY_TABLES, under
    "fill", to run once every row is in), when they exist."""
    def has(table, column=None):
        cur.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
                    "AND table_name = %s AND (%s::text IS NULL OR column_name = %s)", (table, column, column))
        return cur.fetchone()[0] > 0

    sources = sources or {}
    found: dict = {f"{table}_partition": ("", "") for table in WINDOW_COPIES}
    found["fill"] = []
    for table in WINDOW_COPIES:
        for column in ("task_window_start_at", "window_start_at"):
            if has(table, column):
                found[f"{table}_partition"] = (f", {column}", f", {sources.get(table, 'window_start_at')}")
                break
    for keys, source in KEY_TABLES.items():
        if has(keys):
            columns = "id, window_start_at" if has(keys, "window_start_at") and has(source, "window_start_at") else "id"
            found["fill"].append(f"INSERT INTO {keys} ({columns}) SELECT {columns} FROM {source}")
    return found


def check_default_partitions(url: str) -> None:
    """Fails when a seed left rows in a partitioned table's default partition (a month it did not
    make first): the app never puts them there, so what is measured would not be what runs."""
    with psycopg.connect(url) as conn:
        names = [row[0] for row in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid "
            "WHERE right(c.relname, 8) = '_default' AND c.relnamespace = current_schema()::regnamespace")]
        stray = {name: conn.execute(f'SELECT count(*) FROM ONLY "{name}"').fetchone()[0] for name in sorted(names)}
    stray = {name: rows for name, rows in stray.items() if rows}
    if stray:
        raise RuntimeError(f"the seed left rows in default partitions: {stray}")


# ------------------------------------------------------------------ memory

def proc_kb(pid: int, field: str) -> int | None:
    """A /proc/<pid>/status field in kB (VmRSS: now, VmHWM: peak so far); None if gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


class RssSampler:
    """Samples a process's VmRSS every `interval` seconds in a thread; `peak_kb` is the largest."""

    def __init__(self, pid: int, interval: float = 0.02):
        import threading

        self.pid, self.interval, self.peak_kb, self.samples = pid, interval, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            kb = proc_kb(self.pid, "VmRSS")
            if kb is None:
                return
            self.peak_kb, self.samples = max(self.peak_kb, kb), self.samples + 1
            self._stop.wait(self.interval)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        return self.peak_kb
