"""Issuing, revoking and printing door plates, and checking a scanned plate against a visit.

Keys: a plate is signed with app.config["QR_SECRET"] under app.config.get("QR_KEY_VERSION", 1).
To rotate, set QR_OLD_SECRETS = {old version: old secret, …}, bump QR_KEY_VERSION and put the new
secret in QR_SECRET: new plates are signed with the new key, and plates printed under an old
version keep verifying until they are reissued and the old entry is dropped. A version with no
key reads as a forgery (qr_invalid), so reissue every plate of a version before retiring it.

Problems raised: conflict (409) when a plate is revoked twice, when a concurrent issue already
gave the elder an active plate, or when an active plate's key version has been retired.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.elders.models import Elder
from backend.errors import Conflict
from backend.extensions import db
from backend.plates.models import DoorPlate
from backend.regions.models import Region
from backend.users.models import User
from sync import rules
from sync.items import PlateRecord, judge_qr
from sync.plates import (
    DYNAMIC_PREFIX,
    DYNAMIC_STEP,
    PlateLabel,
    make_dynamic_payload,
    make_payload,
    new_plate_id,
    plates_sheet_pdf,
)
from sync.totp import step_of


@dataclass(frozen=True)
class PresenceResult:
    """What a scan proves: exactly one qr_* flag, and the plate scanned when it is genuine."""

    flags: list[str]
    plate_id: int | None = None

    @property
    def is_verified(self) -> bool:
        return self.flags[0] in (rules.QR_VERIFIED, rules.DYNAMIC_CODE_VERIFIED)


@dataclass(frozen=True)
class DynamicCode:
    payload: str
    valid_from: datetime
    valid_until: datetime


# ------------------------------------------------------------------ keys

def current_key_version() -> int:
    return int(current_app.config.get("QR_KEY_VERSION", 1))


def plate_keys() -> dict[int, bytes]:
    """Key version → key: the old keys of QR_OLD_SECRETS, and QR_SECRET for the current version."""
    keys = {int(version): _as_bytes(secret)
            for version, secret in (current_app.config.get("QR_OLD_SECRETS") or {}).items()}
    keys[current_key_version()] = _as_bytes(current_app.config["QR_SECRET"])
    return keys


def _as_bytes(secret: str | bytes) -> bytes:
    return secret if isinstance(secret, bytes) else secret.encode()


def _key_of(plate: DoorPlate) -> bytes:
    try:
        return plate_keys()[plate.key_version]
    except KeyError:
        raise Conflict(_l("plate %(plate_serial)s was signed with retired key version %(plate_key_version)s; "
                          "reissue it", plate_serial=plate.serial, plate_key_version=plate.key_version)) from None


# ------------------------------------------------------------------ issuing

def active_plate(elder: Elder) -> DoorPlate | None:
    return db.session.execute(
        select(DoorPlate).where(DoorPlate.elder_id == elder.id, DoorPlate.status == "active")
    ).scalar_one_or_none()


def issue_plate(elder: Elder, kind: str = "static", *, by: User | None, at: datetime) -> DoorPlate:
    """A new active plate for `elder`; the current one, if any, is revoked first (a reissue).

    Raises conflict (409) when another transaction gave the elder an active plate meanwhile.
    """
    current = active_plate(elder)
    if current is not None:
        revoke_plate(current, "reissued", by=by, at=at)
    return _insert([elder], kind, by=by, at=at)[0]


def ensure_plates(elders: Iterable[Elder], *, by: User | None = None, at: datetime) -> list[DoorPlate]:
    """A static plate for each elder that has no active plate; returns the plates created.

    Safe to re-run. Raises conflict (409) if a concurrent run issued one of them first.
    """
    elders = list(elders)
    have = set(db.session.execute(
        select(DoorPlate.elder_id).where(DoorPlate.status == "active",
                                         DoorPlate.elder_id.in_([e.id for e in elders]))
    ).scalars()) if elders else set()
    return _insert([e for e in elders if e.id not in have], "static", by=by, at=at)


def _insert(elders: list[Elder], kind: str, *, by: User | None, at: datetime) -> list[DoorPlate]:
    if kind not in ("static", "dynamic"):
        raise ValueError(f"unknown plate kind {kind!r}")
    version = current_key_version()
    # The serial is made from the row id, known only after the insert: a unique placeholder until then.
    plates = [DoorPlate(elder_id=e.id, plate_id=(plate_id := new_plate_id()), serial=f"pending-{plate_id}",
                        key_version=version, kind=kind, status="active", issued_at=at,
                        issued_by_id=by.id if by else None)
              for e in elders]
    if not plates:
        return []
    prefix = current_app.config.get("PLATE_SERIAL_PREFIX", "CR")
    try:
        with db.session.begin_nested():
            db.session.add_all(plates)
            db.session.flush()
            for plate in plates:
                plate.serial = f"{prefix}-{plate.id:06d}"
            db.session.flush()
    except IntegrityError:
        raise Conflict(_l("the elder was given an active plate by someone else meanwhile; reload")) from None
    return plates


def revoke_plate(plate: DoorPlate, reason: str, *, by: User | None, at: datetime) -> None:
    """Revoke an active plate; it stops verifying at once (scans answer qr_revoked).

    Raises conflict (409) when the plate is already revoked.
    """
    if plate.status != "active":
        raise Conflict(_l("plate %(plate_serial)s is already revoked", plate_serial=plate.serial))
    plate.status = "revoked"
    plate.revoked_at = at
    plate.revoked_reason = reason
    plate.revoked_by_id = by.id if by else None
    db.session.flush()


# ------------------------------------------------------------------ payloads and printing

def plate_payload(plate: DoorPlate) -> str:
    """The string a static plate's QR code encodes. Dynamic plates have none: see dynamic_code."""
    if plate.kind != "static":
        raise ValueError("a dynamic plate has no fixed payload")
    return make_payload(_key_of(plate), plate.plate_id, plate.key_version)


