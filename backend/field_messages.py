"""What a field's validation message says, in the reader's language.

marshmallow, webargs and our wire schemas (schemas/, which import nothing from backend/) write
their messages in English, values already filled in ("Length must be between 1 and 50."). Each
message they can write is listed here once as a catalogue template; `translate` finds the
template a message was made from and fills the translated template with the same values.
tests/test_translations.py holds every message the schemas can raise against this list.
"""

import re
from functools import cache

from flask_babel import gettext

from backend.i18n import N_

TEMPLATES = (
    # marshmallow.fields
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Invalid value."),
    N_("Invalid input."),
    N_("Invalid type."),
    N_("Invalid input type."),
    N_("Unknown field."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("Not a valid string."),
    N_("Not a valid utf-8 string."),
    N_("Not a valid boolean."),
    N_("Not a valid datetime."),
    N_("Not a valid date."),
    N_("Not a valid time."),
    N_("Not a valid {obj_type}."),
    N_("Not a valid {awareness} {obj_type}."),
    N_("\"{input}\" cannot be formatted as a {obj_type}."),
    N_("\"{input}\" cannot be formatted as a date."),
    N_("Not a valid period of time."),
    N_("Not a valid UUID."),
    N_("Not a valid list."),
    N_("Not a valid tuple."),
    N_("Not a valid mapping type."),
    N_("Not a valid email address."),
    N_("Not a valid URL."),
    N_("Not a valid IP address."),
    N_("Not a valid IPv4 address."),
    N_("Not a valid IPv6 address."),
    N_("Must be one of: {choices}."),
    # marshmallow.validate
    N_("Length must be between {min} and {max}."),
    N_("Length must be {equal}."),
    N_("Shorter than minimum length {min}."),
    N_("Longer than maximum length {max}."),
    N_("Must be greater than or equal to {min} and less than or equal to {max}."),
    N_("Must be greater than {min} and less than {max}."),
    N_("Must be greater than or equal to {min} and less than {max}."),
    N_("Must be greater than {min} and less than or equal to {max}."),
    N_("Must be greater than or equal to {min}."),
    N_("Must be greater than {min}."),
    N_("Must be less than or equal to {max}."),
    N_("Must be less than {max}."),
    N_("Must be equal to {other}."),
    N_("String does not match expected pattern."),
    N_("One or more of the choices you made was not in: {choices}."),
    N_("One or more of the choices you made was in: {values}."),
    # webargs
    N_("Invalid JSON body."),
    # schemas/fields.py: what a database column cannot hold
    N_("Must not contain NUL characters."),
    N_("Must not contain unpaired surrogate characters."),
    N_("Must be between {low} and {high}."),
    N_("Must be between {first}-01-01 and {last}-12-31."),
    N_("must be a month as YYYY-MM ({first} … {last})"),
    # schemas/elders.py, schemas/identity.py
    N_("must be 18 characters: 17 digits, then a digit or X"),
    N_("the birth date inside it is not a real date"),
    N_("the check digit is wrong (GB 11643)"),
    N_("lat and lon come together"),
    N_("must be 5 to 18 letters or digits"),
    N_("a residence permit number starts with 810000, 820000 or 830000"),
    N_("a foreigner's permanent residence card number is 18 characters starting with 9, or 3 letters and 12 digits"),
    N_("a passport number is 5 to 18 letters and digits"),
    N_("must be an 11-digit mobile number or a landline number with its area code"),
    # schemas/followups.py
    N_("Must be after window_start_at."),
    N_("Must be at most 92 days after window_start_at."),
    # schemas/plans.py
    N_("must be a local time as HH:MM"),
    N_("2–32 lower-case letters or underscores"),
    N_("a {freq} recurrence needs {name}"),
    N_("not used by a {freq} recurrence"),
    N_("must differ from start"),
    N_("must not be before starts_on"),
    # schemas/providers.py, schemas/regions.py, schemas/users.py
    N_("must be an 18-character unified social credit code"),
    N_("must be a 12-digit statistical division code"),
    N_("3–64 letters, digits, '_', '.' or '-'"),
    # schemas/sync.py
    N_("Required when the outcome is not done."),
    N_("Not a SHA-256 hex digest."),
    N_("Required when the elder was seen."),
    # schemas/visitlog.py
    N_("must not be before {first}"),
    # backend/media: an image upload
    N_("Must be image/png, image/jpeg or image/webp."),
    N_("The bytes are not an image of the type in Content-Type."),
    N_("Does not match the SHA-256 of the body."),
    N_("Must be 64 lower-case hexadecimal digits."),
)

_FIELD = re.compile(r"\{(\w+)\}")


@cache
def _index() -> tuple[dict[str, str], tuple[tuple[re.Pattern, str], ...]]:
    """Templates without values by their text; the others as patterns, the longest first so that
    "Must be greater than or equal to {min}." wins over "Must be greater than {min}."."""
    exact, patterns = {}, []
    for msgid in TEMPLATES:
        if _FIELD.search(msgid) is None:
            exact[msgid] = msgid
            continue
        parts = _FIELD.split(msgid)
        regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
        patterns.append((re.compile(regex + r"\Z", re.DOTALL), msgid))
    patterns.sort(key=lambda pattern: -len(pattern[1]))
    return exact, tuple(patterns)


def template_of(message: str) -> str | None:
    """The catalogue template `message` was made from, or None."""
    exact, patterns = _index()
    if message in exact:
        return message
    for pattern, msgid in patterns:
        if pattern.match(message):
            return msgid
    return None


def translate(message: str) -> str:
    """`message` in the reader's language; as it came when no template made it."""
    exact, patterns = _index()
    if message in exact:
        return gettext(message)
    for pattern, msgid in patterns:
        match = pattern.match(message)
        if match:
            return gettext(msgid).format(**match.groupdict())
    return message
