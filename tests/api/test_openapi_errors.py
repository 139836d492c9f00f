"""The OpenAPI document describes errors as the API sends them: RFC 9457 problem+json."""


def test_every_error_response_is_documented_as_problem_json(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    responses = spec["components"]["responses"]
    assert responses, "no shared responses documented"
    for name, response in responses.items():
        assert list(response["content"]) == ["application/problem+json"], name
        assert response["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code", "errors"} <= set(problem["properties"])
    assert problem["additionalProperties"] is True  # problems carry members of their own


def test_an_error_answer_matches_its_documentation(client):
    response = client.get("/api/v1/tasks/1")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert {"type", "title", "status", "detail", "code"} <= set(response.get_json())


def test_a_push_result_may_have_no_id_as_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["schemas"]["PushResult"]["properties"]["id"].get("nullable") is True
