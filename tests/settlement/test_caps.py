"""Caps and month fees across months, on hand-worked fixtures (fen): a visit paid on a later
statement counts against the cap of the month it was served in, a released month-priced visit is
paid its fee once, and an issued statement keeps its usage against the caps, under its hash."""

import io
from datetime import timedelta

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import text

from backend.clock import local_midnight
from backend.extensions import db
from backend.reviews.services import decide
from backend.settlement import ledger
from backend.tasks.models import Task
from tests.console.conftest import ConsoleClient
from tests.poppler import pdf_text
from tests.settlement.conftest import month_of, next_month


def _issue(api, city, month):
    answer = api(city.supervisor_a, "post", "/statements", json={"provider_id": city.provider.id, "month": month})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _draft(api, city, month):
    return api(city.supervisor_a, "get", f"/statements?provider_id={city.provider.id}&month={month}").get_json()


def _decide(visit, decision, reason, city, clock):
    decide(db.session.get(Task, visit.task_id), decision, reason, None, by=city.supervisor_a, at=clock())
    db.session.commit()


def _usage(statement):
    return [(u["month"], u["cap_fen"], u["government_fen"], u["minutes"]) for u in statement["cap_usage"]]


def _into_the_month_after_next(clock, months):
    clock.set(local_midnight(next_month(months[1])) + timedelta(days=2, hours=3))


def test_a_held_visit_released_next_month_is_capped_by_its_own_month(
        app, api, city, months, make_price, make_plan, make_visit, into_next_month, clock):
    make_price("meal", price_fen=3000)
    plan = make_plan(cap_fen=5000)
    make_visit(plan, day=3, minutes=30)                   # November: 3000 by the government, 2000 of the cap left
    held = make_visit(plan, day=4, minutes=40, flags=["no_qr"])  # held: nothing paid, no cap used
    november_month, december_month = month_of(months[0]), month_of(months[1])
    into_next_month()
    november = _issue(api, city, november_month)
    assert (november["total_fen"], november["government_fen"]) == (3000, 3000)
    assert _usage(api(city.supervisor_a, "get", f"/statements/{november['id']}").get_json()) == [
        (november_month, 5000, 3000, 30)]

    _decide(held, "approved", "evidence_sufficient", city, clock)
    make_visit(plan, day=2, minutes=20, month=months[1])  # December's own: December's cap, untouched
    december = _draft(api, city, december_month)
    assert [(x["state"], x["served_on"][:7], x["amount_fen"], x["government_fen"], x["copay_fen"])
            for x in december["lines"]] == [
        ("payable", december_month, 3000, 3000, 0),
        ("payable", november_month, 3000, 2000, 1000),  # November had 5000 − 3000 = 2000 left; the elder pays 1000
    ]
    assert _usage(december) == [(november_month, 5000, 5000, 70), (december_month, 5000, 3000, 20)]
    assert all(type(u["government_fen"]) is int for u in ledger.compute(city.provider.id, december_month).caps.values())
    console = ConsoleClient(app.test_client())
    assert console.sign_in(city.supervisor_a).status_code == 302
    page = console.text(f"/console/statements?provider_id={city.provider.id}&month={december_month}")
    caps = page[page.index('id="caps-heading"'):page.index('id="lines-heading"')]
    assert caps.count("<td class=\"num\">50.00</td>") == 3 and "<td class=\"num\">30.00</td>" in caps

    _into_the_month_after_next(clock, months)
    issued = _issue(api, city, december_month)
    assert (issued["total_fen"], issued["government_fen"], issued["copay_fen"]) == (6000, 5000, 1000)
    shown = api(city.supervisor_a, "get", f"/statements/{issued['id']}").get_json()
    assert _usage(shown) == [(november_month, 5000, 5000, 70), (december_month, 5000, 3000, 20)]
    assert shown["cap_usage"][0]["elder_name"] == city.elder_a1.name


def test_a_clawback_gives_its_month_back_the_cap_a_release_then_uses(
        api, city, months, make_price, make_plan, make_visit, into_next_month, clock):
    make_price("meal", price_fen=3000)
    plan = make_plan(cap_fen=5000)
    paid = make_visit(plan, day=3)                        # 3000 by the government
    make_visit(plan, day=4)                               # 2000 by the government (the cap), 1000 by the elder
    held = make_visit(plan, day=5, flags=["no_qr"])
    into_next_month()
    _issue(api, city, month_of(months[0]))
    _decide(paid, "rejected", "duplicate_claim", city, clock)
    _decide(held, "approved", "evidence_sufficient", city, clock)
    december = _draft(api, city, month_of(months[1]))
    assert [(x["state"], x["reason"], x["amount_fen"], x["government_fen"], x["copay_fen"])
            for x in december["lines"]] == [
        ("adjustment", "clawback", -3000, -3000, 0),       # November's usage: 5000 − 3000 = 2000
        ("payable", None, 3000, 3000, 0),                  # 3000 left of November's cap: all of it
    ]
    assert _usage(december) == [(month_of(months[0]), 5000, 5000, 60)]


