"""The README's walk-through runs as written: the shell blocks marked `<!-- readme-test -->` run in
order, in one bash with `set -euo pipefail`, against a fresh `carerounds serve --demo` (a throwaway
instance folder, so an embedded PostgreSQL, and a free loopback port in place of 127.0.0.1:8000)."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README_URL = "http://127.0.0.1:8000"
MARKED = re.compile(r"<!-- readme-test -->\n```sh\n(.*?)```", re.S)


def readme_blocks() -> list[str]:
    return MARKED.findall((REPO / "README.md").read_text(encoding="utf-8"))


def test_the_walk_through_blocks_are_marked_and_never_install_anything():
    blocks = readme_blocks()
    assert len(blocks) >= 2
    assert not any("pip install" in block or "carerounds serve" in block for block in blocks)


@pytest.fixture
def demo_server():
    """A fresh demo city served on a free port; yields its base URL, stops it afterwards."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    instance = Path(tempfile.mkdtemp(prefix="carerounds-readme-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CARE_PHONE_STORE")}
    env["CARE_INSTANCE_PATH"] = str(instance)
    carerounds = str(Path(sys.executable).parent / "carerounds")
    log = (instance / "serve.log").open("wb")
    server = subprocess.Popen([carerounds, "serve", "--demo", "--port", str(port), "--workers", "1"], env=env,
                              cwd=instance, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=2).close()
                break
            except OSError:
                assert server.poll() is None, (instance / "serve.log").read_text()
                assert time.monotonic() < deadline, "the demo server did not start"
                time.sleep(0.2)
        yield base, env, instance
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
        shutil.rmtree(instance, ignore_errors=True)


def test_the_readme_walk_through_runs_as_written_on_a_fresh_demo(demo_server):
    base, env, instance = demo_server
    script = "set -euo pipefail\n" + "\n".join(block.replace(README_URL, base) for block in readme_blocks())
    env = {**env, "CARE_PHONE_STORE": str(instance / "phone.sqlite3"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}
    run = subprocess.run(["bash", "-c", script], env=env, cwd=instance, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    out = run.stdout
    assert '"access_token"' in out and "token_type" in out
    assert "Pushed: 2 accepted, 0 duplicate, 0 rejected" in out
    flagged = [line for line in out.splitlines() if line.strip().startswith("flagged")]
    # a plate scanned is good news, printed beside a flag worth a look; a task the demo's sweep has
    # already marked missed (it depends on the hour the test runs) is the only flag to expect
    assert all(set(line.split(": ", 1)[1].split(", ")) <= {"after_missed", "qr_verified"} for line in flagged), flagged
    assert "0 pending, 2 acked" in out
