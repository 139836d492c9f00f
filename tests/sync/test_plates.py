"""Signed QR door plates: static and dynamic payloads, QR images and the printable sheet."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from sync.plates import (
    PlateFormatError,
    PlateLabel,
    PlateSignatureError,
    dynamic_secret,
    make_dynamic_payload,
    make_payload,
    mask_name,
    new_plate_id,
    parse_payload,
    plates_sheet_pdf,
    qr_png,
    qr_svg,
    verify_dynamic_payload,
    verify_payload,
)
from tests.poppler import pdf_text

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
SHOWN_AT = datetime(2024, 5, 2, 9, 0, 10, tzinfo=UTC)


@pytest.fixture
def plate_id() -> str:
    return new_plate_id()


def test_a_payload_is_compact_alphanumeric_and_carries_no_personal_data(plate_id):
    payload = make_payload(KEY, plate_id, 3)
    assert re.fullmatch(r"CR1\.[A-Z2-7]{12}\.3\.[A-Z2-7]{20}", payload)
    assert len(payload) == 39


def test_plate_ids_are_random():
    assert len({new_plate_id() for _ in range(50)}) == 50


def test_a_genuine_plate_verifies(plate_id):
    plate = verify_payload(KEY, make_payload(KEY, plate_id, 1))
    assert (plate.plate_id, plate.key_version, plate.is_dynamic) == (plate_id, 1, False)


def test_a_forged_plate_does_not_verify(plate_id):
    with pytest.raises(PlateSignatureError):
        verify_payload(KEY, make_payload(OTHER_KEY, plate_id, 1))


def test_a_plate_with_another_id_pasted_in_does_not_verify(plate_id):
    genuine = make_payload(KEY, plate_id, 1)
    tampered = genuine.replace(plate_id, new_plate_id())
    with pytest.raises(PlateSignatureError):
        verify_payload(KEY, tampered)


def test_a_plate_claiming_another_key_version_does_not_verify(plate_id):
    tampered = make_payload(KEY, plate_id, 1).replace(".1.", ".2.")
    with pytest.raises(PlateSignatureError):
        verify_payload({1: KEY, 2: KEY}, tampered)


def test_plates_verify_under_the_key_of_their_own_version(plate_id):
    old, new = make_payload(OTHER_KEY, plate_id, 1), make_payload(KEY, plate_id, 2)
    keys = {1: OTHER_KEY, 2: KEY}
    assert verify_payload(keys, old).key_version == 1
    assert verify_payload(keys, new).key_version == 2
    with pytest.raises(PlateSignatureError):
        verify_payload({2: KEY}, old)  # version 1 retired


@pytest.mark.parametrize("scanned", [
    "", "hello", "https://example.com/CR1", "CR1.ABCDEFGHIJKL.1", "CR1.abcdefghijkl.1.ABCDEFGHIJKLMNOPQRST",
    "CR1.ABCDEFGHIJK.1.ABCDEFGHIJKLMNOPQRST", "CR1.ABCDEFGHIJKL.01.ABCDEFGHIJKLMNOPQRST",
    "CR1.ABCDEFGHIJKL.1.ABCDEFGHIJKLMNOPQRS1", "CR1D.ABCDEFGHIJKL.1.1234567", "CR2.ABCDEFGHIJKL.1.X",
])
def test_strings_that_are_not_plates_are_refused_as_malformed(scanned):
    with pytest.raises(PlateFormatError):
        parse_payload(scanned)


def test_parsing_does_not_check_the_signature():
    plate = parse_payload("CR1.ABCDEFGHIJKL.7.ABCDEFGHIJKLMNOPQRST")
    assert (plate.plate_id, plate.key_version, plate.mac) == ("ABCDEFGHIJKL", 7, "ABCDEFGHIJKLMNOPQRST")


def test_a_dynamic_code_verifies_at_its_capture_time_and_reports_its_step(plate_id):
    payload = make_dynamic_payload(KEY, plate_id, 1, SHOWN_AT)
    assert re.fullmatch(rf"CR1D\.{plate_id}\.1\.[0-9]{{8}}", payload)
    plate = verify_dynamic_payload(KEY, payload, SHOWN_AT + timedelta(seconds=25))
    assert plate.is_dynamic and plate.step == int(SHOWN_AT.timestamp()) // 30


def test_a_dynamic_code_photographed_and_replayed_an_hour_later_fails(plate_id):
    payload = make_dynamic_payload(KEY, plate_id, 1, SHOWN_AT)
    with pytest.raises(PlateSignatureError):
        verify_dynamic_payload(KEY, payload, SHOWN_AT + timedelta(hours=1))


def test_a_dynamic_code_of_another_plate_fails(plate_id):
    payload = make_dynamic_payload(KEY, new_plate_id(), 1, SHOWN_AT)
    with pytest.raises(PlateSignatureError):
        verify_dynamic_payload(KEY, payload.replace(payload.split(".")[1], plate_id), SHOWN_AT)


def test_each_plate_has_its_own_dynamic_secret(plate_id):
    assert dynamic_secret(KEY, plate_id, 1) != dynamic_secret(KEY, plate_id, 2)
    assert dynamic_secret(KEY, plate_id, 1) != dynamic_secret(KEY, new_plate_id(), 1)


def test_static_and_dynamic_verifiers_refuse_each_others_payloads(plate_id):
    with pytest.raises(PlateFormatError):
        verify_payload(KEY, make_dynamic_payload(KEY, plate_id, 1, SHOWN_AT))
    with pytest.raises(PlateFormatError):
        verify_dynamic_payload(KEY, make_payload(KEY, plate_id, 1), SHOWN_AT)


@pytest.mark.parametrize(("name", "masked"), [
    ("张三丰", "张*丰"), ("李四", "李*"), ("欧阳娜娜", "欧**娜"), ("王", "王"),
])
def test_names_are_masked_to_their_first_and_last_characters(name, masked):
    assert mask_name(name) == masked


def test_qr_images_are_png_and_svg(plate_id):
    payload = make_payload(KEY, plate_id, 1)
    assert qr_png(payload).startswith(b"\x89PNG\r\n\x1a\n")
    svg = qr_svg(payload)
    assert svg.startswith("<svg") and "<path" in svg


def test_the_sheet_is_an_a4_pdf_with_twelve_plates_a_page_and_masked_names(tmp_path):
    labels = [PlateLabel(make_payload(KEY, new_plate_id(), 1), f"P{n:05d}", "和平社区", "张三丰")
              for n in range(13)]
    pdf = plates_sheet_pdf(labels, "和平社区门牌")
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page\n") == 2
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf
    text = pdf_text(pdf, tmp_path)
    assert text.count("张*丰") == 13 and "张三丰" not in text
    assert text.count("和平社区") == 13 + 2  # a plate each, and the title on each page
    assert "P00012" in text and "和平社区门牌" in text