def test_an_hours_cap_holds_for_a_release_into_an_earlier_month(
        api, city, months, make_price, make_plan, make_visit, into_next_month, clock):
    make_price("cleaning", unit="hour", price_fen=4000)   # 1000 a quarter hour
    plan = make_plan(cap_minutes=90)
    make_visit(plan, day=3, service_type="cleaning", minutes=60)  # 4000, 60 of the 90 minutes
    rejected = make_visit(plan, day=4, service_type="cleaning", minutes=60, flags=["no_qr"])
    _decide(rejected, "rejected", "no_presence_evidence", city, clock)
    into_next_month()
    _issue(api, city, month_of(months[0]))
    _decide(rejected, "approved", "evidence_sufficient", city, clock)  # released: 30 of its 60 minutes fit
    december = _draft(api, city, month_of(months[1]))
    assert [(x["state"], x["reason"], x["amount_fen"], x["government_fen"], x["copay_fen"])
            for x in december["lines"]] == [("adjustment", "release", 4000, 2000, 2000)]
    assert _usage(december) == [(month_of(months[0]), None, 6000, 120)]


def test_a_released_month_priced_visit_is_paid_its_fee_once(
        api, city, months, make_price, make_plan, make_visit, into_next_month, clock, make_elder):
    make_price("companionship", unit="month", price_fen=30000)
    alone = make_plan()                                   # its one November visit held: no fee in November
    alone_held = make_visit(alone, day=3, service_type="companionship", flags=["no_qr"])
    paid = make_plan(make_elder(city.community_a1))       # its first visit carried November's fee
    make_visit(paid, day=3, service_type="companionship")
    paid_held = make_visit(paid, day=4, service_type="companionship", flags=["no_qr"])
    into_next_month()
    november = _issue(api, city, month_of(months[0]))
    assert november["total_fen"] == 30000
    _decide(alone_held, "approved", "evidence_sufficient", city, clock)
    _decide(paid_held, "approved", "evidence_sufficient", city, clock)
    december = _draft(api, city, month_of(months[1]))
    assert sorted((x["visit_id"], x["state"], x["units"], x["amount_fen"]) for x in december["lines"]) == sorted([
        (alone_held.id, "payable", 1, 30000),              # November's fee, paid a month late
        (paid_held.id, "payable", 0, 0),                   # the fee of November was paid already
    ])
    assert december["total_fen"] == 30000


def test_the_frozen_cap_usage_is_under_the_hash_and_in_every_export(
        app, api, city, months, make_price, make_plan, make_visit, into_next_month, tmp_path):
    from backend.audit.cli import audit_group

    make_price("meal", price_fen=3000)
    plan = make_plan(cap_fen=5000)
    for day in (3, 4):
        make_visit(plan, day=day)                         # 3000 + 2000 by the government, 1000 by the elder
    into_next_month()
    issued = _issue(api, city, month_of(months[0]))
    shown = api(city.supervisor_a, "get", f"/statements/{issued['id']}").get_json()
    assert _usage(shown) == [(month_of(months[0]), 5000, 5000, 60)]

    book = load_workbook(io.BytesIO(api(city.supervisor_a, "get", f"/statements/{issued['id']}.xlsx").data))
    caps = book["月度补贴上限使用情况"]
    assert [cell.value for cell in caps[2]] == [city.elder_a1.name, month_of(months[0]), "50.00", None, "50.00", "60"]
    pdf = pdf_text(api(city.supervisor_a, "get", f"/statements/{issued['id']}.pdf").data, tmp_path)
    assert "月度补贴上限使用情况" in pdf and "已用政府补贴" in pdf
    console = ConsoleClient(app.test_client())
    assert console.sign_in(city.supervisor_a).status_code == 302
    page = console.text(f"/console/statements/{issued['id']}")
    assert "月度补贴上限使用情况" in page and "<td class=\"num\">50.00</td>" in page

    runner = CliRunner()
    assert runner.invoke(audit_group, ["verify"], obj=app.cli).exit_code == 0, "intact before the edit"
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE statement_cap_usage SET government_fen = 3000 WHERE statement_id = :id"),
                           {"id": issued["id"]})
    result = runner.invoke(audit_group, ["verify"], obj=app.cli)
    assert result.exit_code == 1
    assert f"statement {issued['id']} BROKEN" in result.output
