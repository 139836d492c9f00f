"""Follow-up pages: the scoped list with filters, one follow-up's history, and its forms."""

from sqlalchemy import select

from backend.extensions import db
from backend.followups.models import Followup
from backend.tasks.models import Task


def fresh(followup):
    db.session.expire_all()
    return db.session.get(Followup, followup.id)


def act(console, followup, step, **form):
    console.get(f"/console/followups/{followup.id}")
    return console.post(f"/console/followups/{followup.id}/{step}", {"version": fresh(followup).version, **form})


def test_a_supervisor_lists_the_follow_ups_of_their_street_only(ward, as_user):
    html = as_user(ward.supervisor_a).text("/console/followups")
    assert f'href="/console/followups/{ward.a2_followup.id}"' in html
    assert f'href="/console/followups/{ward.b1_followup.id}"' not in html
    assert f'href="/console/followups/{ward.b1_followup.id}"' in as_user(ward.admin).text("/console/followups")


def test_another_streets_follow_up_is_not_found(ward, as_user):
    assert as_user(ward.supervisor_a).get(f"/console/followups/{ward.b1_followup.id}").status_code == 404


def test_filters_by_kind_status_and_overdue(ward, as_user, clock):
    console = as_user(ward.admin)
    html = console.text("/console/followups?kind=unverified_visit")
    assert f"/console/followups/{ward.b1_followup.id}\"" in html and f"/console/followups/{ward.a2_followup.id}\"" \
        not in html
    assert "没有符合条件的跟进事项" in console.text("/console/followups?status=resolved")
    assert "没有符合条件的跟进事项" in console.text("/console/followups?overdue=true")
    clock.advance(days=2)
    assert f"/console/followups/{ward.a2_followup.id}\"" in console.text("/console/followups?overdue=true")


def test_claim_comment_resolve_and_reopen(ward, as_user):
    console = as_user(ward.supervisor_a)
    assert act(console, ward.a2_followup, "claim").status_code == 302
    assert fresh(ward.a2_followup).claimed_by_id == ward.supervisor_a.id
    assert act(console, ward.a2_followup, "comment", text="已联系护理员").status_code == 302
    assert act(console, ward.a2_followup, "resolve", code="elder_in_hospital", note="住院三天").status_code == 302
    followup = fresh(ward.a2_followup)
    assert (followup.status, followup.resolution_code) == ("resolved", "elder_in_hospital")
    html = console.text(f"/console/followups/{followup.id}")
    assert "已联系护理员" in html and "老人住院" in html
    assert f'action="/console/followups/{followup.id}/reopen"' in html
    assert act(console, ward.a2_followup, "reopen", reason="家属说老人已出院").status_code == 302
    assert fresh(ward.a2_followup).status == "open"


def test_other_needs_a_note_and_a_stale_page_is_refused(ward, as_user):
    console = as_user(ward.supervisor_a)
    response = act(console, ward.a2_followup, "resolve", code="other")
    assert response.status_code == 422 and 'role="alert"' in response.get_data(as_text=True)
    response = console.post(f"/console/followups/{ward.a2_followup.id}/comment",
                            {"version": fresh(ward.a2_followup).version + 1, "text": "x"})
    assert response.status_code == 409 and "数据已被他人修改" in response.get_data(as_text=True)
    assert fresh(ward.a2_followup).status == "open"


def test_resolving_as_rescheduled_makes_the_make_up_visit(ward, as_user):
    console = as_user(ward.supervisor_a)
    response = act(console, ward.a2_followup, "resolve", code="rescheduled",
                   window_start_at="2026-11-24T09:00", window_end_at="2026-11-24T11:00")
    assert response.status_code == 302
    makeup = db.session.get(Task, fresh(ward.a2_followup).rescheduled_task_id)
    assert makeup.assignee_id == ward.caregiver_other.id and makeup.window_start_at.hour == 1  # 09:00 in Shanghai
    assert act(console, ward.b1_followup, "claim").status_code == 404


def test_a_post_without_the_token_changes_nothing(ward, as_user):
    console = as_user(ward.supervisor_a)
    response = console.client.post(f"/console/followups/{ward.a2_followup.id}/claim", data={"version": 1})
    assert response.status_code == 400 and fresh(ward.a2_followup).status == "open"
    assert db.session.execute(select(Followup).where(Followup.claimed_by_id.is_not(None))).first() is None
