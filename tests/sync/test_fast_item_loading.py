"""The push's fast item loader gives exactly the schemas' answer, or leaves the item to them."""

import copy
import uuid

import pytest

from schemas.sync import _fast_load, load_item, validate_item

LOCATION = {"lat": 41.8, "lon": 123.4, "accuracy_m": 12}
CHECK_IN = {"id": str(uuid.uuid4()), "seq": 7, "type": "check_in", "task_id": 42,
            "captured_at": "2024-05-02T09:00:00+08:00", "qr": "CR1.ABCDEFGHIJKL.1.ABCDEFGHIJKLMNOPQRST",
            "location": LOCATION}
CHECK_OUT = {**CHECK_IN, "type": "check_out", "satisfaction": 5,
             "services": [{"service_type": "meal", "outcome": "done", "reason": None},
                          {"service_type": "cleaning", "outcome": "refused", "reason": "老人不愿意"}],
             "signature": {"signer": "elder", "confirmed": True, "image_sha256": "a" * 64}}


def variants():
    """Valid and invalid spellings around the two hot item types."""
    out = [CHECK_IN, CHECK_OUT, {k: v for k, v in CHECK_IN.items() if k not in ("qr", "location")},
           {**CHECK_IN, "qr": None, "location": None}, {**CHECK_OUT, "signature": None, "satisfaction": None},
           {k: v for k, v in CHECK_OUT.items() if k not in ("signature", "satisfaction")},
           {**CHECK_OUT, "signature": {"signer": "family", "confirmed": False}},
           {**CHECK_OUT, "services": []}, {**CHECK_IN, "captured_at": "2024-05-02T01:00:00Z"},
           {**CHECK_IN, "captured_at": "2024-05-02T01:00:00.123456-03:30"},
           {**CHECK_IN, "id": CHECK_IN["id"].upper()}, {**CHECK_IN, "id": CHECK_IN["id"].replace("-", "")},
           {**CHECK_IN, "seq": 0}, {**CHECK_IN, "seq": 2**53}, {**CHECK_IN, "location": {**LOCATION, "lat": 90.0}},
           {**CHECK_IN, "location": {"lat": -90, "lon": 180, "accuracy_m": 0}}]
    bad = [("seq", -1), ("seq", 2**53 + 1), ("seq", True), ("seq", "3"), ("seq", 1.0), ("task_id", 0),
           ("task_id", "42"), ("task_id", False), ("id", "nope"), ("id", 5), ("captured_at", "2024-05-02T09:00:00"),
           ("captured_at", "yesterday"), ("captured_at", 1714600000), ("qr", ""), ("qr", "x" * 257), ("qr", 5),
           ("location", {**LOCATION, "lat": 91}), ("location", {**LOCATION, "lat": "41.8"}),
           ("location", {**LOCATION, "lat": True}), ("location", {**LOCATION, "lat": float("nan")}),
           ("location", {"lat": 1, "lon": 2}), ("location", {**LOCATION, "extra": 1}), ("location", []),
           ("type", "checkin"), ("type", ["check_in"]), ("colour", "red"), ("services", "x")]
    out += [{**CHECK_IN, key: value} for key, value in bad]
    bad_out = [("satisfaction", 6), ("satisfaction", True), ("satisfaction", 4.0), ("services", None),
               ("services", [{"service_type": "meal", "outcome": "refused"}]),
               ("services", [{"service_type": "", "outcome": "done"}]),
               ("services", [{"service_type": "meal", "outcome": "done", "note": "x"}]),
               ("services", [{"service_type": "meal", "outcome": "done"}] * 51),
               ("signature", {"signer": "elder", "confirmed": "yes"}), ("signature", {"signer": "elder"}),
               ("signature", {"signer": "elder", "confirmed": True, "image_sha256": "xyz"}),
               ("signature", {"signer": "robot", "confirmed": True})]
    out += [{**CHECK_OUT, key: value} for key, value in bad_out]
    out.append({k: v for k, v in CHECK_OUT.items() if k != "services"})
    return out


@pytest.mark.parametrize("raw", variants())
def test_the_fast_loader_agrees_with_the_schema(raw):
    raw = copy.deepcopy(raw)
    expected = validate_item(copy.deepcopy(raw))
    assert load_item(raw) == expected
    fast = _fast_load(raw)
    assert fast is None or (expected[1] is None and fast == expected[0])


def test_plain_check_ins_and_check_outs_take_the_fast_path():
    assert _fast_load(CHECK_IN) is not None and _fast_load(CHECK_OUT) is not None


def test_other_item_types_go_to_the_schema():
    note = {**CHECK_IN, "type": "note", "text": "hello"}
    del note["qr"], note["location"]
    assert _fast_load(note) is None and load_item(note) == validate_item(note)
