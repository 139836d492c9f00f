"""Funding rules, eligibility refusals naming the unmet rule, the co-pay table and prices via the API."""

from datetime import date, timedelta

import pytest

from tests.api.conftest import assert_problem


@pytest.fixture
def plan(city, make_plan):
    return make_plan(funding=None)


def _put(api, city, plan, **body):
    return api(city.admin, "put", f"/funding/{plan.id}", json=body)


def test_a_plan_is_self_pay_until_its_funding_is_set(api, city, plan):
    assert api(city.supervisor_a, "get", f"/funding/{plan.id}").get_json()["kind"] == "self_pay"
    assert_problem(api(city.supervisor_b, "get", f"/funding/{plan.id}"), 404, "not_found")


def test_an_eligible_elder_gets_government_funding_with_a_cap(api, city, plan, eligible):
    eligible(city.elder_a1)
    answer = _put(api, city, plan, kind="government", monthly_cap_fen=60000)
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["kind"], answer.get_json()["monthly_cap_fen"]) == ("government", 60000)


@pytest.mark.parametrize("setup, rule", [
    ({"birth_years_ago": 55}, "age"),
    ({"categories": ["solitary"]}, "category"),
    ({"assessment": None}, "assessment_missing"),
    ({"assessed_days_ago": 400}, "assessment_stale"),
    ({"level": 0}, "assessment_level"),
])
def test_an_ineligible_elder_is_refused_naming_the_unmet_rule(api, city, plan, eligible, clock, setup, rule):
    elder = city.elder_a1
    if "birth_years_ago" in setup:
        today = clock().date()
        elder.birth_on = date(today.year - setup["birth_years_ago"], 1, 1)
    if setup.get("assessment", 1) is not None:
        eligible(elder, setup.get("categories", ["low_income"]), level=setup.get("level", 2),
                 assessed_days_ago=setup.get("assessed_days_ago", 30))
    else:
        elder.categories = ["low_income"]
    answer = _put(api, city, plan, kind="copay")
    body = assert_problem(answer, 422, "not_eligible", "kind")
    assert body["rule"] == rule
    fallback = _put(api, city, plan, kind="copay", or_self_pay=True).get_json()
    assert (fallback["kind"], fallback["refused_rule"]) == ("self_pay", rule)


def test_the_refusal_names_the_qualifying_categories_as_people_know_them_in_chinese_by_default(api, city, plan):
    body = _put(api, city, plan, kind="government").get_json()
    assert body["rule"] == "category"
    assert body["errors"]["kind"] == ["老人不属于符合条件的类别（低保、特困、失能/半失能、高龄（80岁以上）、"
                                      "计划生育特殊家庭）"]
    assert "low_income" not in body["detail"]


def test_the_refusal_is_in_english_when_asked(api, city, plan):
    body = api(city.admin, "put", f"/funding/{plan.id}", json={"kind": "government"},
               headers={"Accept-Language": "en"}).get_json()
    assert body["errors"]["kind"] == ["the elder is in no qualifying category (Low income, Extreme poverty, "
                                      "Disabled or partly disabled, Advanced age (80+), Special family-planning "
                                      "family)"]


def test_a_refused_assessment_level_is_named_not_numbered(api, city, plan, eligible):
    eligible(city.elder_a1, ["low_income"], level=0)
    body = _put(api, city, plan, kind="copay").get_json()
    assert (body["rule"], body["errors"]["kind"]) == (
        "assessment_level", ["最近一次能力评估的等级不符合条件（轻度失能、中度失能、重度失能、完全失能）"])


def test_admins_edit_the_co_pay_table_and_supervisors_read_it(api, city):
    defaults = api(city.supervisor_a, "get", "/copay-shares").get_json()["shares"]
    assert {"category": "low_income", "assessment_level": None, "government_percent": 80} in defaults
    table = [{"category": "extreme_poverty", "government_percent": 100},
             {"category": "low_income", "assessment_level": 3, "government_percent": 90},
             {"government_percent": 40}]
    answer = api(city.admin, "put", "/copay-shares", json={"shares": table})
    assert answer.status_code == 200, answer.get_json()
    assert len(answer.get_json()["shares"]) == 3
    assert_problem(api(city.admin, "put", "/copay-shares", json={"shares": table + [{"government_percent": 30}]}),
                   422, "validation_failed", "shares.3")
    assert_problem(api(city.supervisor_a, "put", "/copay-shares", json={"shares": table}), 403, "forbidden")


def test_prices_are_created_by_admins_and_read_by_date(api, city, months):
    first = months[0]
    for price, start in ((1500, first - timedelta(days=30)), (1800, first + timedelta(days=10))):
        answer = api(city.admin, "post", "/prices", json={"service_type": "meal", "unit": "visit", "price_fen": price,
                                                          "effective_on": start.isoformat()})
        assert answer.status_code == 201, answer.get_json()
    in_force = api(city.supervisor_a, "get", f"/prices?on={first.isoformat()}").get_json()
    assert [p["price_fen"] for p in in_force] == [1500]
    assert_problem(api(city.admin, "post", "/prices", json={"service_type": "nope", "unit": "visit", "price_fen": 1,
                                                            "effective_on": first.isoformat()}),
                   422, "validation_failed", "service_type")
    assert_problem(api(city.admin, "post", "/prices", json={"service_type": "meal", "unit": "visit", "price_fen": 1.5,
                                                            "effective_on": first.isoformat()}),
                   422, "validation_failed", "price_fen")
    assert_problem(api(city.caregiver, "get", "/prices"), 403, "forbidden")
