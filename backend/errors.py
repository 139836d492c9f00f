"""Problem exceptions and the one problem+json (RFC 9457) handler set.

Every error the API answers has the same shape: type, title, status, detail, a stable machine
`code`, and for validation failures `errors`, a map of field path → reasons. Titles and details
are Chinese by default and English when the caller asks for it with Accept-Language, through
flask-babel's catalogue (backend/translations).
"""

import logging

from flask import Flask, Response, json, request
from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from backend.field_messages import translate
from backend.i18n import N_, is_english

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://carerounds.example/problems/"

# code → (status, title). Titles are catalogue msgids: English here, Chinese in messages.po.
CATALOG = {
    "bad_request": (400, N_("Bad request")),
    "malformed_json": (400, N_("The request body is not valid JSON")),
    "validation_failed": (422, N_("The input failed validation")),
    "unauthorized": (401, N_("Authentication required")),
    "token_expired": (401, N_("The access token has expired")),
    "invalid_token": (401, N_("The access token is invalid")),
    "invalid_credentials": (401, N_("Wrong username or password")),
    "invalid_refresh_token": (401, N_("The refresh token is invalid or expired")),
    "refresh_token_reused": (401, N_("The refresh token was reused; every session of that login was revoked")),
    "token_revoked": (401, N_("This sign-in was revoked; sign in again")),
    "account_disabled": (403, N_("The account is disabled")),
    "device_not_bound": (403, N_("The device is not the one the token was issued to")),
    "forbidden": (403, N_("You may not do this")),
    "not_found": (404, N_("Not found")),
    "method_not_allowed": (405, N_("Method not allowed")),
    "not_acceptable": (406, N_("Not acceptable")),
    "conflict": (409, N_("Conflicts with existing data")),
    "version_conflict": (409, N_("The record changed since you read it")),
    "followup_locked": (409, N_("The follow-up is resolved and locked")),
    "already_claimed": (409, N_("Someone else has claimed this follow-up")),
    "not_resolved": (409, N_("The follow-up is not resolved")),
    "elder_not_active": (409, N_("The elder is no longer active in the register")),
    "status_report_pending": (409, N_("Another status report on this elder awaits a decision")),
    "status_report_decided": (409, N_("The status report was already confirmed or rejected")),
    "status_report_undecided": (409, N_("Close this follow-up by confirming or rejecting its status report")),
    "review_not_locked": (409, N_("The review decision is not locked")),
    "review_locked": (409, N_("The review decision is locked; an admin must unlock it")),
    "statement_state": (409, N_("The statement's status does not allow this step")),
    "not_eligible": (422, N_("The elder does not qualify for government-funded services")),
    "precondition_required": (428, N_("A version is required")),
    "payload_too_large": (413, N_("The request body is too large")),
    "unsupported_media_type": (415, N_("The body must be application/json")),
    "unsupported_image_type": (415, N_("The image must be PNG, JPEG or WebP")),
    "hash_mismatch": (422, N_("The image does not match its SHA-256")),
    "too_many_requests": (429, N_("Too many attempts; try again later")),
    "internal_error": (500, N_("Internal server error")),
    "service_unavailable": (503, N_("Service unavailable")),
}

_STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_failed", 428: "precondition_required",
    429: "too_many_requests", 503: "service_unavailable",
}

# What a not_found names, for its detail ("任务不存在"); the machine field `resource` keeps the code.
RESOURCES = {
    "resource": N_("resource"), "task": N_("task"), "visit": N_("visit"), "elder": N_("elder"),
    "user": N_("user"), "region": N_("region"), "community": N_("community"), "provider": N_("provider"),
    "plan": N_("plan"), "care plan": N_("care plan"), "patrol plan": N_("patrol plan"),
    "service type": N_("service type"), "review": N_("review"), "callback": N_("call-back"),
    "followup": N_("follow-up"), "follow-up": N_("follow-up"), "notification": N_("notification"),
    "plate": N_("door plate"), "static plate": N_("static door plate"), "dynamic plate": N_("dynamic door plate"),
    "report": N_("report"), "media": N_("media"), "status report": N_("status report"),
    "rectification": N_("rectification order"),
    "statement": N_("statement"),
}


