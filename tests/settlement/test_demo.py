"""The demo city's settlement: prices, funding, the second provider's previous month issued and the
first provider's a draft with money in it."""

from sqlalchemy import select

from backend.demo import seed_demo
from backend.extensions import db
from backend.providers.models import Provider
from backend.settlement import ledger
from backend.settlement.models import FundingRule, Statement


def test_the_demo_city_has_prices_funding_and_last_month_issued_for_one_provider(app):
    assert seed_demo() is True
    db.session.rollback()  # what the demo seeded is committed: `serve --demo` drops its session next
    statements = db.session.execute(select(Statement)).scalars().all()
    assert len(statements) == 1 and statements[0].status == "issued" and statements[0].total_fen > 0
    kinds = set(db.session.execute(select(FundingRule.kind)).scalars())
    assert {"government", "copay"} <= kinds
    first = db.session.execute(select(Provider).order_by(Provider.id)).scalars().first()
    draft = ledger.compute(first.id, statements[0].month)
    payable = [line for line in draft.lines if line["state"] == "payable"]
    assert payable and sum(line["amount_fen"] for line in payable) > 0
    assert {line["amount_fen"] for line in payable if line["service_type"] == "meal"} == {1500}
    assert any(line["state"] in ("held", "rejected") for line in draft.lines)
