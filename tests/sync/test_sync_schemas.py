"""The wire schemas of push and pull: what a phone may send and what the server answers."""

import uuid

import pytest
from marshmallow import ValidationError

from schemas.sync import PullArgsSchema, PullResponseSchema, envelope_schema, validate_item


def item(item_type: str, **extra) -> dict:
    return {"id": str(uuid.uuid4()), "seq": 0, "type": item_type, "task_id": 42,
            "captured_at": "2024-05-02T09:00:00+08:00", **extra}


LOCATION = {"lat": 41.8, "lon": 123.4, "accuracy_m": 12.5}
VALID = {
    "check_in": item("check_in", qr="CR1.ABCDEFGHIJKL.1.ABCDEFGHIJKLMNOPQRST", location=LOCATION),
    "check_out": item("check_out", services=[
        {"service_type": "bathing", "outcome": "done"},
        {"service_type": "cleaning", "outcome": "refused", "reason": "老人不愿意"},
    ], satisfaction=5, signature={"signer": "elder", "confirmed": True, "image_sha256": "a" * 64}),
    "patrol_report": item("patrol_report", outcome="seen_needs_help", mode="door", observations={
        "health": "腿疼", "safety": {"gas": "ok", "water": "ok", "electricity": "hazard"}, "needs": "修电线",
    }, care_risk_events=[{"kind": "fall", "occurred_on": "2024-04-30"}]),
    "note": item("note", text="邻居说老人住院了"),
}


@pytest.mark.parametrize("item_type", VALID)
def test_a_valid_item_of_each_type_loads(item_type):
    data, errors = validate_item(VALID[item_type])
    assert errors is None
    assert data["type"] == item_type and isinstance(data["id"], uuid.UUID)


def test_a_check_in_needs_neither_qr_nor_location():
    data, errors = validate_item(item("check_in", qr=None, location=None))
    assert errors is None and data["qr"] is None and data["location"] is None


@pytest.mark.parametrize(("change", "field"), [
    ({"colour": "red"}, "colour"),
    ({"location": {**LOCATION, "lat": 91}}, "location"),
    ({"location": {**LOCATION, "lon": -181}}, "location"),
    ({"location": {**LOCATION, "accuracy_m": -1}}, "location"),
    ({"satisfaction": 6}, "satisfaction"),
    ({"satisfaction": 0}, "satisfaction"),
    ({"captured_at": "2024-05-02T09:00:00"}, "captured_at"),
    ({"seq": -1}, "seq"),
    ({"seq": "3"}, "seq"),
    ({"id": "not-a-uuid"}, "id"),
    ({"services": [{"service_type": "bathing", "outcome": "refused"}]}, "services"),
    ({"services": [{"service_type": "bathing", "outcome": "skipped", "reason": "x"}]}, "services"),
    ({"signature": {"signer": "elder", "confirmed": True, "image_sha256": "xyz"}}, "signature"),
])
def test_a_bad_check_out_is_rejected_naming_its_field(change, field):
    data, errors = validate_item({**VALID["check_out"], **change})
    assert data is None and field in errors


@pytest.mark.parametrize(("change", "field"), [
    ({"outcome": "asleep"}, "outcome"),
    ({"mode": "video"}, "mode"),
    ({"observations": None}, "observations"),
    ({"observations": {"safety": {"gas": "ok", "water": "ok"}}}, "observations"),
    ({"care_risk_events": [{"kind": "burn"}]}, "care_risk_events"),
])
def test_a_bad_patrol_report_is_rejected_naming_its_field(change, field):
    data, errors = validate_item({**VALID["patrol_report"], **change})
    assert data is None and field in errors


def test_a_patrol_that_found_nobody_needs_no_observations():
    _, errors = validate_item({**VALID["patrol_report"], "outcome": "not_at_home", "observations": None})
    assert errors is None


def test_fields_of_another_item_type_are_unknown():
    _, errors = validate_item({**VALID["note"], "satisfaction": 5})
    assert errors == {"satisfaction": ["Unknown field."]}


@pytest.mark.parametrize("raw", [None, [], "x", {"type": "visit"}, {"type": ["note"]}])
def test_things_that_are_not_items_are_rejected_without_raising(raw):
    data, errors = validate_item(raw)
    assert data is None and errors


def test_the_envelope_keeps_items_raw_so_each_is_judged_alone():
    envelope = envelope_schema.load({"device_id": "phone-1", "device_time": "2024-05-02T09:00:00Z",
                                     "items": [VALID["note"], {"type": "garbage"}]})
    assert envelope["items"][1] == {"type": "garbage"}


@pytest.mark.parametrize("change", [
    {"extra": 1}, {"device_time": "2024-05-02T09:00:00"}, {"items": [{}] * 501}, {"device_id": ""},
])
def test_a_bad_envelope_is_refused_whole(change):
    body = {"device_id": "phone-1", "device_time": "2024-05-02T09:00:00Z", "items": [], **change}
    with pytest.raises(ValidationError):
        envelope_schema.load(body)


def test_pull_args_default_the_limit_and_bound_it():
    args = PullArgsSchema().load({"device_id": "phone-1"})
    assert args == {"cursor": None, "limit": 500, "device_id": "phone-1"}
    with pytest.raises(ValidationError):
        PullArgsSchema().load({"device_id": "phone-1", "limit": 1001})


def test_a_pull_page_dumps_with_the_wire_names():
    page = PullResponseSchema().dump({
        "tasks": {"upserted": [{"id": 1, "version": 2, "kind": "patrol", "elder_id": 9}],
                  "removed": [{"id": 3, "reason": "reassigned"}]},
        "elders": {"upserted": [{"id": 9, "version": 1, "name": "张三丰", "id_card_no": "secret"}],
                   "removed": []},
        "cursor": "abc.def", "has_more": False, "reset": True, "digest": {"count": 1, "hash": "ab"},
    })
    assert list(page) == ["tasks", "elders", "cursor", "has_more", "reset", "digest"]
    assert page["tasks"]["removed"] == [{"id": 3, "reason": "reassigned"}]
    assert "id_card_no" not in page["elders"]["upserted"][0]
