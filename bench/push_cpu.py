"""CPU per pushed item, in one process: the app's Python (through Flask's test client) and its
PostgreSQL backend, one push after another, for comparing two trees on a noisy machine.

    python bench/push_cpu.py [--phones 4] [--tasks-per-phone 1500] [--rounds 3]

bench/sync_push.py measures throughput through gunicorn with many clients; its CPU figures move
by ±10% between runs on a shared 2-core machine, more than a change on the push path often
weighs. Here one thread pushes the same batches (bench/sync_push.py's seed and phones) with no
concurrency, and CPU is read from the process itself (time.process_time: the app's Python,
psycopg included) and from its PostgreSQL backend (/proc), so other load disturbs the figures
far less. Run it in each tree to compare (it imports the app from its own tree); each round
seeds a fresh private database, carerounds_bench_push_cpu, dropped at the end.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime

import benchlib
from benchlib import SECRETS
from sync_push import build_phone, seed

DB_NAME = "carerounds_bench_push_cpu"


def one_round(phones: int, tasks_per_phone: int) -> tuple[float, float, int]:
    url = benchlib.create_database(DB_NAME)
    try:
        with benchlib.workdir(False) as work:
            instance = os.path.join(work, "instance")
            benchlib.migrate(url, instance)
            now = datetime.now(UTC)
            specs = seed(url, phones, tasks_per_phone, now)
            os.environ.update(SECRETS)
            from backend import create_app

            app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance})
            client = app.test_client()
            outboxes = []
            for spec in specs:
                token = client.post("/api/v1/auth/login", json={
                    "username": spec["username"], "password": benchlib.PASSWORD, "device_id": spec["device_id"]},
                ).get_json()["access_token"]
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                outboxes.append((spec, headers, build_phone(spec, 100, 0.05, now)))
            with app.app_context():
                from backend.extensions import db

                backend = db.session.execute(db.text("SELECT pg_backend_pid()")).scalar()
                db.session.remove()
            bodies = []
            for spec, headers, batches in outboxes:
                for batch in batches:
                    body = (f'{{"device_id":"{spec["device_id"]}","device_time":"{now.isoformat()}",'
                            f'"items":[{",".join(batch.items)}]}}')
                    bodies.append((body.encode(), headers, len(batch.items)))
            warm = bodies[:5]
            for body, headers, _ in warm:
                client.post("/api/v1/sync/push", data=body, headers=headers)
            items = sum(n for _, _, n in bodies[5:])
            python_start, backend_start = time.process_time(), benchlib.cpu_seconds([backend])
            for body, headers, _ in bodies[5:]:
                response = client.post("/api/v1/sync/push", data=body, headers=headers)
                assert response.status_code == 200, response.get_data(as_text=True)[:300]
            python = time.process_time() - python_start
            backend_cpu = benchlib.cpu_seconds([backend]) - backend_start
            with app.app_context():
                db.engine.dispose()
            return python / items * 1e6, backend_cpu / items * 1e6, items
    finally:
        benchlib.drop_database(DB_NAME)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phones", type=int, default=4)
    parser.add_argument("--tasks-per-phone", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    benchlib.print_machine(benchlib.machine())
    print(f"tree: {benchlib.REPO}")
    results = []
    for n in range(args.rounds):
        python_us, backend_us, items = one_round(args.phones, args.tasks_per_phone)
        results.append((python_us, backend_us))
        print(f"round {n + 1}: {items:,} items, Python {python_us:.1f} us/item, PostgreSQL {backend_us:.1f} us/item")
    python = statistics.median(r[0] for r in results)
    backend_cpu = statistics.median(r[1] for r in results)
    print(f"median of {args.rounds}: Python {python:.1f} us/item, PostgreSQL {backend_cpu:.1f} us/item, "
          f"together {python + backend_cpu:.1f} us/item")
    return 0


if __name__ == "__main__":
    sys.exit(main())
