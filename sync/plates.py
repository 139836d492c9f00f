"""Signed QR door plates: payload strings, their verification, QR images and printable sheets.

qrcode and reportlab are imported by the functions that draw: every push verifies plates, but
few processes ever draw one, and reportlab alone weighs 17 MB in each of them.
"""

import base64
import hashlib
import hmac
import io
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sync.fonts import cjk_font
from sync.totp import totp, verify_totp

if TYPE_CHECKING:
    import qrcode
    from reportlab.pdfgen import canvas

# Everything in a payload is upper-case base32, digits and '.', so the QR code uses its
# alphanumeric mode: a smaller symbol that still scans from a worn plate in a dark corridor.
STATIC_PREFIX = "CR1"
DYNAMIC_PREFIX = "CR1D"
PLATE_ID_LENGTH = 12  # 60 random bits
MAC_LENGTH = 20  # 100 bits of HMAC-SHA256: forging needs ~2^100 tries against the server
DYNAMIC_STEP = 30
DYNAMIC_DIGITS = 8
DYNAMIC_WINDOW = 1  # ±1 step: the in-home device's clock and the phone's corrected clock may disagree

_ID = f"([A-Z2-7]{{{PLATE_ID_LENGTH}}})"
_VERSION = "(0|[1-9][0-9]{0,5})"
_STATIC = re.compile(rf"^CR1\.{_ID}\.{_VERSION}\.([A-Z2-7]{{{MAC_LENGTH}}})$")
_DYNAMIC = re.compile(rf"^CR1D\.{_ID}\.{_VERSION}\.([0-9]{{{DYNAMIC_DIGITS}}})$")

Keys = bytes | Mapping[int, bytes]


class PlateError(ValueError):
    """Base of every plate problem: the server records any of them as qr_invalid."""


class PlateFormatError(PlateError):
    """The string is not a CareRounds plate payload at all."""


class PlateSignatureError(PlateError):
    """The payload is well formed but was not made with our key (forged, altered or stale)."""


@dataclass(frozen=True)
class ParsedPlate:
    plate_id: str
    key_version: int
    is_dynamic: bool
    mac: str | None = None  # static plates
    code: str | None = None  # dynamic plates
    step: int | None = None  # dynamic plates, once verified: the TOTP counter that matched


@dataclass(frozen=True)
class PlateLabel:
    """One plate as printed: what the sheet shows next to the QR image."""

    payload: str
    serial: str
    community: str
    elder_name: str


def new_plate_id() -> str:
    return base64.b32encode(secrets.token_bytes(10)).decode()[:PLATE_ID_LENGTH]


