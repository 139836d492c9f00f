"""A visit's page: its full history and the review form, CSRF-protected, locking, and scope."""

from sqlalchemy import select

from backend.extensions import db
from backend.reviews.models import Review


def reviews_of(task):
    db.session.expire_all()
    return db.session.execute(select(Review).where(Review.task_id == task.id).order_by(Review.seq)).scalars().all()


def review(console, task, decision="approved", reason="evidence_sufficient", comment="", **extra):
    console.get(f"/console/visits/{task.id}")
    return console.post(f"/console/visits/{task.id}/review",
                        {"decision": decision, "reason_code": reason, "comment": comment, **extra})


def test_the_page_shows_the_visit_and_its_review_form(ward, as_user):
    for user in (ward.admin, ward.supervisor_a):
        html = as_user(user).text(f"/console/visits/{ward.a1_unverified.id}")
        assert ward.elder_a1.name in html and "未扫码" in html and 'id="review-form"' in html
        assert '<label for="f-reason_code">' in html and 'optgroup label="不通过"' in html


def test_another_streets_visit_is_not_found(ward, as_user):
    console = as_user(ward.supervisor_b)
    assert console.get(f"/console/visits/{ward.a1_unverified.id}").status_code == 404
    console.get(f"/console/visits/{ward.b1_unverified.id}")  # a token from a page it may see
    assert console.post(f"/console/visits/{ward.a1_unverified.id}/review",
                        {"decision": "rejected", "reason_code": "wrong_elder"}).status_code == 404
    assert reviews_of(ward.a1_unverified) == []


def test_a_decision_is_recorded_and_announced(ward, as_user):
    console = as_user(ward.supervisor_a)
    response = review(console, ward.a1_unverified, "rejected", "no_presence_evidence", "照片也没有")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/visits/{ward.a1_unverified.id}")
    [decision] = reviews_of(ward.a1_unverified)
    assert (decision.decision, decision.reason_code, decision.decided_by_id) == \
        ("rejected", "no_presence_evidence", ward.supervisor_a.id)
    html = console.text(f"/console/visits/{ward.a1_unverified.id}")
    assert 'role="status"' in html and "审核结论已记录" in html and "照片也没有" in html


def test_a_decision_without_the_csrf_token_is_refused(ward, as_user):
    console = as_user(ward.supervisor_a)
    console.get(f"/console/visits/{ward.a1_unverified.id}")
    response = console.client.post(f"/console/visits/{ward.a1_unverified.id}/review",
                                   data={"decision": "approved", "reason_code": "evidence_sufficient"})
    assert response.status_code == 400 and "表单已过期" in response.get_data(as_text=True)
    assert reviews_of(ward.a1_unverified) == []


def test_a_reason_of_another_decision_is_refused_with_an_alert(ward, as_user):
    response = review(as_user(ward.supervisor_a), ward.a1_unverified, "approved", "wrong_elder")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'role="alert"' in html and "请选择与审核结论对应的原因" in html
    assert 'value="approved" selected' in html  # the form keeps what was chosen
    assert reviews_of(ward.a1_unverified) == []


def test_other_needs_a_comment(ward, as_user):
    response = review(as_user(ward.supervisor_a), ward.a1_unverified, "approved", "other")
    assert response.status_code == 422 and "必须填写说明" in response.get_data(as_text=True)


def test_a_locked_decision_offers_nothing_but_an_admins_unlock(ward, as_user, clock):
    review(as_user(ward.supervisor_a), ward.a1_unverified)
    clock.advance(days=96)
    html = as_user(ward.supervisor_a).text(f"/console/visits/{ward.a1_unverified.id}")
    assert 'id="lock-note"' in html and 'id="review-form"' not in html and "unlock" not in html.split("<main")[1]
    admin = as_user(ward.admin)
    assert f'action="/console/visits/{ward.a1_unverified.id}/unlock"' in admin.text(
        f"/console/visits/{ward.a1_unverified.id}")
    assert admin.post(f"/console/visits/{ward.a1_unverified.id}/unlock", {"reason": ""}).status_code == 422
    assert admin.post(f"/console/visits/{ward.a1_unverified.id}/unlock",
                      {"reason": "家属补充了证明"}).status_code == 302
    assert 'id="review-form"' in admin.text(f"/console/visits/{ward.a1_unverified.id}")
    assert reviews_of(ward.a1_unverified)[0].unlock_reason == "家属补充了证明"


def test_a_missed_task_has_no_visit_to_decide_on(ward, as_user):
    html = as_user(ward.supervisor_a).text(f"/console/visits/{ward.a2_missed.id}")
    assert "没有上门记录" in html and 'id="review-form"' not in html and "漏访" in html


def test_the_history_shows_pushed_items_and_a_resent_duplicate(field, as_user, city):
    check_in = field.phone.item("check_in", field.task.id, field.start, qr=field.qr, location=field.at_door)
    assert field.phone.push([check_in]).status_code == 200
    assert field.phone.push([check_in]).status_code == 200  # the phone did not hear back, and resends
    field.clock.advance(minutes=1)
    html = as_user(city.supervisor_a).text(f"/console/visits/{field.task.id}")
    assert "收到记录" in html and "签到" in html and "二维码核验通过" in html
    assert "收到重复记录" in html and "phone-A" in html


def test_field_roles_never_get_the_page(ward, console):
    assert console.sign_in(ward.caregiver).status_code == 403
    assert console.get(f"/console/visits/{ward.a1_unverified.id}").status_code == 302


def test_the_history_lists_follow_up_steps(ward, as_user):
    html = as_user(ward.supervisor_b).text(f"/console/visits/{ward.b1_unverified.id}")
    assert f'href="/console/followups/{ward.b1_followup.id}"' in html and "待核查的服务记录" in html


def test_decisions_are_listed_first_to_last(ward, as_user, clock):
    console = as_user(ward.supervisor_a)
    review(console, ward.a1_unverified, "explanation_requested", "missing_qr")
    clock.advance(minutes=5)
    review(console, ward.a1_unverified, "approved", "explained_acceptably")
    assert [r.decision for r in reviews_of(ward.a1_unverified)] == ["explanation_requested", "approved"]
    table = console.text(f"/console/visits/{ward.a1_unverified.id}").split("本次服务的审核记录")[1]
    assert table.index("已要求说明") < table.index("说明合理") and "已被取代" in table
