"""Processes of our own against the test database: `carerounds serve` on free ports, schedulers.

They are real commands in their own processes, so they read the real clock (not the tests'
stopped one) and reach the database through DATABASE_URL, with the run's schema on its search
path as the test app's engine has it.
"""

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def process_env(app, database_url, tmp_path):
    """The environment under which a command of ours uses this run's database and secrets."""
    url, options = database_url
    url = make_url(url)
    search_path = options.get("connect_args", {}).get("options")
    if search_path:
        url = url.update_query_dict({"options": search_path})
    env = dict(os.environ, DATABASE_URL=url.render_as_string(hide_password=False),
               CARE_INSTANCE_PATH=str(tmp_path / "instance"), PYTHONPATH=str(REPO),
               CARE_SECRET_KEY=app.config["SECRET_KEY"], CARE_TOKEN_SECRET=app.config["TOKEN_SECRET"],
               CARE_QR_SECRET=app.config["QR_SECRET"], CARE_MEDIA_FOLDER=str(tmp_path / "media"))
    return env


class Processes:
    """Started processes, each with its output in a file; all stopped at the end of the test."""

    def __init__(self, folder: Path, env: dict):
        self.folder, self.env, self.started = folder, env, []

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(args, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        process.log_path = self.folder / f"{name}.log"
        log.close()
        self.started.append(process)
        return process

    def serve(self, name: str, *options: str) -> str:
        """`carerounds serve` on a free port; its base URL once it answers."""
        return self.wait(*self.start_serving(name, *options))

    def start_serving(self, name: str, *options: str) -> tuple[subprocess.Popen, str]:
        port = free_port()
        process = self.start(name, [sys.executable, "-m", "backend.cli", "serve", "--port", str(port),
                                    "--workers", "1", *options])
        return process, f"{'https' if '--certfile' in options else 'http'}://127.0.0.1:{port}"

    def wait(self, process: subprocess.Popen, base: str) -> str:
        context = ssl._create_unverified_context() if base.startswith("https") else None
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=2, context=context).close()
                return base
            except OSError:
                assert process.poll() is None, process.log_path.read_text()
                assert time.monotonic() < deadline, process.log_path.read_text()
                time.sleep(0.1)

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # gunicorn: quick shutdown; the scheduler: stop
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def processes(process_env, tmp_path):
    started = Processes(tmp_path, process_env)
    yield started
    for process in started.started:
        started.stop(process)
