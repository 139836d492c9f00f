"""Statement lines on hand-worked fixtures: units, rounding, prices, shares and caps (amounts in fen)."""

from datetime import timedelta

from backend.extensions import db
from backend.settlement import ledger
from tests.settlement.conftest import month_of


def _lines(city, months):
    return ledger.compute(city.provider.id, month_of(months[0])).lines


def test_an_hour_price_pays_whole_quarter_hours_of_the_visit_capped_at_its_window(city, months, make_price, make_plan,
                                                                                 make_visit):
    make_price("cleaning", unit="hour", price_fen=4000, rounding_minutes=15)
    plan = make_plan()
    make_visit(plan, day=2, service_type="cleaning", minutes=50, window=120)  # 3 whole quarters: 3 × 1000
    make_visit(plan, day=3, service_type="cleaning", minutes=130, window=60)  # capped at 60: 4 × 1000
    make_visit(plan, day=4, service_type="cleaning", minutes=14, window=60)   # no whole quarter: 0
    lines = _lines(city, months)
    assert [(line["minutes"], line["units"], line["amount_fen"]) for line in lines] == [
        (50, 3, 3000), (60, 4, 4000), (14, 0, 0)]
    assert all(line["state"] == "payable" for line in lines)


def test_an_hour_price_rounds_half_a_fen_up(city, months, make_price, make_plan, make_visit):
    make_price("cleaning", unit="hour", price_fen=4053, rounding_minutes=10)  # 675.5 fen per 10 minutes
    make_visit(make_plan(), service_type="cleaning", minutes=10, window=60)
    assert _lines(city, months)[0]["amount_fen"] == 676


def test_a_provider_contract_price_wins_over_the_general_one_and_a_later_price_over_an_earlier(
        city, months, make_price, make_plan, make_visit):
    make_price("meal", price_fen=1500, effective_on=months[0] - timedelta(days=90))
    make_price("meal", price_fen=1600, effective_on=months[0] + timedelta(days=9))
    make_price("meal", price_fen=1800, provider=city.other_provider)
    plan = make_plan()
    make_visit(plan, day=5)
    make_visit(plan, day=15)
    assert [line["amount_fen"] for line in _lines(city, months)] == [1500, 1600]


def test_a_month_price_is_paid_once_per_plan_and_service_type(city, months, make_price, make_plan, make_visit):
    make_price("companionship", unit="month", price_fen=30000)
    plan = make_plan()
    for day in (2, 9, 16):
        make_visit(plan, day=day, service_type="companionship")
    assert [line["amount_fen"] for line in _lines(city, months)] == [30000, 0, 0]


def test_co_pay_shares_follow_the_elder_category(city, months, make_price, make_plan, make_visit, eligible,
                                                 make_elder):
    make_price("meal", price_fen=3000)
    poor = eligible(city.elder_a1, ["extreme_poverty"])
    low = eligible(city.elder_a2, ["low_income"])
    disabled = eligible(make_elder(city.community_a1), ["disabled"])
    for elder in (poor, low, disabled):
        make_visit(make_plan(elder, funding="copay"))
    self_paying = make_plan(city.elder_b1, funding="self_pay")
    make_visit(self_paying)
    shares = [(line["elder_id"], line["government_fen"], line["copay_fen"]) for line in _lines(city, months)]
    assert sorted(shares) == sorted([(poor.id, 3000, 0), (low.id, 2400, 600), (disabled.id, 1500, 1500),
                                     (city.elder_b1.id, 0, 3000)])


def test_the_monthly_cap_limits_the_government_share_and_the_elder_pays_the_rest(city, months, make_price,
                                                                                   make_plan, make_visit):
    make_price("meal", price_fen=3000)
    plan = make_plan(cap_fen=5000)
    for day in (1, 2, 3):
        make_visit(plan, day=day)
    draft = ledger.compute(city.provider.id, month_of(months[0]))
    assert [(line["government_fen"], line["copay_fen"]) for line in draft.lines] == [(3000, 0), (2000, 1000),
                                                                                     (0, 3000)]
    assert draft.caps[(plan.id, month_of(months[0]))]["government_fen"] == 5000


def test_an_hours_cap_pays_the_government_share_of_the_minutes_within_it(city, months, make_price, make_plan,
                                                                         make_visit):
    make_price("cleaning", unit="hour", price_fen=4000)
    plan = make_plan(cap_minutes=90)
    make_visit(plan, day=1, service_type="cleaning", minutes=60)  # 60 of 90 minutes: 4000 by the government
    make_visit(plan, day=2, service_type="cleaning", minutes=60)  # 30 of 60 left: half of 4000
    assert [(line["government_fen"], line["copay_fen"]) for line in _lines(city, months)] == [(4000, 0),
                                                                                             (2000, 2000)]


def test_a_too_short_visit_is_paid_by_its_units_or_not_at_all_as_configured(app, city, months, make_price,
                                                                            make_plan, make_visit):
    make_price("cleaning", unit="hour", price_fen=4000)
    make_visit(make_plan(), service_type="cleaning", minutes=30, min_minutes=45)
    line = _lines(city, months)[0]
    assert (line["state"], line["amount_fen"], line["reason"]) == ("payable", 2000, "too_short")
    app.config["SETTLEMENT_PAY_TOO_SHORT"] = "none"
    try:
        line = _lines(city, months)[0]
    finally:
        app.config["SETTLEMENT_PAY_TOO_SHORT"] = "actual"
    assert (line["state"], line["amount_fen"], line["reason"]) == ("rejected", 0, "too_short")


def test_flagged_visits_are_held_and_rejected_ones_carry_the_review_reason(city, months, make_price, make_plan,
                                                                          make_visit, clock):
    from backend.reviews.services import decide
    from backend.tasks.models import Task

    make_price("meal", price_fen=1500)
    plan = make_plan()
    make_visit(plan, day=1, flags=["no_qr"])
    rejected = make_visit(plan, day=2, flags=["no_qr"])
    decide(db.session.get(Task, rejected.task_id), "rejected", "visit_did_not_happen", None,
           by=city.supervisor_a, at=clock())
    db.session.commit()
    lines = _lines(city, months)
    assert [(line["state"], line["reason"], line["amount_fen"]) for line in lines] == [
        ("held", "awaiting_review", 0), ("rejected", "visit_did_not_happen", 0)]
    sums = ledger.totals(lines)
    assert sums["total_fen"] == 0


def test_a_visit_without_a_price_is_payable_at_nothing_and_says_so(city, months, make_plan, make_visit):
    make_visit(make_plan())
    line = _lines(city, months)[0]
    assert (line["state"], line["amount_fen"], line["reason"]) == ("payable", 0, "no_price")


def test_visits_of_other_providers_and_months_are_not_on_the_statement(city, months, make_price, make_plan,
                                                                       make_visit):
    make_price("meal", price_fen=1500)
    make_visit(make_plan(provider=city.other_provider), user=city.caregiver_other)
    make_visit(make_plan(), month=months[1])
    assert _lines(city, months) == []