def dynamic_code(plate: DoorPlate, at: datetime) -> DynamicCode:
    """What the dynamic plate's in-home device shows at `at`, and the 30-second step it belongs to."""
    if plate.kind != "dynamic":
        raise ValueError("a static plate has no dynamic code")
    start = step_of(at, DYNAMIC_STEP) * DYNAMIC_STEP
    return DynamicCode(
        payload=make_dynamic_payload(_key_of(plate), plate.plate_id, plate.key_version, at),
        valid_from=datetime.fromtimestamp(start, UTC),
        valid_until=datetime.fromtimestamp(start + DYNAMIC_STEP, UTC),
    )


def sheet_labels(community: Region) -> list[PlateLabel]:
    """The labels of a community's plate sheet: its active static plates, by serial.

    Dynamic plates are left out: their code lives on the in-home device, not on paper.
    """
    rows = db.session.execute(
        select(DoorPlate, Elder.name).join(Elder, DoorPlate.elder_id == Elder.id)
        .where(Elder.community_id == community.id, Elder.is_active.is_(True),
               DoorPlate.status == "active", DoorPlate.kind == "static")
        .order_by(DoorPlate.serial)
    ).all()
    return [PlateLabel(payload=plate_payload(plate), serial=plate.serial, community=community.name,
                       elder_name=name) for plate, name in rows]


def plates_sheet(community: Region, labels: list[PlateLabel] | None = None) -> bytes:
    """The printable A4 PDF of the community's plate sheet (`labels`: its sheet_labels, if read already)."""
    return plates_sheet_pdf(sheet_labels(community) if labels is None else labels,
                            title=f"{community.name} 门牌二维码")


# ------------------------------------------------------------------ presence

def verify_presence(qr: str | None, elder_id: int, captured_at: datetime, known: dict | None = None,
                    keys: dict[int, bytes] | None = None) -> PresenceResult:
    """Check a scanned string against the task's elder at the (corrected) capture time.

    The rules are sync.items.judge_qr's: the signature is checked first, without the database, so
    garbage and forgeries cost nothing; a genuine payload then takes one lookup by the unique
    plate_id — none when `known` (a whole push batch's plates: visits.store.plates_of) already holds it.
    `keys` (plate_keys(), read once per batch) saves reading the configuration per scan.
    Reads only, never writes.
    """
    found: dict[str, int] = {}

    def lookup(plate_id: str) -> PlateRecord | None:
        row = (known or {}).get(plate_id) or db.session.execute(
            select(DoorPlate.id, DoorPlate.elder_id, DoorPlate.kind, DoorPlate.status)
            .where(DoorPlate.plate_id == plate_id)
        ).first()
        # A static payload of a dynamic plate is never published, so it cannot come from the door.
        if row is None or (row.kind == "dynamic") != is_dynamic:
            return None
        found["id"] = row.id
        return PlateRecord(plate_id, row.elder_id, is_revoked=row.status != "active")

    is_dynamic = isinstance(qr, str) and qr.strip().startswith(DYNAMIC_PREFIX + ".")
    verdict = judge_qr(keys if keys is not None else plate_keys(), qr.strip() if qr else qr, elder_id=elder_id,
                       corrected_capture=captured_at, lookup=lookup)
    return PresenceResult([verdict.flag], found.get("id"))
