"""Per-item helpers for the server: the idempotency fingerprint and the QR verdict of a pushed item."""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sync import rules
from sync.plates import Keys, ParsedPlate, PlateError, verify_dynamic_payload, verify_payload


def item_fingerprint(raw_item: dict) -> str:
    """SHA-256 hex of the item's canonical JSON, to tell a resend from a reused UUID.

    Canonical: keys sorted, no whitespace (',' and ':'), non-ASCII kept as UTF-8. A phone that
    resends the item it stored gets the same fingerprint however its JSON library orders keys.
    """
    canonical = json.dumps(raw_item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class PlateRecord:
    """What the server knows of a plate id: whose door it hangs on and whether it still counts."""

    plate_id: str
    elder_id: int
    is_revoked: bool = False


@dataclass(frozen=True)
class QrVerdict:
    flag: str
    plate: ParsedPlate | None = None


def judge_qr(keys: Keys, qr: str | None, *, elder_id: int, corrected_capture: datetime,
             lookup: Callable[[str], PlateRecord | None]) -> QrVerdict:
    """The one QR flag an item earns: verified, missing, invalid, wrong elder or revoked.

    The signature is checked before the lookup so that forged ids never reach the database.
    """
    qr = qr.strip() if qr else qr  # scanners may add a trailing newline
    if not qr:
        return QrVerdict(rules.QR_MISSING)
    try:
        if qr.startswith("CR1D."):
            plate = verify_dynamic_payload(keys, qr, corrected_capture)
        else:
            plate = verify_payload(keys, qr)
    except PlateError:
        return QrVerdict(rules.QR_INVALID)
    record = lookup(plate.plate_id)
    if record is None:
        return QrVerdict(rules.QR_INVALID, plate)  # signed by us, yet never issued: a leaked key?
    if record.is_revoked:
        return QrVerdict(rules.QR_REVOKED, plate)
    if record.elder_id != elder_id:
        return QrVerdict(rules.QR_WRONG_ELDER, plate)
    return QrVerdict(rules.DYNAMIC_CODE_VERIFIED if plate.is_dynamic else rules.QR_VERIFIED, plate)
