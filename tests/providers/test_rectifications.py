"""Rectification orders (限期整改): a supervisor issues, the provider's manager responds, the
supervisor accepts, extends or escalates; overdue orders; who may do what; the audit trail."""

from datetime import timedelta

from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.clock import local_today
from backend.extensions import db
from backend.followups.models import Notification
from backend.rectifications import services
from backend.rectifications.models import Rectification


def _issue(api, user, provider, clock, **extra):
    body = {"provider_id": provider.id, "findings": "十一月满意度低于 3.5，核验率不足 80%",
            "due_on": (local_today(clock()) + timedelta(days=14)).isoformat()} | extra
    return api(user, "post", "/rectifications", json=body)


def test_an_order_goes_from_issue_to_response_to_acceptance(city, api, managers, make_visit, clock):
    mine, _ = managers
    visit = make_visit()
    issued = _issue(api, city.supervisor_a, city.provider, clock, source="monthly_list", month="2026-10",
                    task_ids=[visit.task_id], figures={"satisfaction_mean": 3.1})
    assert issued.status_code == 201, issued.get_json()
    order = issued.get_json()
    assert order["status"] == "open" and order["task_ids"] == [visit.task_id] and not order["is_overdue"]
    told = db.session.execute(select(Notification).where(Notification.user_id == mine.id)).scalar_one()
    assert told.event == "rectification_issued"

    responded = api(mine, "post", f"/rectifications/{order['id']}/respond",
                    json={"response": "已对护理员集中培训，并逐户回访", "version": order["version"]})
    assert responded.status_code == 200 and responded.get_json()["status"] == "responded"
    answered = db.session.execute(select(Notification).where(Notification.user_id == city.supervisor_a.id)
                                  ).scalar_one()
    assert answered.event == "rectification_answer"
    accepted = api(city.supervisor_a, "post", f"/rectifications/{order['id']}/accept", json={"note": "整改到位"})
    body = accepted.get_json()
    assert body["status"] == "accepted" and body["closed_at"] is not None
    assert [e["action"] for e in body["events"]] == ["issued", "responded", "accepted"]
    events = db.session.execute(select(Notification.event).where(Notification.user_id == mine.id)
                                .order_by(Notification.id)).scalars().all()
    assert events == ["rectification_issued", "rectification_update"]
    again = api(mine, "post", f"/rectifications/{order['id']}/respond", json={"response": "补充说明"})
    assert again.status_code == 409


def test_extending_reopens_with_a_later_deadline_and_escalating_closes_it(city, api, managers, clock):
    mine, _ = managers
    order = _issue(api, city.supervisor_a, city.provider, clock).get_json()
    api(mine, "post", f"/rectifications/{order['id']}/respond", json={"response": "正在整改"})
    earlier = api(city.supervisor_a, "post", f"/rectifications/{order['id']}/extend", json={"due_on": order["due_on"]})
    assert earlier.status_code == 422 and "due_on" in earlier.get_json()["errors"]
    later = (local_today(clock()) + timedelta(days=30)).isoformat()
    extended = api(city.supervisor_a, "post", f"/rectifications/{order['id']}/extend", json={"due_on": later})
    assert extended.get_json()["status"] == "open" and extended.get_json()["due_on"] == later
    assert extended.get_json()["extensions"] == 1
    no_reason = api(city.supervisor_a, "post", f"/rectifications/{order['id']}/escalate", json={"note": " "})
    assert no_reason.status_code == 422
    escalated = api(city.supervisor_a, "post", f"/rectifications/{order['id']}/escalate",
                    json={"note": "逾期仍未整改，建议收回补助资金"})
    assert escalated.get_json()["status"] == "escalated"
    admin_told = db.session.execute(select(Notification).where(Notification.user_id == city.admin.id)).scalar_one()
    assert admin_told.event == "escalated"


