from datetime import timedelta

from backend.auth.models import RefreshToken
from backend.extensions import db
from tests.conftest import PASSWORD


def _login(client, username, device="phone-1", password=PASSWORD):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password,
                                                   "device_id": device})


def test_login_returns_a_short_lived_access_token_and_a_refresh_token(client, city):
    body = _login(client, "cg1").get_json()
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 15 * 60
    assert body["user"]["role"] == "caregiver"
    assert len(body["refresh_token"]) >= 40


def test_refresh_tokens_are_stored_hashed(client, city):
    token = _login(client, "cg1").get_json()["refresh_token"]
    stored = db.session.execute(db.select(RefreshToken.token_hash)).scalars().all()
    assert token not in stored and len(stored) == 1


def test_wrong_password_is_401_problem_json(client, city):
    response = _login(client, "cg1", password="nope-nope")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "invalid_credentials"


def test_unknown_user_answers_like_a_wrong_password(client, city):
    assert _login(client, "ghost").get_json()["code"] == "invalid_credentials"


def test_repeated_failed_logins_are_throttled(client, city):
    for _ in range(5):
        assert _login(client, "cg1", password="wrong-password").status_code == 401
    response = _login(client, "cg1")  # even the right password waits now
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_a_disabled_account_cannot_log_in_nor_use_its_token(client, city):
    headers = {"Authorization": "Bearer " + _login(client, "cg1").get_json()["access_token"]}
    city.caregiver.is_active = False
    db.session.commit()
    assert _login(client, "cg1").get_json()["code"] == "account_disabled"
    assert client.get("/api/v1/tasks", headers=headers).status_code == 403


def test_refresh_rotates_the_token(client, city):
    first = _login(client, "cg1").get_json()
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"],
                                                         "device_id": "phone-1"})
    assert response.status_code == 200
    second = response.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/tasks", headers={"Authorization": "Bearer " + second["access_token"]}
                      ).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(client, city):
    first = _login(client, "cg1").get_json()["refresh_token"]
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first, "device_id": "phone-1"}
                         ).get_json()["refresh_token"]
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first, "device_id": "phone-1"})
    assert replay.status_code == 401 and replay.get_json()["code"] == "refresh_token_reused"
    # The thief's replay also killed the legitimate, newer token.
    after = client.post("/api/v1/auth/refresh", json={"refresh_token": second, "device_id": "phone-1"})
    assert after.status_code == 401


def test_a_refresh_token_is_bound_to_its_device(client, city):
    token = _login(client, "cg1").get_json()["refresh_token"]
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": token, "device_id": "phone-2"})
    assert response.status_code == 401


def test_an_expired_refresh_token_is_refused(client, city):
    token = _login(client, "cg1").get_json()["refresh_token"]
    row = db.session.execute(db.select(RefreshToken)).scalar_one()
    row.expires_at = row.issued_at - timedelta(seconds=1)
    db.session.commit()
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": token, "device_id": "phone-1"})
    assert response.get_json()["code"] == "invalid_refresh_token"


def test_logout_revokes_the_refresh_token(client, city):
    token = _login(client, "cg1").get_json()["refresh_token"]
    assert client.post("/api/v1/auth/logout", json={"refresh_token": token}).status_code == 204
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": token, "device_id": "phone-1"})
    assert response.status_code == 401


def test_an_expired_access_token_answers_token_expired(app, client, city):
    from backend.auth.tokens import encode_access_token
    from backend.columns import utcnow

    token = encode_access_token(app.config["TOKEN_SECRET"], user_id=city.caregiver.id, role="caregiver",
                                device_id="d", family_id="f", now=utcnow() - timedelta(hours=1),
                                lifetime=timedelta(minutes=15))
    response = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.get_json()["code"] == "token_expired"
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_a_token_verified_once_still_expires(app, client, city, monkeypatch):
    """Workers keep the claims of tokens they verified; expiry is judged again on every use."""
    from backend.auth import tokens

    token = _login(client, "cg1").get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    claims = tokens.decode_access_token(app.config["TOKEN_SECRET"], token)
    monkeypatch.setattr(tokens, "_now", lambda: claims["exp"])
    response = client.get("/api/v1/tasks", headers=headers)
    assert response.status_code == 401 and response.get_json()["code"] == "token_expired"


def test_a_token_signed_with_another_key_is_refused(client, city):
    import jwt

    forged = jwt.encode({"sub": str(city.admin.id), "typ": "access", "exp": 4102444800},
                        "x" * 40, algorithm="HS256")
    response = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {forged}"})
    assert response.get_json()["code"] == "invalid_token"


def test_a_cached_token_is_not_honoured_under_another_secret(app, client, city):
    import jwt
    import pytest

    from backend.auth import tokens

    token = _login(client, "cg1").get_json()["access_token"]
    tokens.decode_access_token(app.config["TOKEN_SECRET"], token)
    with pytest.raises(jwt.InvalidSignatureError):
        tokens.decode_access_token("another-secret-0123456789abcdef0123456789", token)


def test_api_responses_set_no_session_cookie(client, city):
    """The API runs on bearer tokens; the console's cookie session is not opened for it."""
    token = _login(client, "cg1").get_json()["access_token"]
    response = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_api_endpoints_require_a_token(client, city):
    response = client.get("/api/v1/tasks")
    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthorized"
