"""CSV and XLSX exports of the filtered visit log: streamed, readable by Excel, and logged."""

import csv
import io
from datetime import datetime

from openpyxl import load_workbook
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.extensions import db
from backend.visitlog import queries
from backend.visitlog.export import COLUMNS
from backend.visitlog.models import ExportLog
from tests.visitlog.conftest import ids, newest_first


def test_the_csv_starts_with_a_bom_and_a_header_and_is_an_attachment(log, city, audit):
    response = audit(city.admin, "/api/v1/audit/visits.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="visits-')
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines()[0] == ",".join(COLUMNS)


def test_csv_rows_carry_chinese_names_local_times_and_flags(log, city, audit):
    response = audit(city.admin, "/api/v1/audit/visits.csv", flag="outside_geofence")
    (row,) = csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig")))
    assert (row["elder_name"], row["community_name"], row["street_name"]) == ("王德福", "东湖社区", "东湖街道")
    assert row["window_start_at"] == "2026-11-22T11:00:00+08:00"
    assert row["flags"] == "outside_geofence;qr_missing" and row["is_verified"] == "false"
    assert row["check_in_at"] == "" and row["status"] == "completed"


def test_the_csv_holds_the_same_rows_as_the_filtered_log(log, city, audit):
    query = {"region_id": city.street_a.id, "sort": "window_start_at"}
    response = audit(city.admin, "/api/v1/audit/visits.csv", **query)
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [int(row["id"]) for row in rows] == ids(audit(city.admin, **query))


def test_an_export_reads_in_keyset_batches_without_losing_rows(log, city, audit, monkeypatch):
    monkeypatch.setattr(queries, "EXPORT_BATCH", 2)
    response = audit(city.admin, "/api/v1/audit/visits.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [int(row["id"]) for row in rows] == newest_first(log.visits)


def test_the_xlsx_opens_with_openpyxl_and_holds_the_header_and_rows(log, city, audit):
    response = audit(city.admin, "/api/v1/audit/visits.xlsx", status="completed")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == COLUMNS
    assert [row[0] for row in rows[1:]] == ids(audit(city.admin, status="completed"))
    by_id = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]}
    short = by_id[log.a2_too_short.id]
    assert short["elder_name"] == "李桂兰" and short["flags"] == "too_short"
    assert short["window_start_at"] == datetime(2026, 11, 21, 13, 0)  # Shanghai wall-clock time
    assert short["duration_seconds"] == 35 * 60 and short["is_verified"] is False


def test_text_that_looks_like_a_formula_is_exported_inert(log, city, audit):
    city.elder_a2.name = "=HYPERLINK(\"http://x\")"
    db.session.commit()
    csv_text = audit(city.admin, "/api/v1/audit/visits.csv", elder_id=city.elder_a2.id).get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text
    sheet = load_workbook(io.BytesIO(audit(city.admin, "/api/v1/audit/visits.xlsx",
                                           elder_id=city.elder_a2.id).get_data())).active
    cell = sheet.cell(row=2, column=COLUMNS.index("elder_name") + 1)
    assert cell.data_type == "s" and cell.value.startswith("'=")


def test_every_export_is_logged_with_its_filters_and_row_count(log, city, audit):
    audit(city.supervisor_a, "/api/v1/audit/visits.csv", status=["completed", "missed"]).get_data()
    audit(city.admin, "/api/v1/audit/visits.xlsx", date_from="2026-11-22").get_data()
    first, second = db.session.execute(select(ExportLog).order_by(ExportLog.id)).scalars()
    assert (first.user_id, first.format, first.row_count) == (city.supervisor_a.id, "csv", 4)
    assert first.filters == {"status": ["completed", "missed"], "sort": "-window_start_at"}
    assert first.finished_at is not None and first.finished_at >= first.at
    assert (second.user_id, second.format, second.filters["date_from"]) == (city.admin.id, "xlsx", "2026-11-22")
    assert second.row_count == 4


def test_the_audit_trail_records_the_export_and_who_took_it(log, city, audit):
    audit(city.supervisor_a, "/api/v1/audit/visits.csv").get_data()
    entries = [e for e in db.session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
               if any(change["table"] == "export_logs" for change in e.changes)]
    assert [e.user_id for e in entries] == [city.supervisor_a.id, city.supervisor_a.id]  # started, finished
    assert all(e.source == "GET /api/v1/audit/visits.csv" for e in entries)


def test_an_export_with_an_unknown_region_is_404_and_not_logged(city, audit):
    assert audit(city.admin, "/api/v1/audit/visits.csv", region_id=999_999).status_code == 404
    assert db.session.execute(select(ExportLog)).first() is None
