"""An answer cut off mid-body over real HTTP: the server acted, so the client must resend, not crash."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sync.client import PhoneClient, Store, UrllibTransport
from sync.client.api import HttpRequest, NetworkError


class CutOffOnce(BaseHTTPRequestHandler):
    """Answers every push in full except the first, whose body stops halfway (Content-Length lies)."""

    pushes: list[dict] = []

    def do_POST(self):
        envelope = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path.startswith("/cut/"):  # /cut/<status>: any answer, cut off
            return self.answer({"status": 0, "code": "whatever", "detail": "x" * 40}, cut_off=True,
                               status=int(self.path.removeprefix("/cut/")))
        if self.path == "/api/v1/auth/login":
            return self.answer({"access_token": "a", "refresh_token": "r", "user": {"role": "caregiver"}})
        self.pushes.append(envelope)
        first = len(self.pushes) == 1
        results = [{"id": item["id"], "status": "accepted" if first else "duplicate", "code": "accepted",
                    "message": None, "flags": []} for item in envelope["items"]]
        self.answer({"results": results, "missing_seqs": []}, cut_off=first)

    def answer(self, body: dict, cut_off: bool = False, status: int = 200):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw[:len(raw) // 2] if cut_off else raw)
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def base_url():
    CutOffOnce.pushes = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), CutOffOnce)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("status", [200, 401, 503])
def test_a_body_cut_off_mid_answer_is_a_network_error(base_url, status):
    with pytest.raises(NetworkError):
        UrllibTransport(base_url, timeout=5)(HttpRequest("POST", f"/cut/{status}", body={}))


def test_a_push_whose_answer_is_cut_off_is_resent_and_ends_acked(base_url):
    phone = PhoneClient(Store(), UrllibTransport(base_url, timeout=5), device_id="p", sleep=lambda s: None)
    phone.login("cg1", "pw")
    phone.record_note(1, "送餐")

    summary = phone.push()

    assert (summary.accepted, summary.duplicate) == (0, 1)
    assert len(CutOffOnce.pushes) == 2 and CutOffOnce.pushes[0]["items"] == CutOffOnce.pushes[1]["items"]
    assert [row["status"] for row in phone.store.outbox()] == ["acked"]
