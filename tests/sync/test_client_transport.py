"""The stdlib urllib transport against a throwaway local HTTP server."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sync.client.api import Api, ApiError, HttpRequest, NetworkError, UrllibTransport


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/api/v1/sync/push" and self.headers["Authorization"] == "Bearer good":
            self.answer(200, {"results": [], "missing_seqs": [], "echo": body})
        else:
            self.answer(401, {"status": 401, "code": "token_expired", "title": "访问令牌已过期"},
                        "application/problem+json")

    def do_GET(self):
        self.answer(200, {"path": self.path})

    def answer(self, status: int, body: dict, content_type: str = "application/json"):
        raw = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_json_body_goes_out_and_comes_back_as_utf8(base_url):
    api = Api(UrllibTransport(base_url, timeout=5))
    answer = api.push("good", {"device_id": "手机-1", "items": []})
    assert answer["echo"] == {"device_id": "手机-1", "items": []}


def test_query_arguments_are_encoded_and_none_left_out(base_url):
    response = UrllibTransport(base_url, timeout=5)(
        HttpRequest("GET", "/api/v1/sync/pull", query={"device_id": "a b", "limit": 5, "cursor": None}))
    assert response.status == 200 and response.body == {"path": "/api/v1/sync/pull?device_id=a+b&limit=5"}


def test_an_error_status_becomes_an_api_error_with_its_problem_code(base_url):
    with pytest.raises(ApiError) as caught:
        Api(UrllibTransport(base_url, timeout=5)).push("stale", {"items": []})
    assert caught.value.status == 401 and caught.value.code == "token_expired"


def test_no_server_at_all_is_a_network_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NetworkError):
        UrllibTransport(f"http://127.0.0.1:{port}", timeout=2)(HttpRequest("GET", "/"))
