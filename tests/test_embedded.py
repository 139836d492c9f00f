"""The embedded PostgreSQL server that commands start when no DATABASE_URL is given."""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from backend import embedded


def _carerounds(instance, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env["CARE_INSTANCE_PATH"] = str(instance)
    return subprocess.run([sys.executable, "-m", "backend.cli", *args], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def instance():
    """An instance folder outside pytest's tmp tree (pytest prunes old run folders, and the
    embedded server's user must be able to reach the folder)."""
    folder = Path(tempfile.mkdtemp(prefix="carerounds-test-instance-"))
    yield folder / "instance"
    shutil.rmtree(folder, ignore_errors=True)


def test_commands_without_a_database_url_share_an_embedded_server_they_stop_when_done(instance):
    first = _carerounds(instance, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    pgdata = instance / "pgdata"
    assert (pgdata / "PG_VERSION").exists()
    assert stat.S_IMODE(pgdata.stat().st_mode) == 0o700  # the data is the server's alone
    assert not (pgdata / "postmaster.pid").exists()  # stopped with the command that started it

    again = _carerounds(instance, "db", "current")  # the same data, served again
    assert again.returncode == 0, again.stderr
    assert "(head)" in again.stdout
    assert json.loads((pgdata / ".handle_pids.json").read_text()) == []


def test_a_process_killed_while_using_the_server_is_forgotten(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    listed = tmp_path / ".handle_pids.json"
    listed.write_text(json.dumps([os.getpid(), dead.pid]))

    embedded._prune_dead_users(tmp_path)

    assert json.loads(listed.read_text()) == [os.getpid()]  # the last live user still stops it


def test_the_last_live_user_stops_the_server_though_another_died_without_leaving(instance):
    first = _carerounds(instance, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    pgdata = instance / "pgdata"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    join = f"from pathlib import Path\nfrom backend import embedded\nembedded.start(Path({str(pgdata)!r}))\n"
    # serve's master: uses the server until told to end (its standard input closes).
    master = subprocess.Popen([sys.executable, "-c", join + "import sys\nprint('in', flush=True)\nsys.stdin.read()\n"],
                              env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert master.stdout.readline() == "in\n"
    # its scheduler, stopped by a signal while still starting: never leaves the list of users.
    subprocess.run([sys.executable, "-c", join + "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"],
                   env=env, timeout=60)
    assert len(json.loads((pgdata / ".handle_pids.json").read_text())) == 2

    master.stdin.close()
    master.wait(timeout=60)
    master.stdout.close()

    assert not (pgdata / "postmaster.pid").exists()  # the last live user stopped it
    assert json.loads((pgdata / ".handle_pids.json").read_text()) == []
