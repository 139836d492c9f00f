"""Input the database cannot hold is refused at the edge: ids past INTEGER match no route, and
integers, text and dates a column would refuse are 422 naming the field, never a 500."""

import pytest

from backend.field_messages import template_of
from schemas import fields
from tests.api.conftest import assert_problem

PAST_INT32 = 2**31
EN = {"Accept-Language": "en"}


def _with(headers, extra=None):
    return {**headers, **(extra or {})}


def test_every_message_of_the_safe_fields_has_a_chinese_translation():
    assert [m for m in fields.MESSAGES if template_of(m) is None] == []


@pytest.mark.parametrize("method, path", [
    ("get", f"/api/v1/tasks/{PAST_INT32}"),
    ("post", f"/api/v1/notifications/{PAST_INT32}/read"),
    ("get", f"/api/v1/elders/{10**30}"),
])
def test_a_path_id_past_the_integer_range_is_not_found(client, headers, method, path):
    assert_problem(getattr(client, method)(path, headers=headers("admin")), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/v1/service-types/%00", "/api/v1/service-types/meal%00"])
def test_a_nul_character_in_a_path_segment_is_not_found(client, headers, path):
    assert_problem(client.get(path, headers=headers("admin")), 404, "not_found")
    assert client.get("/api/v1/service-types/meal", headers=headers("admin")).status_code == 200


def test_the_largest_integer_id_still_reaches_the_view(client, headers):
    body = assert_problem(client.get(f"/api/v1/tasks/{PAST_INT32 - 1}", headers=headers("admin")), 404, "not_found")
    assert body.get("resource") == "task"


def test_a_query_filter_past_the_integer_range_is_422_naming_it_in_chinese_and_english(client, headers):
    path = f"/api/v1/tasks?assignee_id={PAST_INT32}"
    zh = assert_problem(client.get(path, headers=headers("admin")), 422, "validation_failed", "assignee_id")
    assert zh["errors"]["assignee_id"] == ["须在 -2147483648 与 2147483647 之间。"]
    en = assert_problem(client.get(path, headers=_with(headers("admin"), EN)), 422, "validation_failed", "assignee_id")
    assert en["errors"]["assignee_id"] == ["Must be between -2147483648 and 2147483647."]


def test_a_body_integer_past_the_integer_range_is_422_naming_it(client, headers):
    response = client.post("/api/v1/providers", headers=headers("admin"),
                           json={"name": "安康护理站", "region_id": PAST_INT32})
    assert_problem(response, 422, "validation_failed", "region_id")


def test_a_bigint_column_takes_a_64_bit_value_and_no_more(client, headers):
    response = client.post("/api/v1/callbacks/draws", headers=headers("admin"),
                           json={"month": "2026-10", "seed": 2**64})
    assert_problem(response, 422, "validation_failed", "seed")


@pytest.mark.parametrize("field", ["username", "device_id"])
def test_a_nul_character_in_a_login_field_is_422_naming_it(client, city, field):
    body = {"username": city.caregiver.username, "password": "whatever-it-is", "device_id": "phone-A"}
    body[field] = "phone\x00A"
    problem = assert_problem(client.post("/api/v1/auth/login", json=body), 422, "validation_failed", field)
    assert problem["errors"][field] == ["不能包含空字符（NUL）。"]
    english = assert_problem(client.post("/api/v1/auth/login", json=body, headers=EN), 422, "validation_failed", field)
    assert english["errors"][field] == ["Must not contain NUL characters."]


def test_a_nul_character_in_the_push_envelope_device_id_is_422(client, city, login, clock):
    envelope = {"device_id": "phone\x00A", "device_time": clock().isoformat(), "items": []}
    response = client.post("/api/v1/sync/push", json=envelope, headers=login(city.caregiver, device_id="phone-A"))
    assert_problem(response, 422, "validation_failed", "device_id")


@pytest.mark.parametrize("path", ["/api/v1/elders?q=%00", "/api/v1/providers?q=a%00b", "/api/v1/users?q=%00"])
def test_a_nul_character_in_a_search_is_422_naming_it(client, headers, path):
    assert_problem(client.get(path, headers=headers("admin")), 422, "validation_failed", "q")


def test_a_nul_character_in_a_provider_or_service_type_name_is_422_naming_it(client, headers):
    response = client.post("/api/v1/providers", headers=headers("admin"), json={"name": "安康\x00护理站"})
    assert_problem(response, 422, "validation_failed", "name")
    response = client.post("/api/v1/service-types", headers=headers("admin"),
                           json={"code": "foot_care", "name_zh": "足部\x00护理", "name_en": "Foot care"})
    assert_problem(response, 422, "validation_failed", "name_zh")


def test_a_lone_surrogate_in_text_is_422_naming_it():
    from schemas.providers import ProviderCreateSchema

    errors = ProviderCreateSchema().validate({"name": "安康\ud800护理站"})
    assert errors == {"name": ["Must not contain unpaired surrogate characters."]}


def test_a_device_time_in_year_9999_is_422(client, city, login, clock):
    envelope = {"device_id": "phone-A", "device_time": "9999-12-31T23:59:59+00:00", "items": []}
    response = client.post("/api/v1/sync/push", json=envelope, headers=login(city.caregiver, device_id="phone-A"))
    problem = assert_problem(response, 422, "validation_failed", "device_time")
    assert problem["errors"]["device_time"] == ["日期须在 2000-01-01 与 2100-12-31 之间。"]


@pytest.mark.parametrize("month", ["0001-01", "9999-12", "1999-12", "2101-01", "２０２６-10", "2026-10\n"])
def test_a_call_back_draw_for_a_month_out_of_range_is_422(client, headers, month):
    response = client.post("/api/v1/callbacks/draws", headers=headers("admin"), json={"month": month})
    problem = assert_problem(response, 422, "validation_failed", "month")
    assert problem["errors"]["month"] == ["须为 YYYY-MM 格式的月份（2000-01 至 2100-12）。"]


def test_a_call_back_list_for_a_month_out_of_range_is_422(client, headers):
    assert_problem(client.get("/api/v1/callbacks?month=9999-12", headers=headers("admin")), 422,
                   "validation_failed", "month")


@pytest.mark.parametrize("path, field", [
    ("/api/v1/reviews/queue?date_from=9999-12-31", "date_from"),
    ("/api/v1/reviews/queue?date_to=0001-01-01", "date_to"),
    ("/api/v1/tasks?window_from=9999-12-31T23:59:59%2B00:00", "window_from"),
])
def test_a_date_filter_out_of_range_is_422(client, headers, path, field):
    assert_problem(client.get(path, headers=headers("admin")), 422, "validation_failed", field)


def test_a_birth_date_may_reach_back_to_1900_but_no_further():
    from schemas.elders import ElderUpdateSchema

    assert ElderUpdateSchema().validate({"version": 1, "birth_on": "1921-03-04"}) == {}
    assert ElderUpdateSchema().validate({"version": 1, "birth_on": "1899-12-31"}) == {
        "birth_on": ["Must be between 1900-01-01 and 2100-12-31."]}


def test_the_openapi_document_shows_the_bounds(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    task_id = next(p for p in spec["paths"]["/api/v1/tasks/{task_id}"]["parameters"] if p["name"] == "task_id")
    assert task_id["schema"]["maximum"] == 2**31 - 1
    assignee = next(p for p in spec["paths"]["/api/v1/tasks"]["get"]["parameters"] if p["name"] == "assignee_id")
    assert assignee["schema"]["maximum"] == 2**31 - 1
