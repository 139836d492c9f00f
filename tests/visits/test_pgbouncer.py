"""Sync through PgBouncer in transaction mode, with CARE_DB_PREPARED=off.

PgBouncer before 1.21 (Debian 12 has 1.18) hands each transaction whichever server connection is
free and keeps no prepared statements: a statement psycopg prepared on one server connection is
missing on the next ("prepared statement … does not exist"). With prepared statements off the
app runs behind it. The module's app reaches the suite's database only through a PgBouncer of
its own (pool_mode = transaction), several server connections at once.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import make_url, text

from backend import create_app
from backend.extensions import db

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
pytestmark = pytest.mark.skipif(not Path(PGBOUNCER).exists(), reason="pgbouncer is not installed (.ci/run installs it)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def bouncer(database_url):
    """A PgBouncer in transaction mode in front of the suite's database (its schema first on the
    search path of every server connection); yields its URL."""
    url, options = database_url
    server = make_url(url)
    host = server.host or server.query.get("host")
    search_path = options.get("connect_args", {}).get("options", "").removeprefix("-csearch_path=")
    folder = Path(tempfile.mkdtemp(prefix="carerounds-pgbouncer-"))
    port = _free_port()
    connect_query = f" connect_query='SET search_path TO {search_path}'" if search_path else ""
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"carerounds = host={host} port={server.port or 5432} dbname={server.database} user={server.username}"
        f"{connect_query}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder}/users.txt\n"
        "pool_mode = transaction\ndefault_pool_size = 4\nmax_client_conn = 100\n"
        f"logfile = {folder}/pgbouncer.log\npidfile = {folder}/pgbouncer.pid\n")
    (folder / "users.txt").write_text(f'"{server.username}" ""\n')
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root; as the user who may reach the server
        owner = pwd.getpwuid(os.stat(host).st_uid) if host.startswith("/") else pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        command = ["runuser", "-u", owner.pw_name, "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    bounced = f"postgresql://{server.username}@127.0.0.1:{port}/carerounds"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(bounced, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                assert process.poll() is None and time.monotonic() < deadline, \
                    (folder / "pgbouncer.log").read_text() if (folder / "pgbouncer.log").exists() else ""
                time.sleep(0.1)
        yield bounced
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def app(bouncer, tmp_path_factory):
    """The suite's app with its database reached through PgBouncer and prepared statements off."""
    app = create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("pgbouncer-instance")),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
        "TOKEN_SECRET": "test-token-secret-0123456789abcdef0123456789",
        "QR_SECRET": "test-qr-secret-0123456789abcdef0123456789ab",
        "SQLALCHEMY_DATABASE_URI": bouncer,
        "DB_PREPARED": False,
    })
    with app.app_context():
        upgrade()  # a no-op when the suite's own app migrated the schema already
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def test_a_connection_prepares_nothing_when_prepared_statements_are_off(app):
    with app.app_context(), db.engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver.prepare_threshold is None
        for _ in range(10):
            conn.execute(text("SELECT count(*) FROM users WHERE id = :id"), {"id": 1})
        assert driver.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0] == 0


def test_pushes_and_pulls_through_pgbouncer_in_transaction_mode(field, app):
    f = field
    f.clock.set(f.start + timedelta(minutes=26))
    items = [f.phone.item("check_in", f.task.id, f.start, qr=f.qr, location=f.at_door),
             f.phone.item("check_out", f.task.id, f.start + timedelta(minutes=25), qr=f.qr, location=f.at_door,
                          services=[{"service_type": "meal", "outcome": "done"}], satisfaction=5)]
    for expected in ("accepted", "duplicate"):  # the resend runs the same statements again
        response = f.phone.push(items)
        assert response.status_code == 200, response.get_json()
        assert [r["status"] for r in response.get_json()["results"]] == [expected, expected]
    first = f.phone.pull().get_json()
    assert {row["id"]: row["status"] for row in first["tasks"]["upserted"]}[f.task.id] == "completed"
    db.session.rollback()

    # Many pulls at once, so that PgBouncer spreads their transactions over its server connections.
    failures = []

    def pull_repeatedly():
        with app.app_context():
            client = app.test_client()
            for _ in range(5):
                response = client.get("/api/v1/sync/pull", headers=f.phone.headers,
                                      query_string={"device_id": f.phone.device_id, "cursor": first["cursor"]})
                if response.status_code != 200:
                    failures.append(response.get_json())
            db.session.remove()

    threads = [threading.Thread(target=pull_repeatedly) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
