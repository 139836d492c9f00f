"""Request bodies the JSON parser must refuse as such: 400 malformed_json or 415, never a 500."""

import pytest

DEEP = "[" * 1000 + "]" * 1000


def _problem(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == code


@pytest.mark.parametrize("body", [
    '{"username": ' + DEEP + ', "password": "x", "device_id": "d"}',
    DEEP,
    '{"username": "a", "password": NaN, "device_id": "d"}',
    '{"username": "a", "password": Infinity, "device_id": "d"}',
    '{"username": "\\ud800", "password": "x", "device_id": "d"}',
    '{"username": "a", ',
])
def test_the_unauthenticated_login_refuses_what_is_not_strict_json(client, body):
    _problem(client.post("/api/v1/auth/login", data=body, content_type="application/json"), 400, "malformed_json")


def test_a_push_nested_a_thousand_deep_is_malformed_not_a_server_error(client, city, login):
    headers = login(city.caregiver)
    body = '{"device_id": "test-device", "device_time": "2026-11-23T10:00:00+08:00", "items": [' + DEEP + "]}"
    _problem(client.post("/api/v1/sync/push", data=body, content_type="application/json", headers=headers),
             400, "malformed_json")


def test_a_push_with_a_non_finite_number_is_malformed(client, city, login):
    headers = login(city.caregiver)
    body = ('{"device_id": "test-device", "device_time": "2026-11-23T10:00:00+08:00", '
            '"items": [{"id": "x", "accuracy_m": NaN}]}')
    _problem(client.post("/api/v1/sync/push", data=body, content_type="application/json", headers=headers),
             400, "malformed_json")


def test_json_sent_as_plain_text_is_an_unsupported_media_type(client):
    body = '{"username": "a", "password": "b", "device_id": "d"}'
    _problem(client.post("/api/v1/auth/login", data=body, content_type="text/plain"), 415, "unsupported_media_type")


def test_nesting_within_the_limit_is_read(client):
    from backend.jsonbody import MAX_DEPTH, parse

    assert parse("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(ValueError):
        parse("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


def test_a_chunked_body_past_the_size_limit_is_too_large_not_malformed(client, app):
    import io

    big = b'{"username": "' + b"x" * app.config["MAX_CONTENT_LENGTH"] + b'", "password": "x", "device_id": "d"}'
    response = client.post("/api/v1/auth/login", input_stream=io.BytesIO(big), content_type="application/json",
                           headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})
    _problem(response, 413, "payload_too_large")
