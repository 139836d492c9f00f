"""Workforce figures: verified service hours per caregiver in a month and the certification rate."""

from datetime import timedelta

from backend.clock import local_today
from backend.extensions import db
from backend.reports.services import monthly_report
from backend.reviews.services import decide


def _month(clock):
    return local_today(clock()).strftime("%Y-%m")


def test_hours_count_verified_visits_only_and_the_rate_counts_certificates(city, api, managers, make_visit,
                                                                           make_user, clock):
    mine, other = managers
    city.caregiver.certificate_no = "YL2023000001"
    make_user("cg_new", "caregiver", provider_id=city.provider.id)  # no certificate yet
    start = clock() - timedelta(hours=3)  # this month, whatever day the clock says
    make_visit(start=start)  # verified automatically: 30 minutes
    make_visit(city.elder_b1, start=start - timedelta(minutes=5))  # verified: 30 more
    flagged = make_visit(city.elder_a2, start=start - timedelta(minutes=10), flags=["qr_missing"])  # awaiting
    rejected = make_visit(start=start - timedelta(minutes=20), flags=["too_short"])
    decide(rejected.task, "rejected", "duration_too_short", None, by=city.supervisor_all, at=clock())
    db.session.commit()

    figures = api(mine, "get", f"/providers/{city.provider.id}/workforce?month={_month(clock)}").get_json()
    hours = {row["username"]: row for row in figures["caregivers"]}
    assert hours["cg1"]["verified_visits"] == 2 and hours["cg1"]["service_minutes"] == 60
    assert hours["cg1"]["service_hours"] == 1.0 and hours["cg_new"]["service_minutes"] == 0
    assert figures["active_caregivers"] == 2 and figures["certified_caregivers"] == 1
    assert figures["certification_rate"] == 0.5 and figures["certification_target"] == 0.9
    assert _report_row(city, clock) == {"active_caregivers": 2, "certified_caregivers": 1,
                                        "certification_rate": 0.5, "service_hours": 1.0}

    decide(flagged.task, "approved", "evidence_sufficient", None, by=city.supervisor_all, at=clock())
    db.session.commit()
    approved = api(mine, "get", f"/providers/{city.provider.id}/workforce?month={_month(clock)}").get_json()
    assert approved["service_minutes"] == 90
    assert _report_row(city, clock)["service_hours"] == 1.5  # the report counts as the provider's page
    assert api(other, "get", f"/providers/{city.provider.id}/workforce?month={_month(clock)}").status_code == 404
    bad = api(mine, "get", f"/providers/{city.provider.id}/workforce?month=2026-13")
    assert bad.status_code == 422 and "month" in bad.get_json()["errors"]


def _report_row(city, clock) -> dict:
    """The provider's workforce row of the district's monthly report, without its names."""
    report = monthly_report(city.district, local_today(clock()).replace(day=1), now=clock())
    row = next(r for r in report["workforce"] if r["provider_id"] == city.provider.id)
    return {key: row[key] for key in ("active_caregivers", "certified_caregivers", "certification_rate",
                                      "service_hours")}
