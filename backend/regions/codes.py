"""统计用区划代码, the 12-digit statistical division codes: which shape a code of each level has,
and that a child's code extends its parent's.

The 12 digits are province (2), city (2), county/district (2), town/street (3) and village/
community (3). A region's code fills its own level's digits, the digits above with its ancestors'
(never zero) and those below with zeros: 本溪市 210500000000, 平山区 210502000000, a street of it
210502001000, a community of that 210502001001.
"""

from flask_babel import gettext

# Where each level's own digits end in the code.
LEVEL_DIGITS = {"city": 4, "district": 6, "street": 9, "community": 12}


def code_problem(level: str, code: str, parent_level: str | None = None, parent_code: str | None = None) -> str | None:
    """Why `code` cannot be the code of a region at `level` under a parent of `parent_level` with
    `parent_code` (None when there is no parent or it has no code); None when it can."""
    if len(code) != 12 or not code.isascii() or not code.isdigit():
        return gettext("must be a 12-digit statistical division code")
    end = LEVEL_DIGITS[level]
    if code[:2] == "00" or any(code[start:stop] == "0" * (stop - start)
                               for start, stop in ((2, 4), (4, 6), (6, 9), (9, 12)) if stop <= end):
        return gettext("must fill every digit group down to its level with a non-zero value")
    if code[end:] != "0" * (12 - end):
        return gettext("digits %(start)d to 12 must be zero at this level", start=end + 1)
    if parent_level is not None and parent_code:
        prefix = parent_code[:LEVEL_DIGITS[parent_level]]
        if not code.startswith(prefix):
            return gettext("must begin with the parent region's code %(prefix)s", prefix=prefix)
    return None


def prefix_of(level: str, code: str) -> str:
    """The leading digits every descendant's code must repeat."""
    return code[:LEVEL_DIGITS[level]]
