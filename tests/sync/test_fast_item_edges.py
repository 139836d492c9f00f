"""At the edges of what a column holds, the push's fast item loader still gives the schemas' answer."""

import copy

import pytest

from schemas.sync import _fast_load, load_item, validate_item
from tests.sync.test_fast_item_loading import CHECK_IN, CHECK_OUT


def _service(**line):
    return [{"service_type": "meal", "outcome": "refused", "reason": "老人不愿意", **line}]


EDGES = [
    ("captured_at", "2000-01-01T00:00:00+14:00"), ("captured_at", "2100-12-31T23:59:59-12:00"),
    ("captured_at", "1999-12-31T23:59:59+00:00"), ("captured_at", "2101-01-01T00:00:00Z"),
    ("captured_at", "0001-01-01T00:00:00+14:00"), ("captured_at", "9999-12-31T23:59:59-14:00"),
    ("task_id", 2**31 - 1), ("task_id", 2**31), ("task_id", 2**63 - 1), ("task_id", 2**63),
    ("qr", "CR1\x00"), ("qr", "门牌\x00"), ("qr", "门牌\ud800"), ("qr", "门牌"),
]
OUT_EDGES = [("services", _service(service_type="me\x00al")), ("services", _service(reason="老人\x00不愿意")),
             ("services", _service(reason="老人\udfff")), ("services", _service(reason="不在家 \U0001f3e0"))]


@pytest.mark.parametrize("raw", [{**CHECK_IN, k: v} for k, v in EDGES] + [{**CHECK_OUT, k: v} for k, v in OUT_EDGES])
def test_the_fast_loader_agrees_with_the_schema_at_the_edges(raw):
    expected = validate_item(copy.deepcopy(raw))
    assert load_item(copy.deepcopy(raw)) == expected
    fast = _fast_load(copy.deepcopy(raw))
    assert fast is None or (expected[1] is None and fast == expected[0])


@pytest.mark.parametrize("key, value, field", [
    ("captured_at", "0001-01-01T00:00:00+14:00", "captured_at"), ("captured_at", "9999-12-31T00:00:00Z", "captured_at"),
    ("task_id", 2**63, "task_id"), ("qr", "CR1\x00", "qr"),
])
def test_an_item_the_database_cannot_hold_is_invalid_naming_the_field(key, value, field):
    data, errors = load_item({**CHECK_IN, key: value})
    assert data is None and field in errors


def test_a_care_risk_event_dated_out_of_range_is_invalid():
    item = {k: v for k, v in CHECK_IN.items() if k not in ("qr", "location")}
    item.update(type="patrol_report", outcome="seen_well", mode="phone",
                observations={"health": "好"}, care_risk_events=[{"kind": "fall", "occurred_on": "9999-01-01"}])
    errors = load_item(item)[1]
    assert errors == {"care_risk_events": {0: {"occurred_on": ["Must be between 2000-01-01 and 2100-12-31."]}}}
