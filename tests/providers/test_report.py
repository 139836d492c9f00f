"""The monthly report carries the providers' workforce and their overdue rectification orders."""

from datetime import timedelta

from backend.clock import local_today
from backend.extensions import db
from backend.rectifications import services as rectifications
from backend.reports.services import monthly_report


def test_the_monthly_report_lists_workforce_and_overdue_orders(city, managers, make_visit, clock):
    city.caregiver.certificate_no = "YL2023000001"
    make_visit(start=clock() - timedelta(hours=3))  # 30 verified minutes this month
    order = rectifications.issue(provider_id=city.provider.id, findings="满意度偏低", by=city.supervisor_a,
                                 at=clock(), due_on=local_today(clock()) + timedelta(days=3))
    db.session.commit()
    first_day = local_today(clock()).replace(day=1)

    report = monthly_report(city.district, first_day, now=clock())
    assert report["overdue_rectifications"] == []
    row = next(r for r in report["workforce"] if r["provider_id"] == city.provider.id)
    assert row["certification_rate"] == 1.0 and row["service_hours"] == 0.5

    later = monthly_report(city.district, first_day, now=clock() + timedelta(days=5))
    assert [r["rectification_id"] for r in later["overdue_rectifications"]] == [order.id]
