"""Connections that read one snapshot of the database together, so that a report's queries can
run side by side and still add up to figures of one moment.

A report reads on `count` pooled connections of its own, each in a read-only REPEATABLE READ
transaction: the first exports its snapshot (pg_export_snapshot) and the others import it (SET
TRANSACTION SNAPSHOT) before their first query, so every query sees the same committed rows
whichever connection runs it. The request's own session is left alone.
"""

import queue
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager

from sqlalchemy import Connection, Engine, text

from backend.extensions import db

SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+")


@contextmanager
def snapshot_readers(count: int, engine: Engine | None = None) -> Iterator[list[Connection]]:
    """`count` connections of `engine`'s pool (the primary's unless given; at least one) that
    see one snapshot. A hot standby exports and imports snapshots as the primary does."""
    engine = engine or db.engine
    with ExitStack() as stack:
        readers = []
        for _ in range(max(1, count)):
            conn = stack.enter_context(engine.connect())
            # Applies to this checkout only: the pool resets the level when it takes the connection back.
            conn.execution_options(isolation_level="REPEATABLE READ")
            if engine is db.engine:
                # Not on a hot standby: read-only already, and it refuses the READ WRITE that the
                # pool's reset would ask for on the connection's next checkout.
                conn.execution_options(postgresql_readonly=True)
            conn.begin()
            readers.append(conn)
        if len(readers) > 1:
            snapshot = readers[0].execute(text("SELECT pg_export_snapshot()")).scalar_one()
            if not SNAPSHOT_ID.fullmatch(snapshot):  # SET takes no parameters, so it is spelled out
                raise RuntimeError(f"unexpected snapshot id {snapshot!r}")
            for conn in readers[1:]:
                conn.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
        yield readers


def run_all(readers: list[Connection], jobs: list[Callable[[Connection], object]]) -> list:
    """Run each job on whichever reader is free, in the order given, as many at once as there
    are readers; return their results in job order. The first error is raised once the jobs
    already running have ended; jobs not yet started are dropped."""
    if len(readers) == 1:
        return [job(readers[0]) for job in jobs]
    free: queue.SimpleQueue = queue.SimpleQueue()
    for conn in readers:
        free.put(conn)

    def on_a_free_reader(job):
        conn = free.get()  # never waits: no more jobs run at once than there are readers
        try:
            return job(conn)
        finally:
            free.put(conn)

    with ThreadPoolExecutor(len(readers), thread_name_prefix="report-reader") as pool:
        futures = [pool.submit(on_a_free_reader, job) for job in jobs]
        try:
            return [future.result() for future in futures]
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
