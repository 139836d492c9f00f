"""A pull is for the device the access token was issued to (docs/sync-protocol.md 4.1)."""

import pytest

from backend.visits import pull as pulling
from backend.visits import views


def _refused_as_not_bound(response):
    assert response.status_code == 403, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "device_not_bound"


def test_a_first_pull_for_another_device_is_refused(field):
    _refused_as_not_bound(field.phone.client.get("/api/v1/sync/pull", query_string={"device_id": "phone-B"},
                                                 headers=field.phone.headers))


def test_an_empty_pull_for_another_device_is_refused_though_its_cursor_is_good(field):
    cursor = field.phone.pull().get_json()["cursor"]
    response = field.phone.client.get("/api/v1/sync/pull", query_string={"device_id": "phone-B", "cursor": cursor},
                                      headers=field.phone.headers)
    _refused_as_not_bound(response)


def test_the_refusal_reads_nothing(field, monkeypatch):
    """A comparison of the query's device with the token's, before the probe or the account."""
    cursor = field.phone.pull().get_json()["cursor"]

    def must_not_run(*args, **kwargs):
        pytest.fail("a pull for another device read the database")

    monkeypatch.setattr(pulling, "probe_alone", must_not_run)
    monkeypatch.setattr(views, "load_account", must_not_run)
    for query in ({"device_id": "phone-B"}, {"device_id": "phone-B", "cursor": cursor}):
        _refused_as_not_bound(field.phone.client.get("/api/v1/sync/pull", query_string=query,
                                                     headers=field.phone.headers))


def test_english_callers_get_an_english_title(field):
    response = field.phone.client.get("/api/v1/sync/pull", query_string={"device_id": "phone-B"},
                                      headers={**field.phone.headers, "Accept-Language": "en"})
    _refused_as_not_bound(response)
    assert response.get_json()["title"] == "The device is not the one the token was issued to"


def test_the_token_s_own_device_still_pulls(field):
    assert field.phone.pull().status_code == 200
