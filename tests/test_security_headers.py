"""Protective headers on every response, a strict policy for the console and a looser one for the
API docs page only, HSTS only over HTTPS."""

import base64
import hashlib
import re


def _policy(response) -> dict[str, set[str]]:
    directives = (part.split() for part in response.headers["Content-Security-Policy"].split(";"))
    return {words[0]: set(words[1:]) for words in directives if words}


def test_every_response_forbids_sniffing_and_cross_site_referrers(client):
    for path in ("/console/login", "/api/v1/openapi.json", "/api/v1/no-such-thing", "/console/static/console.css"):
        response = client.get(path)
        response.close()  # a static file's handle
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin"), path


def test_the_console_runs_only_its_own_files(client):
    policy = _policy(client.get("/console/login"))
    assert policy["script-src"] == {"'self'"} and policy["style-src"] == {"'self'"}
    assert policy["object-src"] == {"'none'"} and policy["frame-ancestors"] == {"'none'"}


def test_api_answers_may_load_nothing(client):
    assert _policy(client.get("/api/v1/openapi.json"))["default-src"] == {"'none'"}


def test_the_api_docs_page_may_run_its_own_inline_script_and_no_other(client):
    response = client.get("/api/v1/docs")
    inline = re.search(rb"<script>(.*?)</script>", response.data, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(inline).digest()).decode()
    assert _policy(response)["script-src"] == {"'self'", f"'sha256-{digest}'"}


def test_hsts_is_sent_over_https_only(client):
    assert "Strict-Transport-Security" not in client.get("/console/login").headers
    hsts = client.get("/console/login", base_url="https://localhost").headers["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 180 * 24 * 3600
