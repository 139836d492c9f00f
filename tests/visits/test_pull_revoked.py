"""A revoked sign-in cannot pull: the empty pull asks in its one statement, a first pull when it
loads the account."""

import pytest

from backend.visits import pull as pulling
from tests.conftest import PASSWORD
from tests.visits.conftest import Phone


@pytest.fixture
def signed_in(field, client, city):
    """A second sign-in of field's caregiver on phone-A: its phone, its refresh token, and the
    cursor of a completed pull."""
    body = client.post("/api/v1/auth/login", json={"username": city.caregiver.username, "password": PASSWORD,
                                                   "device_id": "phone-A"}).get_json()
    phone = Phone(client, {"Authorization": "Bearer " + body["access_token"]}, "phone-A", field.clock)
    pulled = phone.pull()
    assert pulled.status_code == 200 and not pulled.get_json()["has_more"]
    phone.refresh_token, phone.cursor = body["refresh_token"], pulled.get_json()["cursor"]
    return phone


def _refused_as_revoked(response):
    assert response.status_code == 401, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "token_revoked"
    assert "invalid_token" in response.headers["WWW-Authenticate"]


@pytest.fixture
def probes(monkeypatch):
    """The empty pulls' probes, counted, to show a refusal came from the one statement."""
    seen = []
    real = pulling.probe_alone

    def counted(*args):
        seen.append(args)
        return real(*args)

    monkeypatch.setattr(pulling, "probe_alone", counted)
    return seen


def test_after_logout_an_empty_pull_is_refused_by_its_one_statement(signed_in, client, probes):
    assert signed_in.pull(signed_in.cursor).status_code == 200 and len(probes) == 1
    assert client.post("/api/v1/auth/logout", json={"refresh_token": signed_in.refresh_token}).status_code == 204
    _refused_as_revoked(signed_in.pull(signed_in.cursor))
    assert len(probes) == 2


def test_after_logout_a_first_pull_is_refused(signed_in, client):
    client.post("/api/v1/auth/logout", json={"refresh_token": signed_in.refresh_token})
    _refused_as_revoked(signed_in.pull())


def test_another_sign_in_on_the_same_account_still_pulls(signed_in, client, field):
    client.post("/api/v1/auth/logout", json={"refresh_token": signed_in.refresh_token})
    assert field.phone.pull().status_code == 200  # the fixture's own sign-in, a family of its own
