"""The register on the console, in Chinese: an elder's page shows a report awaiting confirmation
with the supervisor's forms; confirming it there changes the register; a supervisor reports a
hospital stay from the same page."""

from datetime import timedelta

from sqlalchemy import select

from backend.clock import local_today
from backend.elders.models import Elder
from backend.extensions import db
from backend.register.models import StatusReport
from backend.register.services import report_status
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task

MEAL = {"freq": "daily", "start": "17:00", "end": "18:00"}


def test_a_supervisor_confirms_a_deceased_report_from_the_elders_page(city, make_care_plan, as_user, clock):
    make_care_plan(city.elder_a1, city.provider, [("meal", MEAL, 20, city.caregiver)],
                   revised_at=clock() - timedelta(days=1))
    generate_tasks(now=clock(), horizon_days=3)
    report = report_status(city.elder_a1, "deceased", by=city.worker_a, at=clock(), note="邻居告知")
    db.session.commit()
    console = as_user(city.supervisor_a)
    page = console.text(f"/console/elders/{city.elder_a1.id}")
    assert "在册状态" in page and "待核实" in page and "确认报告" in page and "驳回报告" in page
    assert "邻居告知" in page

    followup_page = console.text(f"/console/followups/{report.followup_id}")
    assert "待核实在册变更" in followup_page and "在老人页面核实" in followup_page

    response = console.post(f"/console/status-reports/{report.id}/confirm", {"version": report.version})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Elder, city.elder_a1.id).status == "deceased"
    assert {t.status for t in db.session.execute(select(Task)).scalars()} == {"cancelled"}
    page = console.text(f"/console/elders/{city.elder_a1.id}")
    assert "已去世" in page and "已核实确认" in page and "已取消 3 次上门" in page
    assert "报告变更" not in page  # no report on an elder no longer in the register


def test_a_supervisor_reports_a_hospital_stay_and_a_bad_date_says_why(city, as_user, clock):
    console = as_user(city.supervisor_a)  # the family phoned the street office
    page = console.text(f"/console/elders/{city.elder_a1.id}")
    assert "报告变更" in page and "确认报告" not in page
    response = console.post(f"/console/elders/{city.elder_a1.id}/status-reports",
                            {"kind": "in_hospital", "returns_on": ""}, follow_redirects=True)
    assert "住院需填写预计返回日期" in response.get_data(as_text=True)
    assert db.session.execute(select(StatusReport)).first() is None
    returns_on = local_today(clock()) + timedelta(days=7)
    response = console.post(f"/console/elders/{city.elder_a1.id}/status-reports",
                            {"kind": "in_hospital", "returns_on": returns_on.isoformat(), "note": "肺炎住院"})
    assert response.status_code == 302
    report = db.session.execute(select(StatusReport)).scalar_one()
    assert (report.kind, report.returns_on, report.reported_by_id) == ("in_hospital", returns_on,
                                                                       city.supervisor_a.id)
    page = console.text(f"/console/elders/{city.elder_a1.id}")
    assert "肺炎住院" in page and "确认报告" in page and f'value="{returns_on.isoformat()}"' in page
