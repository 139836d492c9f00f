"""Serves the field app's shell at /app/: its page, manifest, service worker and static files.

The app is plain JavaScript modules with no build step; it speaks to /api/v1 like any phone.
The service worker is the one file rendered here: it carries the shell's version (a hash of every
static file) and the list of files to cache, so a changed shell is a changed worker, which the
browser installs beside the running one and lets take over only on the app's next start.
"""

import hashlib
import json
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory

from backend.fieldapp.strings import catalogue

STATIC = Path(__file__).resolve().parent / "static"

bp = Blueprint("fieldapp", __name__, url_prefix="/app", static_folder=None)


@bp.get("/")
def index():
    return _no_cache(send_from_directory(STATIC, "index.html"))


@bp.get("/sw.js")
def service_worker():
    files_version, files = shell()
    # The words are part of the shell: a changed translation is a new version too.
    version = hashlib.sha256((files_version + strings_module()).encode()).hexdigest()[:16]
    body = (STATIC / "sw.template.js").read_text().replace(
        "__SHELL_VERSION__", version).replace('"__SHELL_FILES__"', json.dumps(["./", "strings.js", *files]))
    return _no_cache(Response(body, mimetype="text/javascript"))


@bp.get("/strings.js")
def strings():
    return _no_cache(Response(strings_module(), mimetype="text/javascript"))


def strings_module() -> str:
    """The app's words in both languages, from the babel catalogue, as an ES module."""
    return "export default " + json.dumps(catalogue(), ensure_ascii=False, sort_keys=True) + ";\n"


@bp.get("/<path:filename>")
def static_file(filename):
    if filename.endswith(".template.js"):
        return current_app.make_response(("", 404))
    response = send_from_directory(STATIC, filename, max_age=0)
    if filename.endswith(".webmanifest"):
        response.mimetype = "application/manifest+json"
    return response


def _no_cache(response: Response) -> Response:
    # The page and the worker must be revalidated: the worker decides which shell a phone runs.
    response.headers["Cache-Control"] = "no-cache"
    return response


@cache
def shell() -> tuple[str, list[str]]:
    """The shell's version and its files (relative to /app/), read once per process."""
    # The QR decoder is cached too: a phone without BarcodeDetector scans offline with it.
    files = sorted(str(p.relative_to(STATIC)) for p in STATIC.rglob("*")
                   if p.is_file() and p.name not in ("sw.template.js", "LICENSE", "README"))
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0" + (STATIC / name).read_bytes())
    return digest.hexdigest()[:16], files