def test_an_order_unanswered_past_its_deadline_is_overdue(city, api, managers, clock):
    order = _issue(api, city.supervisor_a, city.provider, clock).get_json()
    assert api(city.supervisor_a, "get", "/rectifications?overdue=true").get_json()["meta"]["total"] == 0
    clock.advance(days=16)
    listed = api(city.supervisor_a, "get", "/rectifications?overdue=true").get_json()
    assert [o["id"] for o in listed["items"]] == [order["id"]] and listed["items"][0]["is_overdue"]
    assert [o.id for o in services.overdue(city.provider.id, now=clock())] == [order["id"]]


def test_an_overdue_order_holds_the_next_statement_only_when_the_setting_says_so(app, city, api, managers, clock):
    _issue(api, city.supervisor_a, city.provider, clock)
    clock.advance(days=16)
    assert services.holds_statement(city.provider.id, now=clock()) is False
    app.config["RECTIFICATION_HOLDS_STATEMENT"] = True
    try:
        assert services.holds_statement(city.provider.id, now=clock()) is True
        assert services.holds_statement(city.other_provider.id, now=clock()) is False
    finally:
        app.config["RECTIFICATION_HOLDS_STATEMENT"] = False


def test_only_the_right_side_acts(city, api, managers, clock):
    mine, other = managers
    order = _issue(api, city.supervisor_a, city.provider, clock).get_json()
    url = f"/rectifications/{order['id']}"
    assert api(mine, "post", "/rectifications", json={"provider_id": city.provider.id, "findings": "x",
                                                       "due_on": "2030-01-01"}).status_code == 403
    assert api(city.supervisor_a, "post", url + "/respond", json={"response": "代答"}).status_code == 403
    assert api(mine, "post", url + "/accept", json={}).status_code == 403
    assert api(other, "get", url).status_code == 404  # another provider's order does not exist for them
    assert api(other, "post", url + "/respond", json={"response": "x"}).status_code == 404
    assert api(other, "get", "/rectifications").get_json()["meta"]["total"] == 0
    assert api(mine, "get", "/rectifications").get_json()["meta"]["total"] == 1
    stale = api(mine, "post", url + "/respond", json={"response": "x", "version": order["version"] + 5})
    assert stale.status_code == 409 and stale.get_json()["code"] == "version_conflict"


def test_an_order_names_the_field_it_cannot_take(city, api, managers, make_visit, clock):
    foreign = make_visit(city.elder_b1, city.other_provider)
    past = _issue(api, city.supervisor_a, city.provider, clock, due_on=local_today(clock()).isoformat())
    assert past.status_code == 422 and "due_on" in past.get_json()["errors"]
    wrong_visit = _issue(api, city.supervisor_a, city.provider, clock, task_ids=[foreign.task_id])
    assert wrong_visit.status_code == 422 and "task_ids" in wrong_visit.get_json()["errors"]
    unlisted = _issue(api, city.supervisor_a, city.provider, clock, source="monthly_list")
    assert unlisted.status_code == 422 and "month" in unlisted.get_json()["errors"]
    # other_provider is based in street B and serves no elder of street A: not this supervisor's
    elsewhere = _issue(api, city.supervisor_a, city.other_provider, clock)
    assert elsewhere.status_code == 422 and "provider_id" in elsewhere.get_json()["errors"]
    assert _issue(api, city.supervisor_b, city.other_provider, clock).status_code == 201
    missing = api(city.supervisor_a, "post", "/rectifications", json={"provider_id": city.provider.id})
    assert missing.status_code == 422 and {"findings", "due_on"} <= set(missing.get_json()["errors"])


def test_every_step_is_in_the_audit_trail(city, api, managers, clock):
    mine, _ = managers
    order = _issue(api, city.supervisor_a, city.provider, clock).get_json()
    api(mine, "post", f"/rectifications/{order['id']}/respond", json={"response": "已整改"})
    entries = db.session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
    touched = [(e.user_id, change.get("table"), change.get("action")) for e in entries for change in e.changes
               if change.get("table") in ("rectifications", "rectification_events")]
    assert (city.supervisor_a.id, "rectifications", "insert") in touched
    assert (mine.id, "rectifications", "update") in touched
    assert (mine.id, "rectification_events", "insert") in touched
    assert db.session.get(Rectification, order["id"]).responded_by_id == mine.id
