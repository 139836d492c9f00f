"""Reads of personal data are recorded in the audit trail: an ID number shown in full, every export.

Each test fails on a server that records writes only.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.audit import reads
from backend.audit.models import AuditEntry
from backend.audit.trail import verify_chain
from backend.extensions import db
from backend.plates.services import issue_plate
from backend.visitlog.models import ExportLog


def _reads():
    """(entry, change) of every recorded read, oldest first."""
    db.session.expire_all()
    entries = db.session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
    return [(e, c) for e in entries for c in e.changes if c.get("action") in ("read_id_card", "export")]


def test_an_admin_reading_an_elder_is_recorded_with_who_what_and_how_many(client, login, city):
    response = client.get(f"/api/v1/elders/{city.elder_a1.id}", headers=login(city.admin, device_id="desk-1"))
    assert response.status_code == 200 and response.get_json()["id_card_no"] == city.elder_a1.id_card_no
    [(entry, change)] = _reads()
    assert (entry.user_id, entry.device_id, entry.source) == (city.admin.id, "desk-1",
                                                              f"GET /api/v1/elders/{city.elder_a1.id}")
    assert change == {"table": "elders", "action": "read_id_card", "ids": [city.elder_a1.id], "rows": 1,
                      "regions": [city.community_a1.id]}
    assert verify_chain(db.session).ok


def test_the_admin_list_records_the_page_of_numbers_it_showed(client, login, city, make_elder):
    make_elder(city.community_b1, id_card_no=None)
    db.session.commit()
    response = client.get("/api/v1/elders", query_string={"per_page": 2}, headers=login(city.admin))
    shown = [e["id"] for e in response.get_json()["items"] if e["id_card_no"]]
    [(_entry, change)] = _reads()
    assert change["ids"] == sorted(shown) and change["rows"] == len(shown) and len(shown) <= 2


def test_a_masked_number_is_no_read(client, login, city):
    response = client.get(f"/api/v1/elders/{city.elder_a1.id}", headers=login(city.supervisor_a))
    assert response.status_code == 200 and response.get_json()["id_card_no"] != city.elder_a1.id_card_no
    assert _reads() == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_visit_log_export_is_recorded_before_its_first_byte_and_counted_at_its_end(client, login, city, clock,
                                                                                     fmt):
    day = clock().date().isoformat()
    query = {"date_from": day, "date_to": day, "region_id": city.street_a.id}
    response = client.get(f"/api/v1/audit/visits.{fmt}", query_string=query, headers=login(city.supervisor_a))
    assert response.status_code == 200
    [(entry, change)] = _reads()  # committed before the body was read
    log = db.session.execute(select(ExportLog)).scalar_one()
    assert entry.user_id == city.supervisor_a.id
    assert change == {"action": "export", "what": "visit_log", "format": fmt, "rows": None, "export_id": log.id,
                      "filters": {"date_from": day, "date_to": day, "region_id": city.street_a.id,
                                  "sort": "-window_start_at"},
                      "regions": [city.street_a.id]}
    response.get_data()
    db.session.expire_all()
    assert reads.rows_of_exports([log.id]) == {log.id: 0}


@pytest.mark.parametrize("ext", ["csv", "xlsx", "pdf"])
def test_a_monthly_report_file_is_recorded_with_the_people_it_names(client, login, city, make_care_plan, clock, ext):
    make_care_plan(city.elder_a1, city.provider, [("meal", {"freq": "daily", "start": "11:00", "end": "13:00"}, 20,
                                                   city.caregiver)])
    month = clock().strftime("%Y-%m")
    response = client.get(f"/api/v1/reports/monthly.{ext}", query_string={"region": city.street_a.id, "month": month},
                          headers=login(city.supervisor_a))
    assert response.status_code == 200
    [(entry, change)] = _reads()
    people = client.get("/api/v1/reports/monthly", query_string={"region": city.street_a.id, "month": month},
                        headers=login(city.supervisor_a)).get_json()["caregivers"]
    assert entry.user_id == city.supervisor_a.id
    assert change == {"action": "export", "what": "monthly_report", "format": ext, "rows": len(people),
                      "filters": {"region": city.street_a.id, "month": month}, "regions": [city.street_a.id]}


def test_the_plate_sheet_is_recorded_with_its_plates(client, login, city, make_elder, now):
    for elder in (city.elder_a1, make_elder(city.community_a1)):
        issue_plate(elder, "static", by=city.admin, at=now)
    db.session.commit()
    response = client.get(f"/api/v1/regions/{city.community_a1.id}/plates.pdf", headers=login(city.supervisor_a))
    assert response.status_code == 200
    [(_entry, change)] = _reads()
    assert change == {"action": "export", "what": "plates_sheet", "format": "pdf", "rows": 2,
                      "filters": {"community_id": city.community_a1.id}, "regions": [city.community_a1.id]}


def test_a_refused_export_records_nothing(client, login, city, clock):
    month = clock().strftime("%Y-%m")
    response = client.get("/api/v1/reports/monthly.csv", query_string={"region": city.street_b.id, "month": month},
                          headers=login(city.supervisor_a))
    assert response.status_code == 404 and _reads() == []


# ---------------------------------------------------------------- who sees which reads

@pytest.fixture
def recorded(client, login, city, clock):
    """Reads by an admin (ID numbers in both streets, an export of everything, a report of the
    district) and by each street's supervisor (a report of their street)."""
    month = clock().strftime("%Y-%m")
    day = (clock() - timedelta(days=1)).date().isoformat()
    admin, sup_a, sup_b = login(city.admin), login(city.supervisor_a), login(city.supervisor_b)

    def get(path, headers, **query):
        response = client.get(path, query_string=query, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        response.get_data()

    get(f"/api/v1/elders/{city.elder_a1.id}", admin)
    get(f"/api/v1/elders/{city.elder_b1.id}", admin)
    get("/api/v1/audit/visits.csv", admin, date_from=day, date_to=day)
    get("/api/v1/reports/monthly.pdf", admin, region=city.district.id, month=month)
    get("/api/v1/reports/monthly.csv", sup_a, region=city.street_a.id, month=month)
    get("/api/v1/reports/monthly.csv", sup_b, region=city.street_b.id, month=month)
    return city


def _seen_by(user):
    db.session.expire_all()
    listed = db.session.execute(reads.listed(user)).scalars().all()
    return [(entry.user_id, change.get("what") or change["ids"][0]) for entry in listed for change in entry.changes
            if change.get("action") in ("read_id_card", "export")]


def test_an_admin_sees_every_read_newest_first(recorded):
    c = recorded
    assert _seen_by(c.admin) == [(c.supervisor_b.id, "monthly_report"), (c.supervisor_a.id, "monthly_report"),
                                 (c.admin.id, "monthly_report"), (c.admin.id, "visit_log"),
                                 (c.admin.id, c.elder_b1.id), (c.admin.id, c.elder_a1.id)]


def test_a_supervisor_sees_their_own_reads_and_those_concerning_their_street(recorded):
    c = recorded
    assert _seen_by(c.supervisor_a) == [(c.supervisor_a.id, "monthly_report"), (c.admin.id, "monthly_report"),
                                        (c.admin.id, "visit_log"), (c.admin.id, c.elder_a1.id)]


def test_the_district_supervisor_sees_the_reads_of_both_streets(recorded):
    c = recorded
    assert len(_seen_by(c.supervisor_all)) == 6
