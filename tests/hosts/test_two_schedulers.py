"""Two schedulers started by mistake against one database still run each job once per period."""

import re
import sys
import time
from collections import Counter

from sqlalchemy import select

from backend.extensions import db
from backend.jobruns import JobRun

# The real `scheduler` command, with every interval job due each second so the test takes seconds.
SCHEDULER = """
from backend import create_app
from backend.cli import scheduler

app = create_app({"TASK_GENERATION_INTERVAL_MINUTES": 1 / 60, "SWEEP_INTERVAL_MINUTES": 1 / 60})
with app.app_context():
    scheduler.main(args=[], prog_name="carerounds scheduler", standalone_mode=False)
"""
RAN = re.compile(r"job (\w+) ran for period (\S+)")
INTERVAL_JOBS = ("generate_tasks", "sweep", "escalate_followups", "deliver_notifications")


def runs(process) -> list[tuple[str, str]]:
    return RAN.findall(process.log_path.read_text())


def test_two_schedulers_run_each_job_once_per_period(processes, city):
    pair = [processes.start(name, [sys.executable, "-c", SCHEDULER]) for name in ("scheduler-1", "scheduler-2")]
    deadline = time.monotonic() + 45
    while min(Counter(job for p in pair for job, _ in runs(p))[job] for job in INTERVAL_JOBS) < 4:
        assert all(p.poll() is None for p in pair), [p.log_path.read_text() for p in pair]
        assert time.monotonic() < deadline, [p.log_path.read_text() for p in pair]
        time.sleep(0.2)
    for process in pair:
        processes.stop(process)

    everything = [run for p in pair for run in runs(p)]
    assert [run for run, n in Counter(everything).items() if n > 1] == []  # no period ran twice
    jobs = Counter(job for job, _period in everything)
    assert all(jobs[job] >= 4 for job in INTERVAL_JOBS)
    assert jobs["close_ended_plans"] == 1  # both ran it at start: one took the day
    assert "another scheduler is running it" in "".join(p.log_path.read_text() for p in pair) or \
        "already run; skipped" in "".join(p.log_path.read_text() for p in pair)
    db.session.expire_all()
    recorded = db.session.execute(select(JobRun.job, JobRun.period_start, JobRun.finished_at)).all()
    assert Counter(job for job, _, _ in recorded) == jobs  # every run recorded, none unfinished
    assert all(finished is not None for _, _, finished in recorded)
