"""A review follow-up is titled by what is wrong with the visit: a visit proven at the door that
was only too short is a short visit, not an unverified one."""

from datetime import timedelta

from sqlalchemy import select

from backend.extensions import db
from backend.followups.models import Followup
from backend.followups.triggers import unverified_title


def _push(field, *, qr, minutes):
    phone = field.phone
    check_in = phone.item("check_in", field.task.id, field.start, qr=qr, location=field.at_door)
    check_out = phone.item("check_out", field.task.id, field.start + timedelta(minutes=minutes), qr=qr,
                           location=field.at_door, services=[{"service_type": "meal", "outcome": "done"}])
    response = phone.push([check_in, check_out])
    assert response.status_code == 200, response.get_json()
    return db.session.execute(select(Followup).where(Followup.task_id == field.task.id)).scalar_one()


def test_a_verified_visit_that_was_too_short_opens_a_short_visit_follow_up(field, city):
    followup = _push(field, qr=field.qr, minutes=5)
    assert followup.kind == "unverified_visit" and followup.details == {"flags": ["too_short"]}
    assert followup.summary == f"服务时长不足：{city.elder_a1.name}"


def test_a_visit_without_a_scan_is_still_unverified(field, city):
    followup = _push(field, qr=None, minutes=30)
    assert followup.summary == f"上门记录未通过核验：{city.elder_a1.name}"


def test_titles_follow_the_flags():
    assert unverified_title(["too_short"]) == "服务时长不足"
    assert unverified_title(["too_short", "qr_missing"]) == "上门记录未通过核验"
    assert unverified_title(["outside_geofence"]) == "上门记录未通过核验"
    assert unverified_title(["clock_skew"]) == "上门记录需复核"
    assert unverified_title(["too_short", "after_missed"]) == "服务时长不足"  # after_missed is no doubt
