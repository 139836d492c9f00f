"""A reference phone client: local store, HTTP calls and the sync loop a phone app follows."""

from sync.client.api import Api, ApiError, HttpRequest, HttpResponse, NetworkError, UrllibTransport
from sync.client.client import AuthRequired, DigestMismatch, PhoneClient, PushSummary
from sync.client.store import Store

__all__ = [
    "Api", "ApiError", "AuthRequired", "DigestMismatch", "HttpRequest", "HttpResponse", "NetworkError",
    "PhoneClient", "PushSummary", "Store", "UrllibTransport",
]
