"""How Chinese registers check a person's identity document and phone numbers, as plain functions.

Identity documents (schemas.vocab.ID_DOCUMENT_TYPES): the resident ID card, the Hong Kong/Macao/
Taiwan residence permit and the 2023 foreigner's permanent residence ID card share the 18-character
layout of GB 11643-1999 (6-digit area, 8-digit birth date, 3-digit sequence whose last digit is odd
for men, ISO 7064 MOD 11-2 check character); the permits' areas are 810000/820000/830000 and the
new foreigner's card starts with 9. The older foreigner's card is 3 letters and 12 digits, and a
passport is letters and digits: neither says a birth date or gender we can read.

Every message here is a catalogue template (backend/field_messages.py).
"""

import re
from datetime import date

import phonenumbers

# GB 11643-1999: the 18th character is a checksum of the first 17 (ISO 7064 MOD 11-2).
ID_CARD_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CARD_CHECK_CHARS = "10X98765432"
_ID_CARD_SHAPE = re.compile(r"\d{17}[\dX]")
_OLD_FOREIGN_CARD_SHAPE = re.compile(r"[A-Z]{3}\d{12}")
_PASSPORT_SHAPE = re.compile(r"(?=.*\d)[A-Z0-9]{5,18}")
DOCUMENT_SHAPE = re.compile(r"[0-9A-Z]{5,18}")
# The documents laid out as GB 11643 numbers, and what their first characters must be.
_GB11643_PREFIXES = {"resident_id": None, "hmt_residence_permit": ("810000", "820000", "830000"),
                     "foreign_permanent_residence": ("9",)}

DOCUMENT_SHAPE_MESSAGE = "must be 5 to 18 letters or digits"
ID_CARD_SHAPE_MESSAGE = "must be 18 characters: 17 digits, then a digit or X"
ID_CARD_DATE_MESSAGE = "the birth date inside it is not a real date"
ID_CARD_CHECK_MESSAGE = "the check digit is wrong (GB 11643)"
PERMIT_PREFIX_MESSAGE = "a residence permit number starts with 810000, 820000 or 830000"
FOREIGN_CARD_MESSAGE = "a foreigner's permanent residence card number is 18 characters starting with 9, " \
                       "or 3 letters and 12 digits"
PASSPORT_MESSAGE = "a passport number is 5 to 18 letters and digits"
PHONE_MESSAGE = "must be an 11-digit mobile number or a landline number with its area code"
MESSAGES = (DOCUMENT_SHAPE_MESSAGE, ID_CARD_SHAPE_MESSAGE, ID_CARD_DATE_MESSAGE, ID_CARD_CHECK_MESSAGE,
            PERMIT_PREFIX_MESSAGE, FOREIGN_CARD_MESSAGE, PASSPORT_MESSAGE, PHONE_MESSAGE)


def mask_id_card(value: str | None) -> str | None:
    """`1101**********1234` for an 18-character number; a short one (a passport) keeps at most a
    quarter of its characters at each end, so `E12345678` reads `E1*****78`, never in full."""
    if not value:
        return value
    keep = min(4, len(value) // 4)
    return value[:keep] + "*" * (len(value) - 2 * keep) + (value[-keep:] if keep else "")


def id_card_birth_date(value: str) -> date:
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def id_card_problem(value: str) -> str | None:
    """Why `value` is not a well-formed 18-character GB 11643 number, or None."""
    if not _ID_CARD_SHAPE.fullmatch(value):
        return ID_CARD_SHAPE_MESSAGE
    try:
        id_card_birth_date(value)
    except ValueError:
        return ID_CARD_DATE_MESSAGE
    expected = ID_CARD_CHECK_CHARS[sum(int(d) * w for d, w in zip(value[:17], ID_CARD_WEIGHTS, strict=True)) % 11]
    if value[17] != expected:
        return ID_CARD_CHECK_MESSAGE
    return None


def _gb11643(document_type: str, value: str) -> bool:
    """Whether this document's number follows the GB 11643 layout (birth date and gender inside)."""
    return document_type in _GB11643_PREFIXES and len(value) == 18


def document_problem(document_type: str, value: str) -> str | None:
    """Why `value` is not a well-formed number of that kind of document, or None."""
    if document_type == "passport":
        return None if _PASSPORT_SHAPE.fullmatch(value) else PASSPORT_MESSAGE
    if document_type == "foreign_permanent_residence" and not value.startswith("9"):
        return None if _OLD_FOREIGN_CARD_SHAPE.fullmatch(value) else FOREIGN_CARD_MESSAGE
    problem = id_card_problem(value)
    if problem:
        return problem
    prefixes = _GB11643_PREFIXES[document_type]
    if prefixes and not value.startswith(prefixes):
        return PERMIT_PREFIX_MESSAGE
    return None


def document_birth_date(document_type: str, value: str) -> date | None:
    """The birth date a well-formed number states, or None when its kind states none."""
    return id_card_birth_date(value) if _gb11643(document_type, value) else None


def document_gender(document_type: str, value: str) -> str | None:
    """The gender a well-formed number states (its 17th digit: odd for men), or None."""
    if not _gb11643(document_type, value):
        return None
    return "male" if int(value[16]) % 2 else "female"


def age_on(birth_on: date, day: date) -> int:
    """Full years of age on `day` (周岁); someone born on 29 February turns a year older on 1 March."""
    return day.year - birth_on.year - ((day.month, day.day) < (birth_on.month, birth_on.day))


_PHONE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def normal_phone(value: str) -> str | None:
    """The number as registers write it, or None when it is not a real one: a mobile as its 11
    digits, a landline as area code, hyphen, number (`0411-81234567`), a number outside the
    mainland (written with its +country code) in E.164. Google's libphonenumber metadata knows
    the mainland's mobile prefixes and area codes and how long a number is behind each."""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return None
    if number.extension or not phonenumbers.is_valid_number(number):
        return None
    if number.country_code != 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) \
            if value.lstrip().startswith("+") else None
    if phonenumbers.number_type(number) not in _PHONE_TYPES:
        return None
    national = phonenumbers.national_significant_number(number)
    area = phonenumbers.length_of_geographical_area_code(number)
    return f"0{national[:area]}-{national[area:]}" if area else national
