"""Call-back pages: the month's draws and call-backs in scope, the draw button, recording a call."""

from sqlalchemy import select

from backend.clock import local_today
from backend.extensions import db
from backend.reviews.models import Callback, CallbackDraw


def draw(console, **form):
    console.get("/console/callbacks")
    return console.post("/console/callbacks/draw", {"month": "2026-10", **form})


def callback_of(task):
    db.session.expire_all()
    return db.session.execute(select(Callback).where(Callback.task_id == task.id)).scalar_one()


def test_the_page_defaults_to_last_month_and_offers_the_draw(ward, as_user):
    html = as_user(ward.supervisor_a).text("/console/callbacks")
    assert 'value="2026-10"' in html and "本月尚未抽样" in html and 'action="/console/callbacks/draw"' in html
    assert 'name="seed"' not in html  # the share and the seed are for admins


def test_a_supervisor_draws_with_the_defaults_and_sees_their_streets_call_backs(ward, as_user):
    assert draw(as_user(ward.admin), share="100").status_code == 302
    assert db.session.execute(select(CallbackDraw)).scalar_one().share == 1.0
    html = as_user(ward.supervisor_a).text("/console/callbacks?month=2026-10")
    assert f"/console/visits/{ward.a1_october.id}\"" in html and f"/console/visits/{ward.b1_october.id}\"" not in html
    assert "共 1 条回访" in html


def test_only_admins_choose_the_share_and_only_ended_months_are_drawn(ward, as_user, clock):
    console = as_user(ward.supervisor_a)
    draw(console, share="50")
    assert "无权执行此操作" in console.text("/console/callbacks")
    draw(console, month=local_today(clock()).strftime("%Y-%m"))  # this month
    assert "请选择已经结束的月份" in console.text("/console/callbacks")
    assert db.session.execute(select(CallbackDraw)).first() is None


def test_recording_a_denial_opens_a_follow_up(ward, as_user):
    draw(as_user(ward.admin), share="100")
    console = as_user(ward.supervisor_a)
    callback = callback_of(ward.a1_october)
    assert as_user(ward.supervisor_b).get(f"/console/callbacks/{callback.id}").status_code == 404
    console.get(f"/console/callbacks/{callback.id}")
    response = console.post(f"/console/callbacks/{callback.id}", {"status": "done", "confirmed": "no",
                                                                  "satisfaction": "1", "note": "老人说没人来"})
    assert response.status_code == 302
    callback = callback_of(ward.a1_october)
    assert (callback.status, callback.is_confirmed, callback.satisfaction) == ("done", False, 1)
    assert callback.followup_id is not None
    assert f"/console/followups/{callback.followup_id}\"" in console.text(f"/console/callbacks/{callback.id}")


def test_a_reached_elder_needs_an_answer(ward, as_user):
    draw(as_user(ward.admin), share="100")
    console = as_user(ward.supervisor_a)
    callback = callback_of(ward.a1_october)
    console.get(f"/console/callbacks/{callback.id}")
    response = console.post(f"/console/callbacks/{callback.id}", {"status": "done"})
    assert response.status_code == 422 and 'role="alert"' in response.get_data(as_text=True)
    assert console.post(f"/console/callbacks/{callback.id}", {"status": "unreachable"}).status_code == 302
    assert callback_of(ward.a1_october).status == "unreachable"
