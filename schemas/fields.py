"""marshmallow's fields, with every field that carries a value into the database made safe for it.

Schemas import `fields` from here, never from marshmallow, so that no payload can reach the
database with a value it refuses (an error there is a 500, and a phone retries a 500 forever):

- Integer is bounded to PostgreSQL's INTEGER (32-bit signed) unless declared `bits=64` for a
  BIGINT column;
- String refuses NUL characters and lone surrogates, which no text column can store;
- Date, DateTime and AwareDateTime accept only the years FIRST_YEAR … LAST_YEAR as written (in the
  value's own offset), far from the edges where Python's and PostgreSQL's calendars overflow;
- Month is a YYYY-MM string within the same years.

Float needs no change: marshmallow already refuses NaN, infinities and numbers too large for a float.
"""

import re

from marshmallow import ValidationError, validate
from marshmallow.fields import (  # noqa: F401  (re-exported: the schemas' one source of fields)
    UUID,
    Boolean,
    Constant,
    Dict,
    Field,
    Float,
    Function,
    List,
    Method,
    Nested,
    Raw,
)
from marshmallow.fields import AwareDateTime as _AwareDateTime
from marshmallow.fields import Date as _Date
from marshmallow.fields import DateTime as _DateTime
from marshmallow.fields import Integer as _Integer
from marshmallow.fields import String as _String

# The calendar every date and time of the API falls in (docs/sync-protocol.md §1).
FIRST_YEAR, LAST_YEAR = 2000, 2100
# Birth dates reach further back than any record the system makes.
FIRST_BIRTH_YEAR = 1900

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)

# Every message these fields raise; backend/errors.py translates each (a test holds them together).
NUL_MESSAGE = "Must not contain NUL characters."
SURROGATE_MESSAGE = "Must not contain unpaired surrogate characters."
MONTH_MESSAGE = f"must be a month as YYYY-MM ({FIRST_YEAR}-01 … {LAST_YEAR}-12)"


def _range_message(low, high) -> str:
    return f"Must be between {low} and {high}."


def _years_message(first_year: int, last_year: int = LAST_YEAR) -> str:
    return _range_message(f"{first_year}-01-01", f"{last_year}-12-31")


MESSAGES = (NUL_MESSAGE, SURROGATE_MESSAGE, MONTH_MESSAGE, _range_message(*INT32), _range_message(*INT64),
            _years_message(FIRST_YEAR), _years_message(FIRST_BIRTH_YEAR))


def text_problem(value: str) -> str | None:
    """Why a text column cannot store `value`, or None. C-speed for the usual ASCII text."""
    if "\x00" in value:
        return NUL_MESSAGE
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE_MESSAGE
    return None


class String(_String):
    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(value)
        if problem:
            raise ValidationError(problem)
        return value


class Integer(_Integer):
    """An integer that fits its column: INTEGER, or BIGINT with `bits=64`. The bound is a Range
    validator, so the OpenAPI document shows it."""

    def __init__(self, *, bits: int = 32, **kwargs):
        super().__init__(**kwargs)
        low, high = {32: INT32, 64: INT64}[bits]
        self.validators.append(validate.Range(min=low, max=high, error=_range_message(low, high)))


class _WithinYears:
    first_year = FIRST_YEAR

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if not self.first_year <= value.year <= LAST_YEAR:
            raise ValidationError(_years_message(self.first_year))
        return value


class DateTime(_WithinYears, _DateTime):
    pass


class AwareDateTime(_WithinYears, _AwareDateTime):
    pass


class Date(_WithinYears, _Date):
    pass


class BirthDate(Date):
    first_year = FIRST_BIRTH_YEAR


class Month(String):
    """A calendar month written YYYY-MM, loaded as that string."""

    _pattern = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")

    def __init__(self, **kwargs):
        kwargs["metadata"] = {"pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$", **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        match = self._pattern.fullmatch(value) if isinstance(value, str) else None
        if match is None or not FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
            raise ValidationError(MONTH_MESSAGE)
        return value
