"""The door plate endpoints: JSON, images, the dynamic code, the printable sheet, roles and scope."""

from datetime import UTC, datetime, timedelta

import pytest

from backend.extensions import db
from backend.plates.services import issue_plate, verify_presence
from sync import rules
from tests.poppler import pdf_fonts, pdf_text


@pytest.fixture
def plated(city, now):
    """Every elder of the city with a static plate."""
    for elder in (city.elder_a1, city.elder_a2, city.elder_b1):
        issue_plate(elder, by=city.admin, at=now)
    db.session.commit()
    return city


def url(elder, suffix=""):
    return f"/api/v1/elders/{elder.id}/plate{suffix}"


def test_an_admin_reads_the_plate_and_the_payload_it_encodes(client, login, plated, now):
    response = client.get(url(plated.elder_a1), headers=login(plated.admin))
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["plate_id", "serial", "elder_id", "kind", "key_version", "status", "issued_at",
                          "revoked_at", "revoked_reason", "payload", "png_url", "svg_url"]
    assert (body["kind"], body["status"], body["key_version"]) == ("static", "active", 1)
    assert body["payload"].startswith(f"CR1.{body['plate_id']}.1.")
    assert (body["png_url"], body["svg_url"]) == (url(plated.elder_a1, ".png"), url(plated.elder_a1, ".svg"))
    assert verify_presence(body["payload"], plated.elder_a1.id, now).flags == [rules.QR_VERIFIED]


def test_an_elder_without_a_plate_answers_404(client, login, city):
    response = client.get(url(city.elder_a1), headers=login(city.admin))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "not_found"


def test_an_admin_issues_a_plate_with_201(client, login, city, now):
    response = client.post(url(city.elder_a1), json={}, headers=login(city.admin))
    assert response.status_code == 201
    body = response.get_json()
    assert (body["kind"], body["status"]) == ("static", "active")
    assert verify_presence(body["payload"], city.elder_a1.id, now).flags == [rules.QR_VERIFIED]


def test_reissuing_over_the_api_makes_the_old_payload_stop_verifying(client, login, plated, now):
    headers = login(plated.admin)
    old = client.get(url(plated.elder_a1), headers=headers).get_json()
    new = client.post(url(plated.elder_a1), json={"kind": "static"}, headers=headers).get_json()
    assert new["plate_id"] != old["plate_id"] and new["serial"] != old["serial"]
    assert verify_presence(old["payload"], plated.elder_a1.id, now).flags == [rules.QR_REVOKED]
    assert verify_presence(new["payload"], plated.elder_a1.id, now).flags == [rules.QR_VERIFIED]


def test_an_unknown_kind_fails_validation(client, login, city):
    response = client.post(url(city.elder_a1), json={"kind": "laminated"}, headers=login(city.admin))
    assert response.status_code == 422
    assert "kind" in response.get_json()["errors"]


def test_an_admin_revokes_the_plate(client, login, plated, now):
    headers = login(plated.admin)
    payload = client.get(url(plated.elder_a1), headers=headers).get_json()["payload"]
    response = client.post(url(plated.elder_a1, "/revoke"), json={"reason": "丢失"}, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["revoked_reason"], body["payload"]) == ("revoked", "丢失", None)
    assert verify_presence(payload, plated.elder_a1.id, now).flags == [rules.QR_REVOKED]
    assert client.get(url(plated.elder_a1), headers=headers).status_code == 404


def test_revoking_needs_a_reason(client, login, plated):
    response = client.post(url(plated.elder_a1, "/revoke"), json={}, headers=login(plated.admin))
    assert response.status_code == 422


def test_the_png_is_a_png(client, login, plated):
    response = client.get(url(plated.elder_a1, ".png"), headers=login(plated.admin))
    assert (response.status_code, response.mimetype) == (200, "image/png")
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")


def test_the_svg_is_an_svg(client, login, plated):
    response = client.get(url(plated.elder_a1, ".svg"), headers=login(plated.supervisor_a))
    assert (response.status_code, response.mimetype) == (200, "image/svg+xml")
    assert "<svg" in response.get_data(as_text=True)


