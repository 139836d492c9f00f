"""Statements through the API: issue, confirm or dispute, approve; what lands on the next month;
exports; and the hash the audit trail keeps."""


from click.testing import CliRunner
from sqlalchemy import text

from backend.extensions import db
from backend.reviews.services import decide
from backend.tasks.models import Task
from tests.api.conftest import assert_problem
from tests.console.conftest import ConsoleClient
from tests.settlement.conftest import month_of


def _month(months, which=0):
    return month_of(months[which])


def _november_with_two_visits(city, months, make_price, make_plan, make_visit, flags=()):
    make_price("meal", price_fen=1500)
    plan = make_plan()
    paid = make_visit(plan, day=3)
    other = make_visit(plan, day=4, flags=flags)
    return paid, other


def test_the_draft_is_live_until_issued_and_the_issued_statement_never_changes(
        api, city, months, make_price, make_plan, make_visit, into_next_month):
    _november_with_two_visits(city, months, make_price, make_plan, make_visit)
    month = _month(months)
    draft = api(city.supervisor_a, "get", f"/statements?provider_id={city.provider.id}&month={month}").get_json()
    assert (draft["status"], draft["id"], draft["total_fen"], draft["line_count"]) == ("draft", None, 3000, 2)
    assert_problem(api(city.supervisor_a, "post", "/statements", json={"provider_id": city.provider.id,
                                                                        "month": month}), 422, "validation_failed",
                   "month")
    into_next_month()
    issued = api(city.supervisor_a, "post", "/statements", json={"provider_id": city.provider.id, "month": month})
    assert issued.status_code == 201, issued.get_json()
    body = issued.get_json()
    assert (body["status"], body["total_fen"], body["government_fen"], body["copay_fen"]) == ("issued", 3000, 3000, 0)
    again = api(city.supervisor_a, "post", "/statements", json={"provider_id": city.provider.id, "month": month})
    assert_problem(again, 409, "statement_state")

    make_visit(make_plan(city.elder_a2), day=5)  # synced late: not on the issued statement
    statement = api(city.supervisor_a, "get", f"/statements/{body['id']}").get_json()
    assert [line["amount_fen"] for line in statement["lines"]] == [1500, 1500]
    assert statement["lines"][0]["elder_name"] == city.elder_a1.name
    shown = api(city.supervisor_a, "get", f"/statements?provider_id={city.provider.id}&month={month}").get_json()
    assert (shown["id"], shown["status"]) == (body["id"], "issued")


def test_a_price_change_does_not_alter_an_issued_month(api, city, months, make_price, make_plan, make_visit,
                                                       into_next_month):
    _november_with_two_visits(city, months, make_price, make_plan, make_visit)
    into_next_month()
    issued = api(city.admin, "post", "/statements", json={"provider_id": city.provider.id,
                                                          "month": _month(months)}).get_json()
    created = api(city.admin, "post", "/prices", json={"service_type": "meal", "unit": "visit", "price_fen": 9900,
                                                       "provider_id": city.provider.id,
                                                       "effective_on": months[0].isoformat()})
    assert created.status_code == 201, created.get_json()
    statement = api(city.admin, "get", f"/statements/{issued['id']}").get_json()
    assert statement["total_fen"] == 3000
    assert [line["amount_fen"] for line in statement["lines"]] == [1500, 1500]


def test_a_held_visit_is_released_on_the_next_statement_once_approved(api, city, months, make_price, make_plan,
                                                                     make_visit, into_next_month, clock):
    _, held = _november_with_two_visits(city, months, make_price, make_plan, make_visit, flags=["no_qr"])
    into_next_month()
    november = api(city.supervisor_a, "post", "/statements", json={"provider_id": city.provider.id,
                                                                   "month": _month(months)}).get_json()
    assert november["total_fen"] == 1500
    lines = api(city.supervisor_a, "get", f"/statements/{november['id']}?state=held").get_json()["lines"]
    assert [(line["visit_id"], line["reason"]) for line in lines] == [(held.id, "awaiting_review")]

    decide(db.session.get(Task, held.task_id), "approved", "evidence_sufficient", None, by=city.supervisor_a,
           at=clock())
    db.session.commit()
    december = api(city.supervisor_a, "get",
                   f"/statements?provider_id={city.provider.id}&month={_month(months, 1)}").get_json()
    assert [(line["state"], line["visit_id"], line["amount_fen"], line["adjusts_line_id"])
            for line in december["lines"]] == [("payable", held.id, 1500, lines[0]["id"])]


