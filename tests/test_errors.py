"""Bad input always gets a clear 4xx problem+json, in Chinese by default and English on request."""


def _problem(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == code and body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/auth/login", data="{not json", content_type="application/json")
    _problem(response, 400, "malformed_json")


def test_a_missing_field_is_named(client):
    body = _problem(client.post("/api/v1/auth/login", json={"username": "a", "password": "b"}),
                    422, "validation_failed")
    assert "device_id" in body["errors"]


def test_an_unknown_field_is_named(client):
    body = _problem(client.post("/api/v1/auth/login", json={"username": "a", "password": "b", "device_id": "d",
                                                            "is_admin": True}), 422, "validation_failed")
    assert "is_admin" in body["errors"]


def test_a_wrong_type_is_named(client):
    body = _problem(client.post("/api/v1/auth/login", json={"username": 5, "password": "b", "device_id": "d"}),
                    422, "validation_failed")
    assert "username" in body["errors"]


def test_messages_are_chinese_by_default_and_english_on_request(client):
    zh = client.post("/api/v1/auth/login", json={"username": "a", "password": "b"}).get_json()
    en = client.post("/api/v1/auth/login", json={"username": "a", "password": "b"},
                     headers={"Accept-Language": "en-US,en;q=0.9"}).get_json()
    assert zh["title"] == "输入未通过校验" and zh["errors"]["device_id"] == ["缺少必填字段。"]
    assert en["title"] == "The input failed validation"
    assert en["errors"]["device_id"] == ["Missing data for required field."]


def test_an_oversized_body_is_413(client):
    big = "x" * (2 * 1024 * 1024 + 10)
    response = client.post("/api/v1/auth/login", data=big, content_type="application/json")
    _problem(response, 413, "payload_too_large")


def test_an_unknown_route_is_404(client, city, login):
    _problem(client.get("/api/v1/nowhere", headers=login(city.admin)), 404, "not_found")


def test_an_unknown_id_is_404(client, city, login):
    _problem(client.get("/api/v1/tasks/999999", headers=login(city.admin)), 404, "not_found")


def test_a_wrong_method_is_405(client):
    _problem(client.get("/api/v1/auth/login"), 405, "method_not_allowed")


def test_an_out_of_range_query_value_is_422(client, city, login):
    body = _problem(client.get("/api/v1/tasks?per_page=100000", headers=login(city.admin)), 422,
                    "validation_failed")
    assert "per_page" in body["errors"]


def test_a_non_integer_query_value_is_422(client, city, login):
    body = _problem(client.get("/api/v1/tasks?page=abc", headers=login(city.admin)), 422, "validation_failed")
    assert "page" in body["errors"]


def test_an_unexpected_error_is_500_without_details(app, tmp_path):
    from backend import create_app
    from backend.auth.access import public
    from backend.extensions import db
    from tests.pg import database_config

    @public
    def boom():
        raise RuntimeError("secret internals")

    fresh = create_app({key: app.config[key] for key in ("SECRET_KEY", "TOKEN_SECRET", "QR_SECRET")}
                       | {"INSTANCE_PATH": str(tmp_path)} | database_config(app))
    fresh.add_url_rule("/api/v1/_boom_for_test", "boom_for_test", boom)
    try:
        response = fresh.test_client().get("/api/v1/_boom_for_test")
    finally:
        with fresh.app_context():
            db.engine.dispose()  # its pool would otherwise hold connections to the suite's server
    body = _problem(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True) and body["detail"]


def test_the_openapi_document_and_its_docs_page_are_served(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/auth/login" in spec["paths"] and "/api/v1/tasks" in spec["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"swagger" in docs.data.lower()
    asset = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    asset.close()
