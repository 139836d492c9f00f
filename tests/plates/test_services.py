"""Issuing, revoking and verifying door plates."""

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from backend.errors import Conflict
from backend.extensions import db
from backend.plates.models import DoorPlate
from backend.plates.services import (
    active_plate,
    ensure_plates,
    issue_plate,
    plate_keys,
    plate_payload,
    revoke_plate,
    verify_presence,
)
from sync import rules
from sync.plates import make_dynamic_payload, make_payload, new_plate_id


@pytest.fixture
def plate(city, now):
    plate = issue_plate(city.elder_a1, by=city.admin, at=now)
    db.session.commit()
    return plate


@pytest.fixture
def dynamic_plate(city, now):
    plate = issue_plate(city.elder_a1, "dynamic", by=city.admin, at=now)
    db.session.commit()
    return plate


def shown(plate, at):
    return make_dynamic_payload(plate_keys()[plate.key_version], plate.plate_id, plate.key_version, at)


def test_an_issued_plate_is_active_with_a_readable_serial(city, plate, now):
    assert active_plate(city.elder_a1) == plate
    assert (plate.status, plate.kind, plate.key_version, plate.issued_by_id) == ("active", "static", 1, city.admin.id)
    assert plate.serial == f"CR-{plate.id:06d}"
    assert plate.issued_at == now


def test_the_serial_prefix_and_key_version_come_from_the_config(app, city, now):
    app.config.update(PLATE_SERIAL_PREFIX="QH", QR_KEY_VERSION=2, QR_OLD_SECRETS={1: app.config["QR_SECRET"]},
                      QR_SECRET="a-brand-new-qr-secret-0123456789abcdef")
    try:
        plate = issue_plate(city.elder_a1, by=None, at=now)
        assert plate.serial.startswith("QH-") and plate.key_version == 2
        assert verify_presence(plate_payload(plate), city.elder_a1.id, now).flags == [rules.QR_VERIFIED]
    finally:
        app.config.update(QR_SECRET=app.config["QR_OLD_SECRETS"][1], QR_KEY_VERSION=1)
        for name in ("PLATE_SERIAL_PREFIX", "QR_OLD_SECRETS"):
            app.config.pop(name)


def test_plates_of_an_old_key_version_verify_until_that_key_is_dropped(app, city, plate, now):
    payload = plate_payload(plate)
    old_secret = app.config["QR_SECRET"]
    app.config.update(QR_KEY_VERSION=2, QR_SECRET="a-brand-new-qr-secret-0123456789abcdef")
    try:
        app.config["QR_OLD_SECRETS"] = {1: old_secret}
        assert verify_presence(payload, city.elder_a1.id, now).flags == [rules.QR_VERIFIED]
        del app.config["QR_OLD_SECRETS"]
        assert verify_presence(payload, city.elder_a1.id, now).flags == [rules.QR_INVALID]
        with pytest.raises(Conflict):
            plate_payload(plate)
    finally:
        app.config.update(QR_KEY_VERSION=1, QR_SECRET=old_secret)


def test_reissuing_revokes_the_old_plate_and_its_payload_stops_verifying(city, plate, now):
    old_payload = plate_payload(plate)
    new = issue_plate(city.elder_a1, by=city.admin, at=now + timedelta(hours=1))
    db.session.commit()
    assert active_plate(city.elder_a1) == new
    assert (plate.status, plate.revoked_reason, plate.revoked_at) == ("revoked", "reissued", now + timedelta(hours=1))
    assert verify_presence(old_payload, city.elder_a1.id, now).flags == [rules.QR_REVOKED]
    assert verify_presence(plate_payload(new), city.elder_a1.id, now).flags == [rules.QR_VERIFIED]


def test_a_revoked_plate_answers_revoked_even_with_a_good_signature(city, plate, now):
    revoke_plate(plate, "photographed by a stranger", by=city.admin, at=now)
    db.session.commit()
    result = verify_presence(plate_payload(plate), city.elder_a1.id, now)
    assert (result.flags, result.plate_id) == ([rules.QR_REVOKED], plate.id)
    assert active_plate(city.elder_a1) is None
    assert plate.revoked_by_id == city.admin.id


def test_revoking_twice_is_a_conflict(city, plate, now):
    revoke_plate(plate, "lost", by=city.admin, at=now)
    with pytest.raises(Conflict):
        revoke_plate(plate, "lost", by=city.admin, at=now)


