"""CSV and XLSX exports of the filtered visit log: streamed, readable by Excel, and logged."""

import csv
import io
import re
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.extensions import db
from backend.visitlog import queries
from backend.visitlog.export import COLUMNS
from backend.visitlog.models import ExportLog
from tests.visitlog.conftest import ids, newest_first


def test_the_csv_starts_with_a_bom_and_a_header_and_is_an_attachment(log, city, audit):
    response = audit(city.admin, "/api/v1/audit/visits.csv", codes=1)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="visits-')
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines()[0] == ",".join(COLUMNS)


def test_csv_rows_carry_chinese_names_local_times_and_flags(log, city, audit):
    response = audit(city.admin, "/api/v1/audit/visits.csv", flag="outside_geofence", codes=1)
    (row,) = csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig")))
    assert (row["elder_name"], row["community_name"], row["street_name"]) == ("王德福", "东湖社区", "东湖街道")
    assert row["window_start_at"] == "2026-11-22T11:00:00+08:00"
    assert row["flags"] == "outside_geofence;qr_missing" and row["is_verified"] == "false"
    assert row["check_in_at"] == "" and row["status"] == "completed"


def test_the_csv_holds_the_same_rows_as_the_filtered_log(log, city, audit):
    query = {"region_id": city.street_a.id, "sort": "window_start_at"}
    response = audit(city.admin, "/api/v1/audit/visits.csv", codes=1, **query)
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [int(row["id"]) for row in rows] == ids(audit(city.admin, **query))


def test_an_export_reads_in_keyset_batches_without_losing_rows(log, city, audit, monkeypatch):
    monkeypatch.setattr(queries, "EXPORT_BATCH", 2)
    response = audit(city.admin, "/api/v1/audit/visits.csv", codes=1)
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [int(row["id"]) for row in rows] == newest_first(log.visits)


def test_the_xlsx_opens_with_openpyxl_and_holds_the_header_and_rows(log, city, audit):
    response = audit(city.admin, "/api/v1/audit/visits.xlsx", status="completed", codes=1)
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


def test_people_read_chinese_headers_and_labels_by_default(log, city, audit):
    response = audit(city.admin, "/api/v1/audit/visits.csv", flag="outside_geofence")
    (row,) = csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig")))
    assert (row["老人"], row["社区/村"], row["状态"], row["类型"]) == ("王德福", "东湖社区", "已完成", "上门服务")
    assert row["时间窗口开始"] == "2026-11-22 11:00:00"  # local wall-clock time
    assert row["异常标记"] == "超出地理围栏；未扫码" and row["已核验"] == "否"


def test_english_headers_and_labels_on_request(log, city, client, login):
    response = client.get("/api/v1/audit/visits.csv", query_string={"flag": "outside_geofence"},
                          headers={**login(city.admin), "Accept-Language": "en"})
    (row,) = csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig")))
    assert (row["Elder"], row["Status"], row["Verified"]) == ("王德福", "Completed", "No")
    assert row["Flags"] == "Outside geofence; No QR scan"


def test_the_workbook_has_a_chinese_sheet_headers_and_labels(log, city, audit):
    response = audit(city.admin, "/api/v1/audit/visits.xlsx", status="completed")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "服务记录"
    assert rows[0][:3] == ("任务编号", "类型", "服务项目代码")
    short = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}[log.a2_too_short.id]
    assert (short["异常标记"], short["已核验"], short["状态"]) == ("时长不足", "否", "已完成")
    assert short["时间窗口开始"] == datetime(2026, 11, 21, 13, 0)


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_export_column_and_coded_value_has_words_in_both_languages(app, locale):
    """A column added without its header's translation, or a coded column whose codes have no
    names, fails here."""
    from flask_babel import force_locale, gettext

    from backend.console.display import LABELS
    from backend.visitlog.export import TABLE

    cjk = re.compile(r"[\u4e00-\u9fff]")
    with app.test_request_context(), force_locale(locale):
        for column in TABLE:
            header = gettext(column.label)
            assert bool(cjk.search(header)) == (locale == "zh"), (column.code, header)
            if column.value in LABELS:
                for code, msgid in LABELS[column.value].items():
                    assert bool(cjk.search(gettext(msgid))) == (locale == "zh"), (column.code, code)