def _mac(key: bytes, plate_id: str, key_version: int) -> str:
    digest = hmac.new(key, f"CR1|{plate_id}|{key_version}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:15]).decode()[:MAC_LENGTH]


def make_payload(key: bytes, plate_id: str, key_version: int) -> str:
    """The string a static plate's QR code encodes: `CR1.<plate_id>.<key_version>.<mac>`."""
    payload = f"{STATIC_PREFIX}.{plate_id}.{key_version}.{_mac(key, plate_id, key_version)}"
    parse_payload(payload)  # refuse to print a plate that our own parser would reject
    return payload


def parse_payload(s: str) -> ParsedPlate:
    """Split a scanned string into its parts without checking any signature."""
    s = s.strip() if isinstance(s, str) else ""
    if match := _STATIC.match(s):
        return ParsedPlate(match[1], int(match[2]), is_dynamic=False, mac=match[3])
    if match := _DYNAMIC.match(s):
        return ParsedPlate(match[1], int(match[2]), is_dynamic=True, code=match[3])
    raise PlateFormatError("not a CareRounds plate payload")


def _key_for(keys: Keys, key_version: int) -> bytes:
    if isinstance(keys, bytes):
        return keys
    try:
        return keys[key_version]
    except KeyError:
        # A retired or never-issued key version reads exactly like a forgery to the caller.
        raise PlateSignatureError(f"no key of version {key_version}") from None


def verify_payload(keys: Keys, s: str) -> ParsedPlate:
    """A static payload whose MAC is right, or PlateFormatError / PlateSignatureError.

    `keys` is one key, or a map of key version → key so that plates printed before a key
    rotation keep verifying until the old key is dropped.
    """
    plate = parse_payload(s)
    if plate.is_dynamic:
        raise PlateFormatError("a dynamic code needs verify_dynamic_payload and a capture time")
    expected = _mac(_key_for(keys, plate.key_version), plate.plate_id, plate.key_version)
    if not hmac.compare_digest(expected, plate.mac or ""):
        raise PlateSignatureError("the plate signature does not match")
    return plate


def dynamic_secret(key: bytes, plate_id: str, key_version: int) -> bytes:
    """The TOTP secret of one plate's in-home device, derived so the server stores nothing extra."""
    return hmac.new(key, f"dyn|{plate_id}|{key_version}".encode(), hashlib.sha256).digest()


def make_dynamic_payload(key: bytes, plate_id: str, key_version: int, at: datetime) -> str:
    """What the in-home device shows at `at`: `CR1D.<plate_id>.<key_version>.<8-digit code>`."""
    secret = dynamic_secret(key, plate_id, key_version)
    code = totp(secret, at, step=DYNAMIC_STEP, digits=DYNAMIC_DIGITS)
    return f"{DYNAMIC_PREFIX}.{plate_id}.{key_version}.{code}"


def verify_dynamic_payload(keys: Keys, s: str, captured_at: datetime) -> ParsedPlate:
    """A dynamic payload whose code was current at `captured_at` (±1 step), with the matched step.

    `captured_at` must be the server-corrected capture time, not the raw device time: a code
    photographed and replayed later only verifies against the time it was shown.
    """
    plate = parse_payload(s)
    if not plate.is_dynamic:
        raise PlateFormatError("a static plate needs verify_payload")
    secret = dynamic_secret(_key_for(keys, plate.key_version), plate.plate_id, plate.key_version)
    step = verify_totp(secret, plate.code or "", captured_at, step=DYNAMIC_STEP, digits=DYNAMIC_DIGITS,
                       window=DYNAMIC_WINDOW)
    if step is None:
        raise PlateSignatureError("the code was not current at the capture time")
    return ParsedPlate(plate.plate_id, plate.key_version, is_dynamic=True, code=plate.code, step=step)


def mask_name(name: str) -> str:
    """张三丰 → 张*丰, 李四 → 李*: enough for a caregiver at the door, too little for a stranger."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _qr(payload: str) -> "qrcode.QRCode":
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    # Level M survives ~15% damage: plates get scratched, faded and partly covered.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(payload)
    code.make(fit=True)
    return code


def qr_png(payload: str) -> bytes:
    out = io.BytesIO()
    _qr(payload).make_image().save(out)
    return out.getvalue()


def qr_svg(payload: str) -> str:
    import qrcode.image.svg

    return _qr(payload).make_image(image_factory=qrcode.image.svg.SvgPathImage).to_string(encoding="unicode")


# A4 in 3 × 4 cells of 60 × 66 mm: a plate big enough to scan at arm's length, cut on the grey lines.
# In points, as reportlab.lib.units and .pagesizes define them.
mm = 72.0 / 2.54 * 0.1
A4 = (210 * mm, 297 * mm)
_COLUMNS, _ROWS = 3, 4
_CELL_W, _CELL_H = 60 * mm, 66 * mm
_QR_SIZE = 44 * mm


def plates_sheet_pdf(plates: list[PlateLabel], title: str) -> bytes:
    """A printable A4 PDF: a grid of plates, each with its QR code, community, masked name, serial.

    Every string is set in the embedded CJK font, digits too, so the file depends on no font of the
    reader's machine.
    """
    from reportlab.pdfgen import canvas

    font = cjk_font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=True, initialFontName=font.name)
    pdf.setTitle(title)
    pdf.setCreator(f"CareRounds; {font.describe()}")
    per_page = _COLUMNS * _ROWS
    pages = max(1, -(-len(plates) // per_page))
    for page in range(pages):
        _draw_header(pdf, font.name, title, page + 1, pages)
        for index, plate in enumerate(plates[page * per_page:(page + 1) * per_page]):
            _draw_plate(pdf, font.name, plate, *divmod(index, _COLUMNS))
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def _draw_header(pdf: "canvas.Canvas", font: str, title: str, page: int, pages: int) -> None:
    width, height = A4
    pdf.setFont(font, 14)
    pdf.drawString(15 * mm, height - 14 * mm, title)
    pdf.setFont(font, 9)
    pdf.drawRightString(width - 15 * mm, height - 14 * mm, f"{page} / {pages}")


def _draw_plate(pdf: "canvas.Canvas", font: str, plate: PlateLabel, row: int, column: int) -> None:
    from reportlab.lib.utils import ImageReader

    width, height = A4
    left = (width - _COLUMNS * _CELL_W) / 2 + column * _CELL_W
    top = height - 20 * mm - row * _CELL_H
    pdf.setStrokeColorRGB(0.75, 0.75, 0.75)
    pdf.rect(left, top - _CELL_H, _CELL_W, _CELL_H)
    image = ImageReader(io.BytesIO(qr_png(plate.payload)))
    pdf.drawImage(image, left + (_CELL_W - _QR_SIZE) / 2, top - 3 * mm - _QR_SIZE, _QR_SIZE, _QR_SIZE)
    centre = left + _CELL_W / 2
    pdf.setFont(font, 10)
    pdf.drawCentredString(centre, top - _QR_SIZE - 8 * mm, plate.community)
    pdf.setFont(font, 13)
    pdf.drawCentredString(centre, top - _QR_SIZE - 14 * mm, mask_name(plate.elder_name))
    pdf.setFont(font, 8)
    pdf.drawCentredString(centre, top - _QR_SIZE - 19 * mm, plate.serial)
