"""The review queue page: visits awaiting a decision in the user's scope, each linked to its page."""

from tests.console.test_visit_page import review


def test_a_supervisor_sees_their_streets_queue_only(ward, as_user):
    html = as_user(ward.supervisor_a).text("/console/reviews")
    assert f'href="/console/visits/{ward.a1_unverified.id}"' in html
    assert f'href="/console/visits/{ward.b1_unverified.id}"' not in html and ward.elder_b1.name not in html


def test_an_admin_sees_every_queued_visit_oldest_first(ward, as_user):
    html = as_user(ward.admin).text("/console/reviews")
    assert "共 2 条待审核" in html
    assert f'href="/console/elders/{ward.elder_a1.id}"' in html and f'href="/console/elders/{ward.elder_b1.id}"' in html


def test_a_final_decision_takes_a_visit_off_the_queue_and_a_question_keeps_it_marked(ward, as_user):
    console = as_user(ward.supervisor_a)
    review(console, ward.a1_unverified, "explanation_requested", "missing_qr")
    html = console.text("/console/reviews")
    assert f'/console/visits/{ward.a1_unverified.id}"' in html and "等待说明" in html
    review(console, ward.a1_unverified, "approved", "explained_acceptably")
    assert "没有待审核的记录" in console.text("/console/reviews")


def test_the_queue_filters_by_flag_and_provider(ward, as_user):
    console = as_user(ward.admin)
    html = console.text("/console/reviews?flag=outside_geofence")
    assert f"/console/visits/{ward.b1_unverified.id}" in html and f"/console/visits/{ward.a1_unverified.id}" not in html
    assert "没有待审核的记录" in console.text(f"/console/reviews?provider_id={ward.other_provider.id}")
    assert console.get("/console/reviews?date_from=nonsense").status_code == 422