def test_dispute_review_reject_approve_and_the_clawback_on_the_next_month(
        api, city, months, make_price, make_plan, make_visit, into_next_month, provider_manager, clock):
    disputed, _ = _november_with_two_visits(city, months, make_price, make_plan, make_visit)
    into_next_month()
    november = api(city.supervisor_a, "post", "/statements", json={"provider_id": city.provider.id,
                                                                   "month": _month(months)}).get_json()
    lines = api(provider_manager, "get", f"/statements/{november['id']}").get_json()["lines"]
    line = next(line for line in lines if line["visit_id"] == disputed.id)
    assert_problem(api(provider_manager, "post", f"/statements/{november['id']}/dispute",
                       json={"line_ids": [line["id"] + 1000], "reason": "没有这一条"}), 422, "validation_failed",
                   "line_ids")
    answer = api(provider_manager, "post", f"/statements/{november['id']}/dispute",
                 json={"line_ids": [line["id"]], "reason": "护理员当天请假，此单重复"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "disputed"
    assert_problem(api(provider_manager, "post", f"/statements/{november['id']}/approve"), 403, "forbidden")

    decide(db.session.get(Task, disputed.task_id), "rejected", "duplicate_claim", None, by=city.supervisor_a,
           at=clock())
    db.session.commit()
    approved = api(city.supervisor_a, "post", f"/statements/{november['id']}/approve")
    assert approved.get_json()["status"] == "locked"
    assert_problem(api(provider_manager, "post", f"/statements/{november['id']}/confirm"), 409, "statement_state")
    shown = api(city.supervisor_a, "get", f"/statements/{november['id']}").get_json()
    assert shown["total_fen"] == 3000  # locked as issued: the rejection lands on December
    assert next(x for x in shown["lines"] if x["id"] == line["id"])["disputed"] == "护理员当天请假，此单重复"

    december = api(provider_manager, "get",
                   f"/statements?provider_id={city.provider.id}&month={_month(months, 1)}").get_json()
    assert [(x["state"], x["reason"], x["amount_fen"], x["government_fen"], x["adjusts_line_id"])
            for x in december["lines"]] == [("adjustment", "clawback", -1500, -1500, line["id"])]
    assert december["total_fen"] == -1500


def test_a_disputed_statement_can_be_reissued_and_the_old_one_is_superseded(
        api, city, months, make_price, make_plan, make_visit, into_next_month, provider_manager, clock):
    disputed, _ = _november_with_two_visits(city, months, make_price, make_plan, make_visit)
    into_next_month()
    first = api(city.supervisor_a, "post", "/statements", json={"provider_id": city.provider.id,
                                                                "month": _month(months)}).get_json()
    line_id = api(provider_manager, "get", f"/statements/{first['id']}").get_json()["lines"][0]["id"]
    api(provider_manager, "post", f"/statements/{first['id']}/dispute", json={"line_ids": [line_id], "reason": "重复"})
    decide(db.session.get(Task, disputed.task_id), "rejected", "duplicate_claim", None, by=city.supervisor_a,
           at=clock())
    db.session.commit()
    second = api(city.supervisor_a, "post", "/statements", json={"provider_id": city.provider.id,
                                                                 "month": _month(months)})
    assert second.status_code == 201, second.get_json()
    assert (second.get_json()["seq"], second.get_json()["total_fen"]) == (2, 1500)
    old = api(city.supervisor_a, "get", f"/statements/{first['id']}").get_json()
    assert (old["status"], old["superseded_by_id"]) == ("superseded", second.get_json()["id"])
    confirmed = api(provider_manager, "post", f"/statements/{second.get_json()['id']}/confirm")
    assert confirmed.get_json()["status"] == "confirmed"


def test_a_provider_manager_sees_only_their_provider(api, city, months, make_price, make_plan, make_visit,
                                                     into_next_month, provider_manager, other_manager):
    _november_with_two_visits(city, months, make_price, make_plan, make_visit)
    into_next_month()
    issued = api(city.supervisor_a, "post", "/statements", json={"provider_id": city.provider.id,
                                                                 "month": _month(months)}).get_json()
    for path in (f"/statements/{issued['id']}", f"/statements/{issued['id']}.csv",
                 f"/statements?provider_id={city.provider.id}&month={_month(months)}"):
        assert_problem(api(other_manager, "get", path), 404, "not_found")
    assert_problem(api(other_manager, "post", f"/statements/{issued['id']}/confirm"), 404, "not_found")
    assert_problem(api(provider_manager, "post", "/statements", json={"provider_id": city.provider.id,
                                                                      "month": _month(months)}), 403, "forbidden")
    assert api(other_manager, "get", "/statements/issued").get_json()["items"] == []
    mine = api(provider_manager, "get", "/statements/issued").get_json()["items"]
    assert [s["id"] for s in mine] == [issued["id"]]
    assert_problem(api(city.caregiver, "get", f"/statements/{issued['id']}"), 403, "forbidden")


def test_exports_in_chinese_and_in_machine_codes(api, city, months, make_price, make_plan, make_visit,
                                                 into_next_month):
    _november_with_two_visits(city, months, make_price, make_plan, make_visit)
    into_next_month()
    issued = api(city.supervisor_a, "post", "/statements", json={"provider_id": city.provider.id,
                                                                 "month": _month(months)}).get_json()
    csv = api(city.supervisor_a, "get", f"/statements/{issued['id']}.csv")
    rows = csv.get_data(as_text=True).splitlines()
    assert rows[0].startswith("statement_id,provider_id,month,seq,status,line_no,state")
    assert ",payable," in rows[1] and ",1500,1500,0," in rows[1]
    xlsx = api(city.supervisor_a, "get", f"/statements/{issued['id']}.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    pdf = api(city.supervisor_a, "get", f"/statements/{issued['id']}.pdf")
    assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"


def test_audit_verify_catches_a_planted_edit_of_an_issued_line(app, api, city, months, make_price, make_plan,
                                                               make_visit, into_next_month):
    from backend.audit.cli import audit_group

    _november_with_two_visits(city, months, make_price, make_plan, make_visit)
    into_next_month()
    issued = api(city.supervisor_a, "post", "/statements", json={"provider_id": city.provider.id,
                                                                 "month": _month(months)}).get_json()
    runner = CliRunner()
    assert runner.invoke(audit_group, ["verify"], obj=app.cli).exit_code == 0, "intact before the edit"
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE statement_lines SET amount_fen = 150000, government_fen = 150000 "
                                "WHERE statement_id = :id AND line_no = 1"), {"id": issued["id"]})
    result = runner.invoke(audit_group, ["verify"], obj=app.cli)
    assert result.exit_code == 1
    assert f"statement {issued['id']} BROKEN" in result.output

    with db.engine.begin() as connection:  # and a hash recomputed to match the edit is not the recorded one
        from backend.settlement import ledger
        from backend.settlement.models import Statement, StatementLine

        columns = [getattr(StatementLine, name) for name in ledger.LINE_FIELDS]
        lines = connection.execute(db.select(*columns).where(StatementLine.statement_id == issued["id"])
                                   .order_by(StatementLine.line_no)).all()
        forged = ledger.statement_hash(city.provider.id, _month(months), 1, lines)
        connection.execute(db.update(Statement).where(Statement.id == issued["id"]).values(hash=forged))
    result = runner.invoke(audit_group, ["verify"], obj=app.cli)
    assert result.exit_code == 1 and "audit trail recorded" in result.output


def test_a_held_visit_rejected_later_shows_as_rejected_on_the_next_statement(
        api, city, months, make_price, make_plan, make_visit, into_next_month, clock):
    _, held = _november_with_two_visits(city, months, make_price, make_plan, make_visit, flags=["no_qr"])
    into_next_month()
    api(city.supervisor_a, "post", "/statements", json={"provider_id": city.provider.id, "month": _month(months)})
    decide(db.session.get(Task, held.task_id), "rejected", "no_presence_evidence", None, by=city.supervisor_a,
           at=clock())
    db.session.commit()
    december = api(city.supervisor_a, "get",
                   f"/statements?provider_id={city.provider.id}&month={_month(months, 1)}").get_json()
    assert [(line["state"], line["reason"], line["amount_fen"]) for line in december["lines"]] == [
        ("rejected", "no_presence_evidence", 0)]


def test_exports_hold_names_that_are_markup_or_control_characters(api, city, months, make_price, make_plan,
                                                                  make_visit, into_next_month):
    """A provider named with '&', '<' or a control character (as an admin may type, or a fuzzer) is
    text in the XLSX and the PDF, never a 500."""
    city.provider.name = "=A&B <养老>\x0b服务"
    db.session.commit()
    _november_with_two_visits(city, months, make_price, make_plan, make_visit)
    into_next_month()
    issued = api(city.supervisor_a, "post", "/statements", json={"provider_id": city.provider.id,
                                                                 "month": _month(months)}).get_json()
    for ext, magic in (("xlsx", b"PK"), ("pdf", b"%PDF")):
        response = api(city.supervisor_a, "get", f"/statements/{issued['id']}.{ext}")
        assert response.status_code == 200 and response.data[:len(magic)] == magic, ext


def test_a_supervisor_reads_and_issues_statements_only_of_providers_serving_their_region(
        api, app, city, months, make_price, make_plan, make_visit, into_next_month):
    """city.provider serves an elder of street A; street B's supervisor sees none of it, the
    district's (the whole tree) sees it, and the console's provider choice follows."""
    _november_with_two_visits(city, months, make_price, make_plan, make_visit)
    into_next_month()
    month = _month(months)
    draft = f"/statements?provider_id={city.provider.id}&month={month}"
    assert_problem(api(city.supervisor_b, "get", draft), 404, "not_found")
    assert_problem(api(city.supervisor_b, "post", "/statements", json={"provider_id": city.provider.id,
                                                                        "month": month}), 404, "not_found")
    issued = api(city.supervisor_all, "post", "/statements", json={"provider_id": city.provider.id, "month": month})
    assert issued.status_code == 201, issued.get_json()
    statement_id = issued.get_json()["id"]
    assert_problem(api(city.supervisor_b, "get", f"/statements/{statement_id}"), 404, "not_found")
    assert_problem(api(city.supervisor_b, "post", f"/statements/{statement_id}/approve"), 404, "not_found")
    assert api(city.supervisor_b, "get", "/statements/issued").get_json()["items"] == []
    assert [s["id"] for s in api(city.supervisor_a, "get", "/statements/issued").get_json()["items"]] == [
        statement_id]

    console = ConsoleClient(app.test_client())
    assert console.sign_in(city.supervisor_b).status_code == 302
    assert console.get(f"/console/statements/{statement_id}").status_code == 404
    assert city.provider.name not in console.text("/console/statements")