def test_a_dynamic_plate_has_no_fixed_payload_but_a_current_code(client, login, city):
    headers = login(city.admin)
    body = client.post(url(city.elder_a1), json={"kind": "dynamic"}, headers=headers).get_json()
    assert (body["kind"], body["payload"], body["png_url"]) == ("dynamic", None, None)
    assert client.get(url(city.elder_a1, ".png"), headers=headers).status_code == 404
    at = datetime(2026, 11, 23, 2, 0, 10, tzinfo=UTC)
    response = client.get(url(city.elder_a1, "/code"), query_string={"at": at.isoformat()}, headers=headers)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    code = response.get_json()
    assert code["payload"].startswith(f"CR1D.{body['plate_id']}.1.")
    assert (code["valid_from"], code["valid_until"]) == ("2026-11-23T02:00:00+00:00", "2026-11-23T02:00:30+00:00")
    flags = verify_presence(code["payload"], city.elder_a1.id, at + timedelta(seconds=5)).flags
    assert flags == [rules.DYNAMIC_CODE_VERIFIED]
    assert verify_presence(code["payload"], city.elder_a1.id, at + timedelta(hours=1)).flags == [rules.QR_INVALID]


def test_a_static_plate_has_no_dynamic_code(client, login, plated):
    assert client.get(url(plated.elder_a1, "/code"), headers=login(plated.admin)).status_code == 404


def test_only_admins_see_the_dynamic_code(client, login, city):
    issue_plate(city.elder_a1, "dynamic", by=city.admin, at=datetime.now(UTC))
    db.session.commit()
    assert client.get(url(city.elder_a1, "/code"), headers=login(city.supervisor_a)).status_code == 403


def test_the_community_sheet_is_a_pdf(client, login, plated):
    response = client.get(f"/api/v1/regions/{plated.community_a1.id}/plates.pdf", headers=login(plated.admin))
    assert (response.status_code, response.mimetype) == (200, "application/pdf")
    assert response.data.startswith(b"%PDF")
    assert "attachment" in response.headers["Content-Disposition"]


def test_the_community_sheet_embeds_its_chinese_font(client, login, plated, tmp_path):
    response = client.get(f"/api/v1/regions/{plated.community_a1.id}/plates.pdf", headers=login(plated.admin))
    fonts = pdf_fonts(response.data, tmp_path)
    assert fonts and all((font["type"], font["emb"]) == ("TrueType", "yes") for font in fonts)
    assert plated.community_a1.name in pdf_text(response.data, tmp_path)


def test_a_supervisor_prints_the_sheet_of_a_community_in_their_region(client, login, plated):
    response = client.get(f"/api/v1/regions/{plated.community_a2.id}/plates.pdf",
                          headers=login(plated.supervisor_a))
    assert response.status_code == 200


@pytest.mark.parametrize("region", ["street_a", "community_b1"])
def test_a_sheet_of_a_street_or_out_of_scope_community_is_404(client, login, plated, region):
    response = client.get(f"/api/v1/regions/{getattr(plated, region).id}/plates.pdf",
                          headers=login(plated.supervisor_a))
    assert response.status_code == 404


def test_a_supervisor_reads_a_plate_in_their_region(client, login, plated):
    assert client.get(url(plated.elder_a2), headers=login(plated.supervisor_a)).status_code == 200
    assert client.get(url(plated.elder_b1), headers=login(plated.supervisor_all)).status_code == 200


def test_a_supervisor_out_of_region_gets_404(client, login, plated):
    headers = login(plated.supervisor_a)
    for suffix in ("", ".png", ".svg"):
        assert client.get(url(plated.elder_b1, suffix), headers=headers).status_code == 404


def test_supervisors_may_not_issue_or_revoke(client, login, plated):
    headers = login(plated.supervisor_a)
    assert client.post(url(plated.elder_a1), json={}, headers=headers).status_code == 403
    assert client.post(url(plated.elder_a1, "/revoke"), json={"reason": "x"}, headers=headers).status_code == 403


@pytest.mark.parametrize("who", ["caregiver", "worker_a"])
@pytest.mark.parametrize("path", ["", ".png", ".svg", "/code", "pdf"])
def test_caregivers_and_community_workers_are_forbidden(client, login, plated, who, path):
    target = (f"/api/v1/regions/{plated.community_a1.id}/plates.pdf" if path == "pdf"
              else url(plated.elder_a1, path))
    response = client.get(target, headers=login(getattr(plated, who)))
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"


@pytest.mark.parametrize("method, path", [("get", ""), ("post", ""), ("post", "/revoke"), ("get", ".png")])
def test_anonymous_callers_get_401(client, plated, method, path):
    response = getattr(client, method)(url(plated.elder_a1, path))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
