"""Reading the console's GET filters and POST forms: the API's own schemas check their shape, so a
console filter means exactly what the same API argument means.

HTML forms send every field, empty or not; empty ones are left out before loading, and fields
that may repeat (a multi-select) are read as lists.
"""

from datetime import datetime

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError

from backend.clock import care_tz
from backend.errors import ValidationFailed


def load_query(schema: Schema, *, lists: tuple[str, ...] = (), source=None) -> tuple[dict, dict]:
    """(values, errors): the schema's fields read from the query string (or `source`)."""
    source = request.args if source is None else source
    raw: dict = {}
    for name in schema.fields:
        if name in lists:
            values = [value for value in source.getlist(name) if value.strip()]
            if values:
                raw[name] = values
        elif (value := source.get(name, "").strip()):
            raw[name] = value
    try:
        return schema.load(raw), {}
    except ValidationError as error:
        return {}, error.messages


def repeated(names: tuple[str, ...], *, lists: tuple[str, ...] = ()) -> dict:
    """The query string's non-empty filters, to repeat in links (pages, exports, a changed language)."""
    query: dict = {}
    for name in names:
        if name in lists:
            if values := [value for value in request.args.getlist(name) if value.strip()]:
                query[name] = values
        elif request.args.get(name, "").strip():
            query[name] = request.args[name].strip()
    return query


def local_datetime(field: str, text: str | None) -> datetime | None:
    """A datetime-local input (the care time zone's wall clock) as an aware UTC instant."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=care_tz())
    except ValueError:
        raise ValidationFailed(field, _l("not a date and time")) from None


def integer(field: str, text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValidationFailed(field, _l("not a whole number")) from None


def invalid_fields_message(errors: dict, names: dict[str, str]) -> str:
    fields = ", ".join(_(names.get(name, name)) for name in errors)
    return _("Check these fields: %(fields)s", fields=fields)
