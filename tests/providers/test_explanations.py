"""The provider's manager answers a supervisor's request for an explanation; the supervisor reads it
and decides. The manager never decides on its own visits."""

from sqlalchemy import select

from backend.extensions import db
from backend.followups.models import Notification


def test_the_manager_answers_and_the_supervisor_reads_it_and_decides(city, api, managers, make_visit):
    mine, other = managers
    visit = make_visit(flags=["qr_missing"])
    asked = api(city.supervisor_a, "post", "/reviews", json={
        "task_id": visit.task_id, "decision": "explanation_requested", "reason_code": "other",
        "comment": "请说明为何未扫码"})
    assert asked.status_code == 201, asked.get_json()
    review_id = asked.get_json()["id"]
    told = db.session.execute(select(Notification).where(Notification.user_id == mine.id)).scalar_one()
    assert told.event == "explanation_asked"
    queue = api(mine, "get", "/reviews/queue").get_json()
    assert [e["task_id"] for e in queue["items"]] == [visit.task_id] and queue["items"][0]["awaiting_explanation"]

    assert api(other, "post", f"/reviews/{review_id}/explanation", json={"text": "x"}).status_code == 404
    assert api(city.supervisor_a, "post", f"/reviews/{review_id}/explanation", json={"text": "x"}).status_code == 403
    answered = api(mine, "post", f"/reviews/{review_id}/explanation", json={"text": "门牌被雨水打湿，无法识别"})
    assert answered.status_code == 201 and answered.get_json()["explained_by_id"] == mine.id
    again = api(mine, "post", f"/reviews/{review_id}/explanation", json={"text": "补充"})
    assert again.status_code == 409
    supervisor_told = db.session.execute(select(Notification).where(
        Notification.user_id == city.supervisor_a.id)).scalar_one()
    assert supervisor_told.event == "explanation_given"

    history = api(city.supervisor_a, "get", f"/reviews?task_id={visit.task_id}").get_json()["items"]
    assert history[0]["explanation"]["text"] == "门牌被雨水打湿，无法识别"
    own_decision = api(mine, "post", "/reviews", json={"task_id": visit.task_id, "decision": "approved",
                                                       "reason_code": "explained_acceptably"})
    assert own_decision.status_code == 403
    approved = api(city.supervisor_a, "post", "/reviews", json={
        "task_id": visit.task_id, "decision": "approved", "reason_code": "explained_acceptably"})
    assert approved.status_code == 201
    late = api(mine, "post", f"/reviews/{review_id}/explanation", json={"text": "再补充"})
    assert late.status_code == 409  # superseded: no longer asked for
