"""The call-back page says what a draw did: the draw it made, why nothing was drawn, or that the
month has not ended yet — never "drawn: 0" above "nothing drawn"."""

from datetime import timedelta

from backend.clock import local_today


def _month(clock, back: int) -> str:
    first = local_today(clock()).replace(day=1)
    for _ in range(back):
        first = (first - timedelta(days=1)).replace(day=1)
    return first.strftime("%Y-%m")


def test_after_a_draw_the_page_shows_the_draw(ward, as_user, clock):
    console = as_user(ward.admin)
    month = _month(clock, 1)
    console.get("/console/callbacks")
    console.post("/console/callbacks/draw", {"month": month})
    html = console.text(f"/console/callbacks?month={month}")
    assert "已抽样：1 家机构" in html and "本月尚未抽样" not in html


def test_a_month_without_completed_visits_says_there_was_nothing_to_draw(ward, as_user, clock):
    console = as_user(ward.admin)
    month = _month(clock, 3)
    console.get("/console/callbacks")
    console.post("/console/callbacks/draw", {"month": month})
    html = console.text(f"/console/callbacks?month={month}")
    assert "无可抽样" in html and "已抽样" not in html


def test_the_month_not_yet_ended_says_so(ward, as_user, clock):
    month = _month(clock, 0)
    html = as_user(ward.supervisor_a).text(f"/console/callbacks?month={month}")
    assert "尚未结束，月末后才能抽样回访" in html and "本月尚未抽样" not in html
