"""The cross-check job over a whole city: every visit of a demo database judged again.

    DATABASE_URL=postgresql://…/a_demo_database python bench/crosscheck.py [--runs 3]

Needs a database seeded by `carerounds demo`. Every visit is queued again (crosschecked_at NULL,
committed, then VACUUM ANALYZE) and backend.visits.crosscheck.crosscheck_visits runs until nothing
waits, then commits, as the scheduler would after an upgrade: the flags it leaves are the demo's
own when the judgement is the same. Prints the time (best of `--runs`), the SQL statements it
sent, how many visits carry each cross flag afterwards, and how many visits' flags differ from
those stored before the first run (0: the same judgement as the code that stored them).
"""

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, select, text, update  # noqa: E402

from backend import create_app  # noqa: E402
from backend.clock import utcnow  # noqa: E402
from backend.extensions import db  # noqa: E402
from backend.visits.crosscheck import crosscheck_visits  # noqa: E402
from backend.visits.models import Visit  # noqa: E402
from sync import rules  # noqa: E402


def one_run(now) -> tuple[float, int, dict[int, list[str]]]:
    """(seconds, statements, flags by visit id) of one full pass."""
    statements = 0

    def count(*_args):
        nonlocal statements
        statements += 1

    db.session.execute(update(Visit).values(crosschecked_at=None).execution_options(synchronize_session=False))
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE visits"))
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        began = time.perf_counter()
        while crosscheck_visits(now=now):
            pass
        db.session.commit()
        elapsed = time.perf_counter() - began
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    flags = dict(db.session.execute(select(Visit.id, Visit.flags)).all())
    db.session.rollback()
    return elapsed, statements, flags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("DATABASE_URL must name a database seeded by `carerounds demo`")
    app = create_app()
    with app.app_context():
        stored = dict(db.session.execute(select(Visit.id, Visit.flags)).all())
        db.session.rollback()
        now = utcnow()
        runs = [one_run(now) for _ in range(args.runs)]
        best, statements, flags = min(runs, key=lambda run: run[0])
        cross = Counter(flag for found in flags.values() for flag in found or () if flag in rules.CROSS_VISIT_FLAGS)
        differ = sum(1 for visit_id, found in flags.items() if sorted(found or ()) != sorted(stored[visit_id] or ()))
        print(f"visits {len(flags)}; best of {args.runs}: {best:.2f} s "
              f"(runs {', '.join(f'{run[0]:.2f}' for run in runs)}); SQL statements {statements}; "
              f"flagged {dict(sorted(cross.items()))}; flags differing from the stored ones {differ}; "
              f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
