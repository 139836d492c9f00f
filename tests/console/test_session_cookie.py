"""The console's session cookie is Secure whenever the console is served over HTTPS."""

from tests.conftest import PASSWORD

HTTPS = "https://localhost"


def _session_cookie(response) -> str:
    return next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))


def test_the_session_cookie_is_secure_over_https(console, city):
    console.get("/console/login", base_url=HTTPS)
    response = console.post("/console/login", {"username": city.admin.username, "password": PASSWORD},
                            base_url=HTTPS, headers={"Referer": HTTPS + "/console/login"})
    assert response.status_code == 302
    assert "Secure" in _session_cookie(response).split("; ")


def test_the_session_cookie_over_plain_http_is_not_secure_unless_configured(app, console, city, monkeypatch):
    assert "Secure" not in _session_cookie(console.sign_in(city.admin)).split("; ")
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)  # CARE_COOKIE_SECURE=1
    assert "Secure" in _session_cookie(console.sign_in(city.admin)).split("; ")
