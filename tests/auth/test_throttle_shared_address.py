"""The login throttle on shared addresses: per account (growing waits), per account and address
(the hard stop), per address (sprays only), and which address a request comes from."""

import pytest

from backend.extensions import db
from tests.conftest import PASSWORD
from tests.pg import database_config

NAT = "203.0.113.7"
ELSEWHERE = "198.51.100.20"
WRONG = "wrong-password"


def _login(client, username, password=PASSWORD, *, address=NAT, forwarded_for=None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/api/v1/auth/login", json={"username": username, "password": password, "device_id": "p-1"},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def _hammer(client, clock, username, times, **where):
    """`times` wrong passwords, each after the account's growing wait has run out."""
    for _ in range(times):
        assert _login(client, username, WRONG, **where).status_code == 401
        clock.advance(minutes=1)


def _refused(response):
    assert response.status_code == 429, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "too_many_requests"
    return int(response.headers["Retry-After"])


def test_wrong_passwords_for_one_account_do_not_lock_out_the_others_behind_the_same_address(client, city, clock):
    for _ in range(5):
        assert _login(client, city.caregiver_other.username, WRONG).status_code == 401
    assert _login(client, city.caregiver.username).status_code == 200
    assert _login(client, city.supervisor_a.username).status_code == 200


def test_an_account_guessed_from_many_addresses_waits_twice_as_long_after_each_failure_up_to_minutes(
        client, city, clock):
    for n in range(5):
        assert _login(client, "cg1", WRONG, address=f"192.0.2.{n}").status_code == 401
    waits = []
    for n in range(12):
        waits.append(_refused(_login(client, "cg1", WRONG, address=f"198.51.100.{n}")))
        clock.advance(seconds=waits[-1])
        assert _login(client, "cg1", WRONG, address=f"198.51.100.{n}").status_code == 401
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    clock.advance(minutes=5)
    assert _login(client, "cg1", address=ELSEWHERE).status_code == 200


def test_one_address_hammering_an_account_is_stopped_while_its_user_signs_in_elsewhere(client, city, clock):
    _hammer(client, clock, "cg1", 10)
    assert _refused(_login(client, "cg1")) > 10 * 60  # even the right password, from the hammering address
    assert _login(client, "cg1", address=ELSEWHERE).status_code == 200
    assert _refused(_login(client, "cg1")) > 0


def test_an_address_is_stopped_only_by_a_spray_across_a_hundred_failures(client, city, clock):
    for n in range(99):
        assert _login(client, f"guess{n}", WRONG).status_code == 401
    assert _login(client, "cg1").status_code == 200
    assert _login(client, "guess99", WRONG).status_code == 401
    assert _refused(_login(client, "sup_a")) > 10 * 60
    assert _login(client, "sup_a", address=ELSEWHERE).status_code == 200


def test_x_forwarded_for_is_not_believed_without_trusted_proxies(client, city, clock):
    for n in range(10):
        assert _login(client, "cg1", WRONG, forwarded_for=f"192.0.2.{n}").status_code == 401
        clock.advance(minutes=1)
    assert _refused(_login(client, "cg1", forwarded_for="192.0.2.200")) > 10 * 60
    assert _login(client, "cg1", address=ELSEWHERE).status_code == 200


@pytest.fixture
def behind_one_proxy(app, clock, tmp_path, monkeypatch):
    """A test client of an app told by CARE_TRUSTED_PROXIES that one proxy stands in front."""
    from backend import create_app

    monkeypatch.setenv("CARE_TRUSTED_PROXIES", "1")
    proxied = create_app({key: app.config[key] for key in ("SECRET_KEY", "TOKEN_SECRET", "QR_SECRET",
                                                           "PASSWORD_HASH_METHOD")}
                         | {"INSTANCE_PATH": str(tmp_path), "CLOCK": clock} | database_config(app))
    yield proxied.test_client()
    with proxied.app_context():
        db.engine.dispose()


def test_x_forwarded_for_names_the_client_behind_a_trusted_proxy(behind_one_proxy, city, clock):
    proxy = "10.0.0.2"
    _hammer(behind_one_proxy, clock, "cg1", 10, address=proxy, forwarded_for=NAT)
    assert _refused(_login(behind_one_proxy, "cg1", address=proxy, forwarded_for=NAT)) > 10 * 60
    assert _login(behind_one_proxy, "cg1", address=proxy, forwarded_for=ELSEWHERE).status_code == 200
