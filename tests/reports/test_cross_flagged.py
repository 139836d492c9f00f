"""Overlapping visits and impossible trips counted per caregiver in the monthly report (issue 12,
item 11), on conftest's hand-worked November."""

from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import select

from backend.extensions import db
from backend.reviews import services as reviews
from backend.visits.models import Visit


def _flag(task, flag):
    visit = db.session.execute(select(Visit).where(Visit.task_id == task.id)).scalar_one()
    visit.flags = sorted({*visit.flags, flag})
    visit.needs_review = True


def _row(body, user_id):
    return next(row for row in body["caregivers"] if row["user_id"] == user_id)


def test_each_caregiver_counts_their_flagged_completed_visits(world, report, clock):
    t1, t2 = world.tasks["T1"], world.tasks["T2"]
    before = report(world.admin, world.district).get_json()
    assert {row["cross_flagged"] for row in before["caregivers"]} == {0}
    _flag(t1, "overlapping_visit")
    _flag(t2, "impossible_travel")
    db.session.commit()
    body = report(world.admin, world.district).get_json()
    expected = {t1.assignee_id: 0, t2.assignee_id: 0}
    expected[t1.assignee_id] += 1
    expected[t2.assignee_id] += 1
    assert {user_id: _row(body, user_id)["cross_flagged"] for user_id in expected} == expected
    assert "cross_flagged" in body["definitions"]
    # A visit rejected on review leaves every visit figure, this one too.
    reviews.decide(t1, "rejected", "visit_did_not_happen", None, by=world.admin, at=clock())
    db.session.commit()
    after = report(world.admin, world.district).get_json()
    assert _row(after, t1.assignee_id)["cross_flagged"] == expected[t1.assignee_id] - 1


def test_the_xlsx_names_the_column_in_chinese(world, report):
    xlsx = report(world.admin, world.district, ext=".xlsx")
    assert xlsx.status_code == 200
    headers = {cell.value for sheet in load_workbook(BytesIO(xlsx.data)).worksheets for cell in sheet[1]}
    assert "时间重叠或行程异常" in headers
