"""`carerounds serve` runs gunicorn with settings under which a long streamed export survives."""

import gc
import http.client
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from backend.cli import freeze_loaded_heap, gunicorn_settings

REPO = Path(__file__).resolve().parent.parent

# A stand-in for a long export: 6 seconds of streaming against a 3-second worker timeout.
# (gthread workers beat their heartbeat about once a second, so a 1-second timeout races it
# on a busy machine; 3 seconds keeps a margin while a sync worker would still be killed.)
SERVER = textwrap.dedent("""
    import sys, time
    from gunicorn.app.base import BaseApplication
    from backend.cli import gunicorn_settings

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        for n in range(24):
            time.sleep(0.25)
            yield b"row %d\\n" % n

    class Server(BaseApplication):
        def load_config(self):
            settings = gunicorn_settings("127.0.0.1", int(sys.argv[1]), 1) | {"timeout": 3, "accesslog": None}
            for name, value in settings.items():
                self.cfg.set(name, value)

        def load(self):
            return app

    Server().run()
""")


def test_serve_uses_threaded_workers():
    settings = gunicorn_settings("127.0.0.1", 8000, 2)
    assert settings["worker_class"] == "gthread" and settings["threads"] > 1
    assert settings["workers"] == 2 and settings["bind"] == "127.0.0.1:8000"


def test_serve_freezes_each_workers_heap_once_the_app_is_loaded():
    assert gunicorn_settings("127.0.0.1", 8000, 2)["post_worker_init"] is freeze_loaded_heap
    assert gc.get_freeze_count() == 0
    try:
        freeze_loaded_heap(worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_response_streaming_longer_than_the_worker_timeout_is_not_cut(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as err:
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], cwd=REPO,
                                  stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                assert server.poll() is None, log.read_text()
                time.sleep(0.05)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        try:
            conn.request("GET", "/")
            body = conn.getresponse().read()
        finally:
            conn.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert body.splitlines() == [b"row %d" % n for n in range(24)]
