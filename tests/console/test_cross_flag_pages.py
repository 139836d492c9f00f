"""The cross-visit flags read in Chinese in the review queue and the visit log's flag filter."""

from sqlalchemy import select

from backend.extensions import db
from backend.visits.models import Visit


def test_the_queue_and_the_visit_log_name_an_overlapping_visit_in_chinese(ward, as_user):
    visit = db.session.execute(select(Visit).where(Visit.task_id == ward.a1_unverified.id)).scalar_one()
    visit.flags = sorted({*visit.flags, "overlapping_visit"})
    db.session.commit()
    console = as_user(ward.admin)
    queue = console.text("/console/reviews?flag=overlapping_visit")
    assert f"/console/visits/{ward.a1_unverified.id}" in queue and "与其他服务时间重叠" in queue
    assert f"/console/visits/{ward.b1_unverified.id}" not in queue
    log = console.text("/console/visits?flag=impossible_travel")
    assert "行程速度不合理" in log and f"/console/visits/{ward.a1_unverified.id}" not in log


def test_the_elder_page_names_the_identity_document_and_masks_a_passport(ward, as_user):
    elder = ward.elder_a1
    assert "居民身份证" in as_user(ward.admin).text(f"/console/elders/{elder.id}")
    elder.id_document_type, elder.id_card_no = "passport", "E12345678"
    db.session.commit()
    html = as_user(ward.supervisor_a).text(f"/console/elders/{elder.id}")
    assert "护照" in html and "E1*****78" in html and "E12345678" not in html