def test_the_database_refuses_a_second_active_plate_for_an_elder(city, plate, now):
    db.session.add(DoorPlate(elder_id=city.elder_a1.id, plate_id=new_plate_id(), key_version=1, kind="static",
                             serial="CR-X", status="active", issued_at=now))
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_the_database_allows_many_revoked_plates_for_an_elder(city, plate, now):
    for _ in range(3):
        issue_plate(city.elder_a1, by=city.admin, at=now)
    db.session.commit()
    assert db.session.query(DoorPlate).filter_by(elder_id=city.elder_a1.id, status="revoked").count() == 3


def test_ensure_plates_issues_only_the_missing_plates(city, plate, now):
    created = ensure_plates([city.elder_a1, city.elder_a2, city.elder_b1], at=now)
    db.session.commit()
    assert sorted(p.elder_id for p in created) == sorted([city.elder_a2.id, city.elder_b1.id])
    assert all(p.issued_by_id is None and p.kind == "static" for p in created)
    assert len({p.serial for p in created} | {plate.serial}) == 3
    assert ensure_plates([city.elder_a1, city.elder_a2, city.elder_b1], at=now) == []


def test_a_genuine_plate_of_the_elder_verifies(city, plate, now):
    result = verify_presence(plate_payload(plate), city.elder_a1.id, now)
    assert (result.flags, result.plate_id, result.is_verified) == ([rules.QR_VERIFIED], plate.id, True)


def test_surrounding_whitespace_from_a_scanner_is_forgiven(city, plate, now):
    assert verify_presence(f" {plate_payload(plate)}\n", city.elder_a1.id, now).flags == [rules.QR_VERIFIED]


@pytest.mark.parametrize("qr", [None, "", "   "])
def test_no_scan_is_missing(city, qr, now):
    result = verify_presence(qr, city.elder_a1.id, now)
    assert (result.flags, result.plate_id, result.is_verified) == ([rules.QR_MISSING], None, False)


@pytest.mark.parametrize("qr", ["hello", "https://example.com/?plate=1", "CR1.ABCDEFGHIJKL.1.ABC", "CR1D.X.1.1"])
def test_garbage_is_invalid(city, plate, qr, now):
    assert verify_presence(qr, city.elder_a1.id, now).flags == [rules.QR_INVALID]


def test_a_forged_mac_is_invalid(city, plate, now):
    forged = make_payload(b"f" * 32, plate.plate_id, plate.key_version)
    result = verify_presence(forged, city.elder_a1.id, now)
    assert (result.flags, result.plate_id) == ([rules.QR_INVALID], None)


def test_a_signed_but_never_issued_plate_is_invalid(city, plate, now):
    stray = make_payload(plate_keys()[1], new_plate_id(), 1)
    assert verify_presence(stray, city.elder_a1.id, now).flags == [rules.QR_INVALID]


def test_another_elders_plate_is_the_wrong_elder(city, plate, now):
    result = verify_presence(plate_payload(plate), city.elder_b1.id, now)
    assert (result.flags, result.plate_id) == ([rules.QR_WRONG_ELDER], plate.id)


def test_a_dynamic_code_verifies_at_its_capture_time(city, dynamic_plate, now):
    result = verify_presence(shown(dynamic_plate, now), city.elder_a1.id, now + timedelta(seconds=20))
    assert (result.flags, result.plate_id) == ([rules.DYNAMIC_CODE_VERIFIED], dynamic_plate.id)


def test_a_dynamic_code_replayed_an_hour_later_is_invalid(city, dynamic_plate, now):
    result = verify_presence(shown(dynamic_plate, now), city.elder_a1.id, now + timedelta(hours=1))
    assert result.flags == [rules.QR_INVALID]


def test_a_dynamic_code_of_another_elder_is_the_wrong_elder(city, dynamic_plate, now):
    assert verify_presence(shown(dynamic_plate, now), city.elder_b1.id, now).flags == [rules.QR_WRONG_ELDER]


def test_the_static_payload_of_a_dynamic_plate_is_invalid(city, dynamic_plate, now):
    static = make_payload(plate_keys()[1], dynamic_plate.plate_id, 1)
    assert verify_presence(static, city.elder_a1.id, now).flags == [rules.QR_INVALID]
    with pytest.raises(ValueError):
        plate_payload(dynamic_plate)
