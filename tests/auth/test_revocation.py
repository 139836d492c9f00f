"""Revoking a sign-in (logout, reuse of a refresh token, an admin's sign-out) refuses its access
tokens at once, not when they expire."""

from datetime import timedelta

import jwt

from backend.columns import utcnow
from tests.conftest import PASSWORD


def _login(client, username="cg1", device="phone-1"):
    body = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD,
                                                   "device_id": device}).get_json()
    return body["access_token"], body["refresh_token"]


def _refresh(client, refresh_token, device="phone-1"):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token, "device_id": device})


def _tasks(client, access_token):
    return client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {access_token}"})


def _refused_as_revoked(response):
    assert response.status_code == 401, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "token_revoked"
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_after_logout_the_access_token_is_refused(client, city):
    access, refresh = _login(client)
    assert _tasks(client, access).status_code == 200
    assert client.post("/api/v1/auth/logout", json={"refresh_token": refresh}).status_code == 204
    _refused_as_revoked(_tasks(client, access))


def test_reuse_of_a_refresh_token_refuses_every_access_token_of_its_family(client, city):
    first_access, first_refresh = _login(client)
    rotated = _refresh(client, first_refresh).get_json()
    assert _tasks(client, rotated["access_token"]).status_code == 200
    assert _refresh(client, first_refresh).get_json()["code"] == "refresh_token_reused"
    _refused_as_revoked(_tasks(client, first_access))
    _refused_as_revoked(_tasks(client, rotated["access_token"]))


def test_a_fresh_login_after_reuse_works(client, city):
    _, first_refresh = _login(client)
    _refresh(client, first_refresh)
    _refresh(client, first_refresh)  # reused: the family is revoked
    access, refresh = _login(client)  # same account, same device: a new family
    assert _tasks(client, access).status_code == 200
    assert _refresh(client, refresh).status_code == 200


def test_logout_leaves_the_account_s_other_sign_ins_alone(client, city):
    phone_access, _ = _login(client, device="phone-1")
    _, tablet_refresh = _login(client, device="tablet-1")
    client.post("/api/v1/auth/logout", json={"refresh_token": tablet_refresh})
    assert _tasks(client, phone_access).status_code == 200


def test_a_password_reset_refuses_the_user_s_access_tokens(client, city, login):
    access, _ = _login(client, "wk_a")
    admin = login(city.admin)
    assert client.patch(f"/api/v1/users/{city.worker_a.id}", json={"password": "a-new-password"},
                        headers=admin).status_code == 200
    _refused_as_revoked(_tasks(client, access))


def test_a_disabled_account_is_told_so_though_its_sign_ins_were_revoked(client, city, login):
    access, _ = _login(client, "wk_a")
    client.patch(f"/api/v1/users/{city.worker_a.id}", json={"is_active": False}, headers=login(city.admin))
    response = _tasks(client, access)
    assert response.status_code == 403 and response.get_json()["code"] == "account_disabled"


def test_an_access_token_without_a_family_is_invalid(app, client, city):
    """Every access token ever issued names its family; one without it cannot be revoked."""
    now = utcnow()
    claims = {"sub": str(city.caregiver.id), "role": "caregiver", "did": "phone-1", "typ": "access",
              "iat": int(now.timestamp()), "exp": int((now + timedelta(minutes=15)).timestamp())}
    token = jwt.encode(claims, app.config["TOKEN_SECRET"], algorithm="HS256")
    response = _tasks(client, token)
    assert response.status_code == 401 and response.get_json()["code"] == "invalid_token"


def test_the_revocation_is_refused_in_english_too(client, city):
    access, refresh = _login(client)
    client.post("/api/v1/auth/logout", json={"refresh_token": refresh})
    response = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {access}", "Accept-Language": "en"})
    _refused_as_revoked(response)
    assert response.get_json()["title"] == "This sign-in was revoked; sign in again"

