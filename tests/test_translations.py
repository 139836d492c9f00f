"""Everything a Chinese user reads is Chinese: every catalogue message has its zh entry, every
problem code and resource reads in both languages, every message a wire schema can raise is in
the catalogue, and no service raises a problem whose words bypass it."""

import ast
import inspect
import re
from pathlib import Path

import marshmallow
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext

import schemas
import schemas.identity
from backend.errors import CATALOG, RESOURCES
from backend.field_messages import template_of, translate

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "backend/translations/zh/LC_MESSAGES/messages.po"
CJK = re.compile(r"[\u4e00-\u9fff]")
PROBLEMS = {"ValidationFailed": 1, "Conflict": 0, "Forbidden": 0, "NotFound": 1, "Problem": 1}


# pybabel extract -F babel.cfg -k N_ -k _l -k lazy_gettext -k _lp:1c,2 -k lazy_pgettext:1c,2 …
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "_lp": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}


def _extracted() -> set[tuple[str | None, str]]:
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    return {(context, message if isinstance(message, str) else message[0])
            for _file, _line, message, _comments, context
            in extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)}


def test_every_message_in_the_code_has_a_chinese_entry():
    with open(PO, "rb") as po_file:
        catalog = read_po(po_file)
    untranslated = sorted(f"{context}|{msgid}" if context else msgid for context, msgid in _extracted()
                          if catalog.get(msgid, context=context) is None
                          or not catalog.get(msgid, context=context).string
                          or catalog.get(msgid, context=context).fuzzy)
    assert untranslated == [], "add these to messages.po and recompile the .mo"


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_every_problem_code_reads_in_chinese_and_in_english(app, code):
    with app.test_request_context(), force_locale("zh"):
        zh = gettext(CATALOG[code][1])
    with app.test_request_context(), force_locale("en"):
        en = gettext(CATALOG[code][1])
    assert CJK.search(zh), zh
    assert en == CATALOG[code][1] and not CJK.search(en)


@pytest.mark.parametrize("what", sorted(RESOURCES))
def test_every_resource_not_found_reads_in_chinese(app, what):
    from backend.errors import NotFound

    with app.test_request_context(), force_locale("zh"):
        zh = str(NotFound(what).problem_detail)
    with app.test_request_context(), force_locale("en"):
        en = str(NotFound(what).problem_detail)
    assert CJK.search(zh) and "not found" not in zh
    assert en.endswith(" not found") and not CJK.search(en)


def _backend_calls():
    for path in sorted((ROOT / "backend").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                yield path.relative_to(ROOT), node


def test_problems_raised_in_the_backend_say_their_words_through_the_catalogue():
    """A literal or an f-string as a problem's detail or reason is English under zh."""
    bare = []
    for path, call in _backend_calls():
        name = getattr(call.func, "id", None)
        if name in PROBLEMS and len(call.args) > PROBLEMS[name]:
            arg = call.args[PROBLEMS[name]]
            if isinstance(arg, ast.JoinedStr) or (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                bare.append(f"{path}:{call.lineno}")
    assert bare == [], "wrap these in lazy_gettext (_l) and add their zh entries"


def test_every_resource_a_not_found_names_reads_in_both_languages():
    named = set()
    for _path, call in _backend_calls():
        if getattr(call.func, "id", None) == "NotFound" and call.args and isinstance(call.args[0], ast.Constant):
            named.add(call.args[0].value)
        for keyword in call.keywords if getattr(call.func, "id", None) == "scoped_or_404" else ():
            if keyword.arg == "what":
                named |= {c.value for c in ast.walk(keyword.value) if isinstance(c, ast.Constant)
                          and isinstance(c.value, str)}
    assert named and named - set(RESOURCES) == set()


def _schema_messages():
    """Every message a wire schema can raise: its fields' and validators' messages, and the
    literal texts of ValidationError raised in schemas/ (values as {} placeholders)."""
    messages = set()
    for module in (ROOT / "schemas").glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            texts = []
            if getattr(node.func, "id", None) == "ValidationError" and node.args:
                texts.append(node.args[0])
            texts += [k.value for k in node.keywords if k.arg == "error"]
            for text in texts:
                if isinstance(text, ast.Constant) and isinstance(text.value, str):
                    messages.add(text.value)
                elif isinstance(text, ast.JoinedStr):
                    messages.add("".join(v.value if isinstance(v, ast.Constant) else "{x}" for v in text.values))
        for _, schema in inspect.getmembers(__import__(f"schemas.{module.stem}", fromlist=["x"]), inspect.isclass):
            if issubclass(schema, marshmallow.Schema) and schema.__module__.startswith("schemas"):
                messages |= _field_messages(schema().fields.values())
    messages |= {m for m in vars(schemas.fields).get("MESSAGES", ())}
    messages |= set(schemas.identity.MESSAGES)
    return messages


def _field_messages(fields, seen=None):
    seen = seen if seen is not None else set()
    messages = set()
    for field in fields:
        if id(field) in seen:
            continue
        seen.add(id(field))
        messages |= {m for m in field.error_messages.values() if isinstance(m, str)}
        for validator in field.validators:
            for attr, value in vars(validator).items():
                if isinstance(value, str) and (attr.startswith("message") or attr == "error"):
                    messages.add(value)
        for inner in ("inner", "value_field", "key_field"):
            if getattr(field, inner, None) is not None:
                messages |= _field_messages([getattr(field, inner)], seen)
        if isinstance(field, marshmallow.fields.Nested):
            messages |= _field_messages(field.schema.fields.values(), seen)
    return messages


def test_every_message_a_wire_schema_can_raise_is_in_the_catalogue():
    messages = _schema_messages()
    assert "Length must be between {min} and {max}." in messages or "Missing data for required field." in messages
    assert sorted(m for m in messages if template_of(m) is None) == []


def test_marshmallow_messages_are_filled_in_after_translation(app):
    with app.test_request_context(), force_locale("zh"):
        assert translate("Length must be between 1 and 50.") == "长度须在 1 到 50 之间。"
        assert translate("Must be greater than or equal to 1 and less than or equal to 100.") == \
            "须大于等于 1 且小于等于 100。"
        assert translate("Must be one of: a, b.") == "须为以下之一：a, b。"
    with app.test_request_context(), force_locale("en"):
        assert translate("Length must be between 1 and 50.") == "Length must be between 1 and 50."


def test_the_api_answers_in_chinese_by_default_and_in_english_on_request(client, city, login):
    zh = client.get("/api/v1/tasks/999999", headers=login(city.admin)).get_json()
    en = client.get("/api/v1/tasks/999999", headers={**login(city.admin), "Accept-Language": "en"}).get_json()
    assert (zh["detail"], en["detail"]) == ("任务不存在", "task not found")
    assert zh["resource"] == en["resource"] == "task"
    zh = client.get("/api/v1/tasks").get_json()
    en = client.get("/api/v1/tasks", headers={"Accept-Language": "en"}).get_json()
    assert (zh["title"], zh["detail"]) == ("需要登录", "缺少访问令牌（Bearer）")
    assert en["detail"] == "missing bearer token"


def test_a_length_and_a_service_rule_are_chinese_under_zh(client, city, login):
    body = {"username": "x" * 200, "password": "p", "device_id": "d"}
    zh = client.post("/api/v1/auth/login", json=body).get_json()
    assert all(CJK.search(reason) for reasons in zh["errors"].values() for reason in reasons), zh
    zh = client.post("/api/v1/users", json={"username": "newbie", "password": "short", "role": "admin"},
                     headers=login(city.admin)).get_json()
    assert zh["code"] == "validation_failed" and CJK.search(zh["detail"]), zh
