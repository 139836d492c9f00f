"""The field app in Chromium: offline cold start to the task list drawn, and pulling 500 tasks
into IndexedDB; each the median of --runs (10) on this machine. Targets: under 1 s and under 2 s.

    python bench/field_app.py [--runs 10] [--elders 34]

Seeds a private database (carerounds_bench_fieldapp, dropped at the end) through the app's own
models: one caregiver with a daily visit to each of `--elders` elders, so that the phone's window
(yesterday through today + 14) holds about 500 tasks. Runs the real server (gunicorn) on loopback
and Debian's Chromium headless through Playwright (no browser download):

- pull: a fresh browser profile signs in, then the app's own pull() (every page applied in its
  IndexedDB transaction, the digest checked) is timed inside the page;
- offline cold start: with the shell cached by the service worker and the tasks pulled, the
  network is cut and a new window opens /app/; timed from navigation to the first task drawn.

Also prints the shell's gzipped size (the QR decoder apart).
"""

import argparse
import gzip
import os
import shutil
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta

import benchlib
from benchlib import PASSWORD, SECRETS, Server

DB_NAME = "carerounds_bench_fieldapp"
TARGET_COLD_MS = 1000
TARGET_PULL_MS = 2000
SIGN_IN = """async ([username, password]) => {
  const sync = await import("/app/js/sync.js");
  await sync.signIn(username, password);
}"""
TIMED_PULL = """async () => {
  const sync = await import("/app/js/sync.js");
  const start = performance.now();
  await sync.pull();
  const ms = performance.now() - start;
  return [ms, (await sync.localDigest()).count];
}"""


def seed(url: str, instance: str, elders: int, now: datetime) -> int:
    """One caregiver, `elders` elders each with a daily meal visit; returns the tasks in the window."""
    os.environ.update(SECRETS)
    from backend import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance})
    with app.app_context():
        from sqlalchemy import func, select

        from backend.elders.models import Elder
        from backend.extensions import db
        from backend.plans.models import CarePlan, CarePlanItem
        from backend.providers.models import Provider
        from backend.regions.models import Region
        from backend.tasks.generation import generate_tasks
        from backend.tasks.models import Task
        from backend.users.services import create_user

        parent = None
        for name, level in (("清河区", "district"), ("长青街道", "street"), ("长青社区", "community")):
            region = Region(name=name, level=level, parent_id=parent.id if parent else None)
            db.session.add(region)
            db.session.flush()
            region.path = (parent.path if parent else "/") + f"{region.id}/"
            parent = region
        provider = Provider(name="颐康居家养老服务中心")
        db.session.add(provider)
        db.session.flush()
        caregiver = create_user(username="bench_cg", password=PASSWORD, role="caregiver", by=None,
                                provider_id=provider.id)
        for n in range(elders):
            elder = Elder(name=f"老人{n}", community_id=parent.id, gender="female", birth_on=date(1940, 5, 17),
                          id_card_no=f"11010119400517{n:04d}", address=f"长青社区{n}号", lat=41.8, lon=123.4)
            elder.categories = ["solitary"]
            db.session.add(elder)
            db.session.flush()
            plan = CarePlan(elder_id=elder.id, provider_id=provider.id, starts_on=(now - timedelta(days=30)).date(),
                            revised_at=now - timedelta(days=30))
            plan.items.append(CarePlanItem(service_type="meal", min_duration_minutes=20, assignee_id=caregiver.id,
                                           recurrence={"freq": "daily", "start": "11:00", "end": "13:00"}))
            db.session.add(plan)
        db.session.commit()
        generate_tasks(now=now - timedelta(days=1), horizon_days=15)
        db.session.commit()
        return db.session.scalar(select(func.count()).select_from(Task))


def shell_gzipped() -> int:
    from backend.fieldapp.views import STATIC, shell

    _, files = shell()
    return sum(len(gzip.compress((STATIC / name).read_bytes(), 9)) for name in files if not name.startswith("vendor/"))


def measure(base: str, runs: int) -> tuple[list[float], list[float], int]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("Debian's chromium is needed (apt-get install chromium)")
    pulls, colds, held = [], [], 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            for _ in range(runs):  # a fresh profile each time: an empty IndexedDB, a snapshot pull
                context = browser.new_context(locale="zh-CN", viewport={"width": 412, "height": 860})
                page = context.new_page()
                page.goto(f"{base}/app/")
                page.evaluate(SIGN_IN, ["bench_cg", PASSWORD])
                ms, held = page.evaluate(TIMED_PULL)
                pulls.append(ms)
                context.close()

            context = browser.new_context(locale="zh-CN", viewport={"width": 412, "height": 860})
            page = context.new_page()
            page.goto(f"{base}/app/")
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            page.evaluate(SIGN_IN, ["bench_cg", PASSWORD])
            page.evaluate(TIMED_PULL)
            page.close()
            context.set_offline(True)
            for _ in range(runs):
                page = context.new_page()
                start = time.perf_counter()
                page.goto(f"{base}/app/")
                page.locator("#today .task").first.wait_for(state="visible", timeout=30_000)
                colds.append((time.perf_counter() - start) * 1000)
                page.close()
            context.close()
        finally:
            browser.close()
    return pulls, colds, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--elders", type=int, default=34)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args()
    benchlib.print_machine(benchlib.machine())
    url = benchlib.create_database(DB_NAME)
    try:
        with benchlib.workdir(args.keep) as work:
            instance = os.path.join(work, "instance")
            benchlib.migrate(url, instance)
            tasks = seed(url, instance, args.elders, datetime.now(UTC))
            server = Server("backend:create_app()", benchlib.server_env(url, instance), work, "fieldapp", workers=2)
            try:
                server.wait_ready("/app/")
                pulls, colds, held = measure(f"http://127.0.0.1:{server.port}", args.runs)
            finally:
                server.stop()
    finally:
        benchlib.drop_database(DB_NAME)
    pull, cold = statistics.median(pulls), statistics.median(colds)
    print(f"seeded {tasks} tasks; the phone's window held {held}")
    benchlib.print_table([
        ("offline cold start to the task list", f"{cold:.0f}", f"{min(colds):.0f}–{max(colds):.0f}",
         f"< {TARGET_COLD_MS}", "ok" if cold < TARGET_COLD_MS else "MISSED"),
        (f"pull {held} tasks into IndexedDB", f"{pull:.0f}", f"{min(pulls):.0f}–{max(pulls):.0f}",
         f"< {TARGET_PULL_MS}", "ok" if pull < TARGET_PULL_MS else "MISSED"),
    ], ("measure", "median ms", "range ms", "target ms", ""))
    print(f"shell gzipped (QR decoder apart): {shell_gzipped() / 1024:.1f} KB (limit 150 KB)")


if __name__ == "__main__":
    main()
