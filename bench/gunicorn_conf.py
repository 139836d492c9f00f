"""gunicorn config of the benchmarks: what `carerounds serve` sets for its workers (the heap
frozen once the app is loaded), and server-side request timing.

Each worker appends "<phase> <ms>" per request to BENCH_TIMING_DIR/<pid>.log, where phase is
the request's X-Bench-Phase header. The time runs from gunicorn handing the parsed request to
the app until the response has been written to the socket.
"""

import os
import time

from backend.cli import freeze_loaded_heap as post_worker_init  # noqa: F401  (a gunicorn hook, by name)

_files = {}


def _log():
    pid = os.getpid()
    if pid not in _files:
        _files[pid] = open(os.path.join(os.environ["BENCH_TIMING_DIR"], f"{pid}.log"), "a", buffering=1)
    return _files[pid]


def pre_request(worker, req):
    req._bench_t0 = time.perf_counter()


def post_request(worker, req, environ, resp):
    t0 = getattr(req, "_bench_t0", None)
    if t0 is None:
        return
    phase = "-"
    for name, value in req.headers:
        if name == "X-BENCH-PHASE":
            phase = value
            break
    _log().write(f"{phase} {(time.perf_counter() - t0) * 1000:.3f}\n")
