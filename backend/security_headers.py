"""Protective headers on every response: a Content-Security-Policy per kind of page, nosniff, a
same-origin referrer, no framing, and HSTS on HTTPS."""

import base64
import hashlib
import re

from flask import Flask, request

# The console's pages run only its own static script and style: no inline script, no style
# attributes (its charts are server-drawn SVG without them), forms posting only to itself.
CONSOLE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
# The field app at /app/: its own modules, worker and styles only; it talks to its own origin; the
# camera's stream is shown through srcObject (no URL), a drawn signature or photo is a data:/blob: URL.
APP_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
              "connect-src 'self'; worker-src 'self'; manifest-src 'self'; media-src 'self' blob:; "
              "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
# Everything else is JSON (or a file) for the phones and scripts: nothing in it may load or run.
API_POLICY = "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
# The API docs page is looser, and only it: flask-smorest's Swagger UI page starts the bundle with
# an inline script (allowed by its hash, taken from the page served, so nothing else inline
# runs), and Swagger UI writes inline styles and data: images while it draws.
DOCS_POLICY = ("default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
               "form-action 'none'")
DOCS_ENDPOINT = ".openapi_swagger_ui"

# A year; no includeSubDomains, as other sites may share the domain.
HSTS = "max-age=31536000"

_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def install_security_headers(app: Flask) -> None:
    app.after_request(_add_headers)


def _add_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _policy(response))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:  # over plain http the header is ignored, and must not be sent (RFC 6797)
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _policy(response) -> str:
    if request.path.startswith("/console/"):
        return CONSOLE_POLICY
    if request.path == "/app" or request.path.startswith("/app/"):
        return APP_POLICY
    if (request.endpoint or "").endswith(DOCS_ENDPOINT) and not response.is_streamed:
        hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
                          for body in _INLINE_SCRIPT.findall(response.get_data()))
        return DOCS_POLICY.format(hashes=hashes)
    return API_POLICY
