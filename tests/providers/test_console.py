"""The console for a provider manager: their own pages only, in Chinese; a supervisor issues a
rectification order there and the manager responds to it; explanations and hand-overs."""

from datetime import timedelta

from sqlalchemy import select

from backend.clock import local_today
from backend.extensions import db
from backend.rectifications.models import Rectification
from backend.reviews.services import decide


def test_a_manager_signs_in_and_sees_only_their_pages(managers, as_user):
    mine, _ = managers
    page = as_user(mine)
    home = page.text("/console/")
    assert "限期整改" in home and "跟进事项" in home or "Follow-ups" not in home
    assert "/console/reviews" not in home and "/console/elders" not in home
    for path in ("/console/reviews", "/console/elders", "/console/reads", "/console/reports/monthly"):
        assert page.get(path).status_code == 403, path
    assert page.get("/console/rectifications").status_code == 200
    assert page.get("/console/rectifications/new").status_code == 403  # supervisors issue orders


def test_a_supervisor_issues_an_order_and_the_manager_responds_in_the_console(city, managers, as_user, clock):
    mine, other = managers
    supervisor = as_user(city.supervisor_a)
    form = supervisor.text(f"/console/rectifications/new?provider_id={city.provider.id}&month=2026-10")
    assert "月度整改名单" in form
    due = (local_today(clock()) + timedelta(days=10)).isoformat()
    issued = supervisor.post("/console/rectifications", {"provider_id": str(city.provider.id),
                                                         "source": "monthly_list", "month": "2026-10",
                                                         "findings": "回访满意度偏低", "due_on": due, "task_ids": ""})
    assert issued.status_code == 302, issued.get_data(as_text=True)[:500]
    order = db.session.execute(select(Rectification)).scalar_one()

    manager = as_user(mine)
    detail = manager.text(f"/console/rectifications/{order.id}")
    assert "回访满意度偏低" in detail and "提交答复" in detail and "延长整改期限" not in detail
    responded = manager.post(f"/console/rectifications/{order.id}/respond",
                             {"response": "已培训", "version": str(order.version)})
    assert responded.status_code == 302
    assert as_user(other).get(f"/console/rectifications/{order.id}").status_code == 404

    page = supervisor.text(f"/console/rectifications/{order.id}")
    assert "已培训" in page and "确认整改到位" in page
    db.session.refresh(order)
    accepted = supervisor.post(f"/console/rectifications/{order.id}/accept", {"version": str(order.version)})
    assert accepted.status_code == 302
    assert "验收通过" in supervisor.text(f"/console/rectifications/{order.id}")


def test_the_provider_page_shows_hours_and_takes_an_explanation(city, managers, as_user, make_visit, clock):
    mine, _ = managers
    city.caregiver.certificate_no = "YL2023000001"
    visit = make_visit(flags=["qr_missing"])
    review = decide(visit.task, "explanation_requested", "other", "请说明", by=city.supervisor_a, at=clock())
    db.session.commit()
    page = as_user(mine)
    text = page.text("/console/provider")
    assert city.provider.name in text and "持证上岗率" in text and "请说明" in text
    sent = page.post(f"/console/provider/explanations/{review.id}", {"text": "门牌污损"})
    assert sent.status_code == 302
    assert "目前没有需要说明的事项" in page.text("/console/provider")


def test_the_supervisor_reads_the_explanation_on_the_visit_page(city, managers, as_user, api, make_visit, clock):
    mine, _ = managers
    visit = make_visit(flags=["qr_missing"])
    review = decide(visit.task, "explanation_requested", "other", "请说明", by=city.supervisor_a, at=clock())
    db.session.commit()
    supervisor = as_user(city.supervisor_a)
    assert "机构尚未作出说明" in supervisor.text(f"/console/visits/{visit.task_id}")
    api(mine, "post", f"/reviews/{review.id}/explanation", json={"text": "门牌污损，已更换"})
    assert "门牌污损，已更换" in supervisor.text(f"/console/visits/{visit.task_id}")


def test_a_manager_reads_the_visit_log_of_their_provider_only(city, managers, as_user, make_visit):
    mine, other = managers
    own = make_visit()
    foreign = make_visit(city.elder_a2, city.other_provider)
    page = as_user(mine)
    log = page.text("/console/visits")
    assert f"/console/visits/{own.task_id}" in log and f"/console/visits/{foreign.task_id}" not in log
    visit = page.text(f"/console/visits/{own.task_id}")
    assert 'id="review-form"' not in visit and "督查员审核" in visit
    assert page.get(f"/console/visits/{foreign.task_id}").status_code == 404
    assert page.get("/console/visits.csv").status_code == 200
    assert as_user(other).get(f"/console/visits/{own.task_id}").status_code == 404
