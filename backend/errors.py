"""Problem exceptions and the one problem+json (RFC 9457) handler set.

Every error the API answers has the same shape: type, title, status, detail, a stable machine
`code`, and for validation failures `errors`, a map of field path → reasons. Titles and details
are Chinese by default and English when the caller asks for it with Accept-Language.
"""

import logging

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://carerounds.example/problems/"

# code → (status, Chinese title, English title)
CATALOG = {
    "bad_request": (400, "请求无效", "Bad request"),
    "malformed_json": (400, "请求体不是有效的 JSON", "The request body is not valid JSON"),
    "validation_failed": (422, "输入未通过校验", "The input failed validation"),
    "unauthorized": (401, "需要登录", "Authentication required"),
    "token_expired": (401, "访问令牌已过期", "The access token has expired"),
    "invalid_token": (401, "访问令牌无效", "The access token is invalid"),
    "invalid_credentials": (401, "用户名或密码错误", "Wrong username or password"),
    "invalid_refresh_token": (401, "刷新令牌无效或已过期", "The refresh token is invalid or expired"),
    "refresh_token_reused": (401, "刷新令牌被重复使用，该设备的登录已全部撤销",
                             "The refresh token was reused; every session of that login was revoked"),
    "account_disabled": (403, "账号已停用", "The account is disabled"),
    "forbidden": (403, "无权执行此操作", "You may not do this"),
    "not_found": (404, "资源不存在", "Not found"),
    "method_not_allowed": (405, "不支持该请求方法", "Method not allowed"),
    "not_acceptable": (406, "无法提供所请求的格式", "Not acceptable"),
    "conflict": (409, "与现有数据冲突", "Conflicts with existing data"),
    "version_conflict": (409, "数据已被他人修改，请刷新后重试", "The record changed since you read it"),
    "followup_locked": (409, "跟进事项已办结并锁定", "The follow-up is resolved and locked"),
    "already_claimed": (409, "跟进事项已被他人认领", "Someone else has claimed this follow-up"),
    "not_resolved": (409, "跟进事项尚未办结", "The follow-up is not resolved"),
    "review_not_locked": (409, "该审核结论未锁定，无需解锁", "The review decision is not locked"),
    "review_locked": (409, "审核结论已锁定，需管理员解锁", "The review decision is locked; an admin must unlock it"),
    "precondition_required": (428, "需要提供版本号", "A version is required"),
    "payload_too_large": (413, "请求体过大", "The request body is too large"),
    "unsupported_media_type": (415, "请求体须为 application/json", "The body must be application/json"),
    "too_many_requests": (429, "尝试次数过多，请稍后再试", "Too many attempts; try again later"),
    "internal_error": (500, "服务器内部错误", "Internal server error"),
    "service_unavailable": (503, "服务暂不可用", "Service unavailable"),
}

_STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_failed", 428: "precondition_required",
    429: "too_many_requests", 503: "service_unavailable",
}

# marshmallow's stock messages, translated. Anything not listed is shown as marshmallow wrote it.
_ZH_MESSAGES = {
    "Missing data for required field.": "缺少必填字段。",
    "Unknown field.": "未知字段。",
    "Field may not be null.": "该字段不能为空。",
    "Not a valid integer.": "不是有效的整数。",
    "Not a valid number.": "不是有效的数字。",
    "Not a valid string.": "不是有效的字符串。",
    "Not a valid boolean.": "不是有效的布尔值。",
    "Not a valid datetime.": "不是有效的日期时间。",
    "Not a valid date.": "不是有效的日期。",
    "Not a valid time.": "不是有效的时间。",
    "Not a valid UUID.": "不是有效的 UUID。",
    "Not a valid list.": "不是有效的列表。",
    "Not a valid mapping type.": "不是有效的对象。",
    "Invalid input type.": "输入类型无效。",
    "Invalid value.": "取值无效。",
    "Shorter than minimum length {min}.": "长度不足。",
    "Invalid JSON body.": "请求体不是有效的 JSON。",
}


def wants_english() -> bool:
    best = request.accept_languages.best_match(["zh", "en"], default="zh") if request else "zh"
    return best == "en"


class Problem(HTTPException):
    """An error with a stable code. Raise it anywhere; the handler renders problem+json."""

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
        super().__init__("not_found", detail or f"{what} not found", resource=what)


class Forbidden(Problem):
    def __init__(self, detail: str | None = None):
        super().__init__("forbidden", detail)


class ValidationFailed(Problem):
    """A rule broken by otherwise well-formed input: `field` names it."""

    def __init__(self, field: str, reason: str):
        super().__init__("validation_failed", f"{field}: {reason}", errors={field: [reason]})


class Conflict(Problem):
    def __init__(self, detail: str, code: str = "conflict", **extra):
        super().__init__(code, detail, **extra)


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
    english = wants_english()
    _, zh_title, en_title = CATALOG.get(code, (status, "错误", "Error"))
    if errors and not english:
        errors = {f: [_ZH_MESSAGES.get(m, m) for m in reasons] for f, reasons in errors.items()}
    body = {
        "type": PROBLEM_BASE + code.replace("_", "-"),
        "title": en_title if english else zh_title,
        "status": status,
        "detail": detail or (en_title if english else zh_title),
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
    return None if wants_english() is False else error.description


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem_response("internal_error", 500)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