class Problem(HTTPException):
    """An error with a stable code. Raise it anywhere; the handler renders problem+json.

    `detail` and the reasons in `errors` are catalogue messages (lazy_gettext), so that they are
    put in words in the caller's language when the answer is written."""

    def __init__(self, code: str, detail: str | None = None, *, status: int | None = None,
                 errors: dict | None = None, headers: dict | None = None, **extra):
        self.problem_code = code
        self.code = status or CATALOG.get(code, (400,))[0]
        self.problem_detail = detail
        self.errors = errors
        self.extra = extra
        self.problem_headers = headers or {}
        super().__init__(detail)


class NotFound(Problem):
    def __init__(self, what: str = "resource", detail: str | None = None):
        super().__init__("not_found", detail or _l("%(what)s not found", what=_l(RESOURCES.get(what, what))),
                         resource=what)


class Forbidden(Problem):
    def __init__(self, detail: str | None = None):
        super().__init__("forbidden", detail)


class ValidationFailed(Problem):
    """A rule broken by otherwise well-formed input: `field` names it, `reason` (lazy_gettext)
    says why."""

    def __init__(self, field: str, reason: str):
        super().__init__("validation_failed", LazyString(_field_reason, field, reason), errors={field: [reason]})


class Conflict(Problem):
    def __init__(self, detail: str, code: str = "conflict", **extra):
        super().__init__(code, detail, **extra)


def _field_reason(field: str, reason) -> str:
    return f"{field}: {reason}"


def flatten_messages(messages, prefix="") -> dict[str, list[str]]:
    """webargs/marshmallow nest messages by location and field; phones want flat dotted paths."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_messages(value, path))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_schema"] = list(messages)
    elif isinstance(messages, list):
        for i, value in enumerate(messages):
            flat.update(flatten_messages(value, f"{prefix}.{i}" if prefix else str(i)))
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def _strip_location(flat: dict[str, list[str]]) -> dict[str, list[str]]:
    out = {}
    for path, reasons in flat.items():
        head, _, rest = path.partition(".")
        if head in ("json", "query", "querystring", "form", "headers", "files", "view_args") and rest:
            path = rest
        out[path] = reasons
    return out


def problem_response(code: str, status: int, detail: str | None = None, errors: dict | None = None,
                     headers: dict | None = None, **extra) -> Response:
    title = gettext(CATALOG[code][1]) if code in CATALOG else gettext("Error")
    if errors:
        errors = {field: [_reason(reason) for reason in reasons] for field, reasons in errors.items()}
    body = {
        "type": PROBLEM_BASE + code.replace("_", "-"),
        "title": title,
        "status": status,
        "detail": str(detail) if detail else title,
        "code": code,
    }
    if errors:
        body["errors"] = errors
        if detail is None:
            first_field, reasons = next(iter(errors.items()))
            body["detail"] = f"{first_field}: {reasons[0]}"
    body.update({k: v for k, v in extra.items() if v is not None})
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        mimetype="application/problem+json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _reason(reason) -> str:
    """A reason from a service is a catalogue message already; one from marshmallow or a wire
    schema is English text, found again in the catalogue by its template."""
    return translate(reason) if isinstance(reason, str) else str(reason)


def handle_http_exception(error: HTTPException) -> Response:
    if isinstance(error, Problem):
        return problem_response(error.problem_code, error.code, error.problem_detail, error.errors,
                                headers=error.problem_headers, **error.extra)
    status = error.code or 500
    code = _STATUS_CODES.get(status, "bad_request" if status < 500 else "internal_error")
    errors = None
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if messages:
        errors = _strip_location(flatten_messages(messages))
        if errors.get("_schema") == ["Invalid JSON body."] or any(
            reasons == ["Invalid JSON body."] for reasons in errors.values()
        ):
            code, status, errors = "malformed_json", 400, None
    headers = {}
    original = error.get_response()
    for name in ("Allow", "Retry-After", "WWW-Authenticate"):
        if name in original.headers:
            headers[name] = original.headers[name]
    detail = None if status >= 500 or errors else _default_detail(error)
    return problem_response(code, status, detail, errors, headers=headers)


def _default_detail(error: HTTPException) -> str | None:
    """werkzeug's own descriptions are English: the title says it in Chinese."""
    return error.description if is_english() else None


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem_response("internal_error", 500)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
