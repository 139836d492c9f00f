"""The risk tier suggested from categories, age and assessment level, and a supervisor's override."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.elders import risk
from backend.extensions import db
from backend.plans.models import PatrolPlan
from tests.console.conftest import ConsoleClient

# Totals 60 (level 2, moderate), 40 (level 3, severe), 80 (level 1, mild).
MODERATE = {"self_care": 20, "motion": 10, "mental": 20, "perception": 10}
SEVERE = {"self_care": 12, "motion": 6, "mental": 14, "perception": 8}
MILD = {"self_care": 28, "motion": 13, "mental": 25, "perception": 14}


@pytest.fixture
def assess(client, login, city, clock):
    def assess_(elder, scores):
        response = client.post(f"/api/v1/elders/{elder.id}/assessments", headers=login(city.admin),
                               json={"assessed_on": clock.now.date().isoformat(), **scores})
        assert response.status_code == 201, response.get_json()
    return assess_


@pytest.fixture
def young(city, make_elder):
    """make an elder of 66 (no ID number, so any birth date) in community a1."""
    def make(categories, name="吴秀芳"):
        return make_elder(city.community_a1, name, categories=categories, birth_on=date(1960, 3, 1), id_card_no=None)
    return make


def suggested(client, login, user, elder):
    response = client.get(f"/api/v1/elders/{elder.id}/risk-tier", headers=login(user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_solitary_with_moderate_loss_is_high(client, login, city, young, assess):
    elder = young(["solitary"])
    assess(elder, MODERATE)
    body = suggested(client, login, city.admin, elder)
    assert (body["risk_tier"], body["suggested_tier"]) == ("general", "high")
    assert body["suggestion_reasons"] == ["alone_with_moderate_loss"]
    assert body["differs_from_suggestion"] is True and body["reason"] is None


@pytest.mark.parametrize("categories, scores, tier, reasons", [
    (["empty_nest"], MODERATE, "key", ["key_category", "capability_loss"]),  # not alone: key, not high
    (["low_income"], SEVERE, "high", ["severe_capability_loss"]),
    (["low_income"], MILD, "key", ["capability_loss"]),
    (["low_income"], None, "general", []),
    (["special_family"], MODERATE, "high", ["alone_with_moderate_loss"]),
])
def test_suggestions_by_category_and_level(client, login, city, young, assess, categories, scores, tier, reasons):
    elder = young(categories)
    if scores:
        assess(elder, scores)
    body = suggested(client, login, city.supervisor_a, elder)
    assert (body["suggested_tier"], body["suggestion_reasons"]) == (tier, reasons)


def test_an_elder_of_80_or_more_is_a_key_group(app, city, clock):
    with app.test_request_context():
        elder = city.elder_a1  # born 1940, categories solitary
        elder.categories = ["low_income"]
        assert risk.suggest(elder, now=clock.now) == risk.Suggestion("key", ("advanced_age",))


def test_a_supervisor_overrides_the_tier_with_a_reason_and_the_patrol_follows(
        client, login, city, clock, make_patrol_plan):
    plan = make_patrol_plan(city.elder_a1, city.worker_a)
    revision = plan.revision
    headers = login(city.supervisor_a)
    version = suggested(client, login, city.supervisor_a, city.elder_a1)["version"]
    response = client.put(f"/api/v1/elders/{city.elder_a1.id}/risk-tier", headers=headers,
                          json={"risk_tier": "high", "reason": "独居，近期两次跌倒", "version": version})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["risk_tier"], body["reason"]) == ("high", "独居，近期两次跌倒")
    assert body["set_by_id"] == city.supervisor_a.id
    assert body["set_at"] is not None and body["version"] == version + 1
    # The patrol plan follows the tier: weekly now, so it was revised.
    assert db.session.get(PatrolPlan, plan.id).revision == revision + 1
    entries = db.session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(3)).scalars().all()
    changes = [c for e in entries for c in e.changes if c.get("table") == "elders"]
    assert any("独居，近期两次跌倒" in str(c) for c in changes), changes


def test_a_reason_is_required_and_a_stale_version_is_refused(client, login, city):
    headers = login(city.supervisor_a)
    url = f"/api/v1/elders/{city.elder_a1.id}/risk-tier"
    missing = client.put(url, headers=headers, json={"risk_tier": "high", "version": 1})
    assert missing.status_code == 422 and "reason" in missing.get_json()["errors"]
    blank = client.put(url, headers=headers, json={"risk_tier": "high", "reason": "  ", "version": 1})
    assert blank.status_code == 422 and "reason" in blank.get_json()["errors"]
    assert re.search(r"[\u4e00-\u9fff]", str(blank.get_json()["errors"]["reason"]))
    stale = client.put(url, headers=headers, json={"risk_tier": "high", "reason": "复核", "version": 99})
    assert stale.status_code == 409 and stale.get_json()["code"] == "version_conflict"


def test_the_elder_page_shows_the_suggestion_and_a_supervisor_sets_the_tier_there(app, city, young, assess):
    elder = young(["solitary"])
    assess(elder, MODERATE)
    console = ConsoleClient(app.test_client())
    assert console.sign_in(city.supervisor_a).status_code == 302
    html = console.text(f"/console/elders/{elder.id}")
    assert "建议：高风险" in html or "建议: 高风险" in html, html[html.find('id="risk"'):][:1500]
    assert "独居或计划生育特殊家庭且中度失能" in html
    response = console.post(f"/console/elders/{elder.id}/risk-tier",
                            {"risk_tier": "high", "reason": "评估为中度失能，独居", "version": str(elder.version)})
    assert response.status_code == 302
    html = console.text(f"/console/elders/{elder.id}")
    assert "评估为中度失能，独居" in html and "与建议不同" not in html


def test_a_tier_edited_with_the_elder_drops_the_last_overrides_reason(client, login, city):
    headers = login(city.admin)
    url = f"/api/v1/elders/{city.elder_a1.id}"
    put = client.put(url + "/risk-tier", headers=headers, json={"risk_tier": "high", "reason": "跌倒"}).get_json()
    patched = client.patch(url, headers=headers, json={"risk_tier": "key", "version": put["version"]})
    assert patched.status_code == 200 and patched.get_json()["version"] == put["version"] + 1
    body = client.get(url + "/risk-tier", headers=headers).get_json()
    assert (body["risk_tier"], body["reason"], body["set_by_id"]) == ("key", None, city.admin.id)


def _register(client, login, city, **fields):
    body = {"name": "赵桂兰", "gender": "female", "birth_on": "1950-05-01", "community_id": city.community_a1.id,
            **fields}
    response = client.post("/api/v1/elders", json=body, headers=login(city.admin))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("categories, birth_on, tier", [
    (["solitary"], "1950-05-01", "key"),
    (["low_income"], "1940-05-01", "key"),      # 86: advanced age
    (["low_income"], "1960-05-01", "general"),
])
def test_a_new_elder_starts_at_the_suggested_tier_recorded_as_no_override(client, login, city, categories, birth_on,
                                                                          tier):
    elder = _register(client, login, city, categories=categories, birth_on=birth_on)
    assert elder["risk_tier"] == tier
    body = client.get(f"/api/v1/elders/{elder['id']}/risk-tier", headers=login(city.admin)).get_json()
    assert (body["risk_tier"], body["suggested_tier"], body["differs_from_suggestion"]) == (tier, tier, False)
    assert (body["reason"], body["set_by_id"], body["set_at"]) == (None, None, None)


def test_a_tier_sent_at_registration_other_than_the_suggestion_is_the_callers(client, login, city):
    elder = _register(client, login, city, categories=["solitary"], risk_tier="high")
    body = client.get(f"/api/v1/elders/{elder['id']}/risk-tier", headers=login(city.admin)).get_json()
    assert (body["risk_tier"], body["suggested_tier"], body["differs_from_suggestion"]) == ("high", "key", True)
    assert body["set_by_id"] == city.admin.id and body["set_at"] is not None
    same = _register(client, login, city, name="钱秀英", categories=["solitary"], risk_tier="key")
    assert client.get(f"/api/v1/elders/{same['id']}/risk-tier", headers=login(city.admin)).get_json()["set_by_id"] \
        is None
