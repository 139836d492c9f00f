"""The four HTTP calls a phone makes, over an injectable transport (stdlib urllib by default)."""

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class HttpRequest:
    method: str
    path: str  # e.g. "/api/v1/sync/pull"
    query: dict = field(default_factory=dict)
    body: dict | None = None
    headers: dict = field(default_factory=dict)


@dataclass
class HttpResponse:
    status: int
    body: dict | None
    headers: dict = field(default_factory=dict)


Transport = Callable[[HttpRequest], HttpResponse]


class NetworkError(Exception):
    """No HTTP answer at all: offline, timeout, connection reset. The request may or may not have landed."""


class ApiError(Exception):
    """An HTTP error answer; `problem` is its problem+json body and `code` its stable code."""

    def __init__(self, status: int, problem: dict | None, headers: dict | None = None):
        self.status = status
        self.problem = problem or {}
        self.headers = {key.lower(): value for key, value in (headers or {}).items()}
        self.code = self.problem.get("code") or f"http_{status}"
        super().__init__(f"{status} {self.code}: {self.problem.get('detail') or self.problem.get('title')}")

    @property
    def is_retryable(self) -> bool:
        return self.status >= 500 or self.status == 429

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked us to wait (Retry-After, in seconds form), if it did."""
        try:
            return float(self.headers["retry-after"])
        except (KeyError, ValueError):
            return None


class UrllibTransport:
    """A transport over urllib.request, so the reference client needs nothing beyond the stdlib."""

    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def __call__(self, request: HttpRequest) -> HttpResponse:
        url = self.base_url + request.path
        if request.query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in request.query.items() if v is not None})
        data = None if request.body is None else json.dumps(request.body, ensure_ascii=False).encode()
        headers = {"Accept": "application/json", **request.headers}
        if data is not None:
            headers["Content-Type"] = "application/json"
        http_request = urllib.request.Request(url, data=data, method=request.method, headers=headers)
        try:
            try:
                with urllib.request.urlopen(http_request, timeout=self.timeout) as answer:
                    return HttpResponse(answer.status, _json(answer.read()), dict(answer.headers))
            except urllib.error.HTTPError as error:  # an answer, only not a 2xx one
                return HttpResponse(error.code, _json(error.read()), dict(error.headers or {}))
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            # HTTPException: a body cut off mid-answer (IncompleteRead) or a garbled status line. The
            # server may well have acted, so this is a lost answer to resend, never a crash.
            raise NetworkError(str(error) or type(error).__name__) from error


def _json(raw: bytes) -> dict | None:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None  # a proxy's HTML error page, say: the status code still tells what happened


class Api:
    """login, refresh, pull and push; every non-2xx answer raises ApiError."""

    def __init__(self, transport: Transport):
        self.transport = transport

    def login(self, username: str, password: str, device_id: str) -> dict:
        body = {"username": username, "password": password, "device_id": device_id}
        return self._call(HttpRequest("POST", "/api/v1/auth/login", body=body))

    def refresh(self, refresh_token: str, device_id: str) -> dict:
        body = {"refresh_token": refresh_token, "device_id": device_id}
        return self._call(HttpRequest("POST", "/api/v1/auth/refresh", body=body))

    def pull(self, access_token: str, *, device_id: str, cursor: str | None, limit: int) -> dict:
        query = {"device_id": device_id, "limit": limit, "cursor": cursor}
        return self._call(HttpRequest("GET", "/api/v1/sync/pull", query=query), access_token)

    def push(self, access_token: str, envelope: dict) -> dict:
        return self._call(HttpRequest("POST", "/api/v1/sync/push", body=envelope), access_token)

    def _call(self, request: HttpRequest, access_token: str | None = None) -> dict:
        if access_token:
            request.headers["Authorization"] = f"Bearer {access_token}"
        response = self.transport(request)
        if response.status >= 400:
            raise ApiError(response.status, response.body, response.headers)
        return response.body or {}
