"""Reading request bodies as JSON: one strict parser for Flask's get_json and for webargs.

orjson refuses what the standard library lets through and the database cannot store: NaN and
Infinity, and lone surrogates ("\\ud800"), which have no UTF-8 form. Nesting is bounded too: a
2 KB body of 1,000 nested lists made the standard parser (and later whatever walked the value)
raise RecursionError, a 500 that a phone retries forever. Any of these is 400 malformed_json.
A body of another media type than JSON, on an endpoint that reads JSON, is 415; a body past the
size limit is 413, also when it comes chunked.
"""

import json

import orjson
from flask import Request
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import RequestEntityTooLarge

from backend.errors import Problem
from backend.i18n import is_english

# Deeper than any payload of the API (a push item's payload is about four levels down).
MAX_DEPTH = 32


def parse(data: bytes | str):
    """The JSON value of `data`; raises json.JSONDecodeError (orjson's is one) if it is not
    strict JSON or nests deeper than MAX_DEPTH."""
    value = orjson.loads(data)
    kind = type(value)
    if (kind is dict or kind is list) and _deeper(value, MAX_DEPTH):
        raise json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", "", 0)
    return value


def _deeper(container, room: int) -> bool:
    """Whether `container` nests more than `room` levels (itself included); the recursion goes
    no deeper than `room`, however deep the value."""
    if room == 0:
        return True
    for child in (container.values() if type(container) is dict else container):
        kind = type(child)
        if (kind is dict or kind is list) and _deeper(child, room - 1):
            return True
    return False


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading with parse(); writing is unchanged."""

    def loads(self, s, **kwargs):
        return parse(s)


class StrictRequest(Request):
    def get_data(self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False):
        """A body sent without Content-Length (chunked) and longer than MAX_CONTENT_LENGTH is 413
        like any other: Werkzeug stops reading such a stream at the limit and hands back the
        first 2 MiB as if they were all, which then failed as malformed JSON (400), and a phone
        halves its batch only on 413."""
        data = super().get_data(cache=cache, parse_form_data=parse_form_data)
        limit = self.max_content_length
        if (limit is not None and self.content_length is None and len(data) >= limit
                and self.environ["wsgi.input"].read(1)):
            raise RequestEntityTooLarge()
        return data.decode(errors="replace") if as_text else data

    def on_json_loading_failed(self, e):
        if e is None:  # get_json() on a body that is not JSON
            raise Problem("unsupported_media_type")
        raise Problem("malformed_json", (str(e) or None) if is_english() else None)  # the parser speaks English


class StrictParser(FlaskParser):
    """webargs reads the body through Flask's get_json: one parse per request (cached), the
    strict one, and a body that is not JSON is refused as such instead of read as absent."""

    def _raw_load_json(self, req):
        if not core.is_json(req.mimetype):
            if req.content_length or req.headers.get("Transfer-Encoding"):
                raise Problem("unsupported_media_type")
            return core.missing
        return req.get_json(cache=True)
