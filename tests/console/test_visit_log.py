"""The visit log page: yesterday by default, filters, keyset pages, exports, and the user's scope."""

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from backend.console import pages_visits
from backend.extensions import db
from backend.reviews import services as reviews
from backend.visitlog.models import ExportLog


def visit_links(html):
    return [int(part.split('"')[0]) for part in html.split('href="/console/visits/')[1:]]


def test_a_supervisor_sees_yesterdays_visits_of_their_street_only(ward, as_user):
    html = as_user(ward.supervisor_a).text("/console/visits")
    assert visit_links(html) == [ward.a1_verified.id, ward.a1_unverified.id, ward.a2_missed.id]
    assert ward.elder_b1.name not in html and 'value="2026-11-22"' in html


def test_an_admin_sees_every_street(ward, as_user):
    html = as_user(ward.admin).text("/console/visits")
    assert set(visit_links(html)) == {ward.a1_verified.id, ward.a1_unverified.id, ward.a2_missed.id,
                                      ward.b1_unverified.id}


def test_a_region_filter_never_widens_a_supervisors_scope(ward, as_user):
    console = as_user(ward.supervisor_a)
    assert visit_links(console.text(f"/console/visits?region_id={ward.street_b.id}")) == []
    assert ward.street_b.name not in console.text("/console/visits").split("<table")[0]  # not even offered


def test_the_unverified_filter_finds_the_visits_to_look_at(ward, as_user):
    assert visit_links(as_user(ward.supervisor_a).text("/console/visits?verification=unverified")) == \
        [ward.a1_unverified.id]
    assert visit_links(as_user(ward.admin).text("/console/visits?verification=needs_review")) == \
        [ward.b1_unverified.id, ward.a1_unverified.id]


def test_filters_by_date_status_and_flag(ward, as_user):
    console = as_user(ward.supervisor_a)
    assert visit_links(console.text("/console/visits?date_from=2026-11-21&date_to=2026-11-21")) == \
        [ward.a1_earlier.id]
    assert visit_links(console.text("/console/visits?date_from=2026-11-22&date_to=2026-11-22&status=missed")) == \
        [ward.a2_missed.id]
    assert visit_links(console.text("/console/visits?flag=qr_missing")) == [ward.a1_unverified.id]


def test_keyset_pages_follow_on_with_the_same_filters(ward, as_user, monkeypatch):
    monkeypatch.setattr(pages_visits, "PAGE_SIZE", 1)
    console = as_user(ward.admin)
    seen = []
    path = "/console/visits?verification=unverified"
    while path:
        html = console.text(path)
        seen += visit_links(html)
        path = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&") \
            if 'rel="next"' in html else None
    assert seen == [ward.b1_unverified.id, ward.a1_unverified.id]


def test_a_bad_filter_is_announced_not_run(ward, as_user):
    response = as_user(ward.supervisor_a).get("/console/visits?date_from=yesterday")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'role="alert"' in html and "开始日期" in html


def test_the_csv_export_streams_the_same_filtered_view(ward, as_user):
    console = as_user(ward.supervisor_a)
    html = console.text("/console/visits?verification=unverified")
    link = html.split('href="/console/visits.csv')[1].split('"')[0].replace("&amp;", "&")
    response = console.get("/console/visits.csv" + link)
    assert response.status_code == 200 and response.content_type == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [int(row["任务编号"]) for row in rows] == [ward.a1_unverified.id]
    log = db.session.execute(select(ExportLog)).scalar_one()
    assert (log.user_id, log.format, log.row_count) == (ward.supervisor_a.id, "csv", 1)
    assert log.filters["verification"] == "unverified"


def test_the_xlsx_export_holds_only_the_supervisors_rows(ward, as_user):
    response = as_user(ward.supervisor_b).get("/console/visits.xlsx?date_from=2026-11-01&date_to=2026-11-30")
    assert response.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [ward.b1_unverified.id]


def test_the_page_switches_to_english(ward, as_user):
    html = as_user(ward.supervisor_a).text("/console/visits?lang=en")
    assert "Visit log" in html and "Export XLSX" in html and 'lang="en"' in html


def test_a_rejected_visit_reads_rejected_and_the_state_filter_finds_it(ward, as_user, clock):
    reviews.decide(ward.a1_unverified, "rejected", "no_presence_evidence", None, by=ward.supervisor_a, at=clock())
    db.session.commit()
    console = as_user(ward.supervisor_a)
    html = console.text("/console/visits?verification_state=rejected_on_review")
    assert visit_links(html) == [ward.a1_unverified.id]
    assert "审核不通过" in html.split("<tbody>")[1] and "核验状态" in html
    assert visit_links(console.text("/console/visits?verification_state=verified_automatically")) == \
        [ward.a1_verified.id]
    assert "审核不通过" in console.text(f"/console/visits/{ward.a1_unverified.id}")
