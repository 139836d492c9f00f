"""HOTP (RFC 4226) and TOTP (RFC 6238) one-time codes, written from the RFCs."""

import hashlib
import hmac
import struct
from datetime import UTC, datetime

DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def hotp(secret: bytes, counter: int, *, digits: int = 6, digest: str = "sha1") -> str:
    """RFC 4226 §5.3: HMAC over the 8-byte big-endian counter, then dynamic truncation."""
    if not 6 <= digits <= 10:
        raise ValueError("digits must be between 6 and 10")
    mac = hmac.new(secret, struct.pack(">Q", counter), DIGESTS[digest]).digest()
    offset = mac[-1] & 0x0F  # the low nibble of the last byte picks where the 31 bits start
    binary = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFF_FFFF
    return str(binary % 10**digits).zfill(digits)


def step_of(at: datetime, step: int = 30) -> int:
    """RFC 6238 §4.2: T = floor((unix time - T0) / X) with T0 = 0."""
    if at.tzinfo is None:
        # A naive time is ambiguous by hours; a one-time code must never depend on a guess.
        raise ValueError("a timezone-aware datetime is required")
    elapsed = at - _EPOCH
    return (elapsed.days * 86_400 + elapsed.seconds) // step


def totp(secret: bytes, at: datetime, *, step: int = 30, digits: int = 6, digest: str = "sha1") -> str:
    return hotp(secret, step_of(at, step), digits=digits, digest=digest)


def verify_totp(secret: bytes, code: str, at: datetime, *, step: int = 30, digits: int = 6,
                window: int = 1, digest: str = "sha1") -> int | None:
    """The step counter within ±window steps of `at` whose code equals `code`, else None.

    Nearest steps are tried first so that the reported counter is the most plausible one.
    """
    if len(code) != digits or not (code.isascii() and code.isdigit()):
        return None
    centre = step_of(at, step)
    for delta in sorted(range(-window, window + 1), key=abs):
        counter = centre + delta
        if counter >= 0 and hmac.compare_digest(hotp(secret, counter, digits=digits, digest=digest), code):
            return counter
    return None
