"""The monthly report page: figures, charts as accessible inline SVG, downloads, and scope."""

import io

from openpyxl import load_workbook

from backend.extensions import db
from backend.reviews import services as reviews
from backend.reviews.models import Callback, CallbackDraw
from tests.poppler import pdf_text


def test_a_supervisor_reads_their_streets_report_with_charts(ward, as_user):
    html = as_user(ward.supervisor_a).text("/console/reports/monthly")
    assert f"{ward.street_a.name} · 2026-11" in html
    assert html.count("<svg") == 2 and 'role="img"' in html and "<title id=\"chart-daily-title\">" in html
    assert "<desc id=\"chart-daily-desc\">" in html and "计划 4 次，完成 3 次" in html
    assert "以表格查看图表数据" in html and '<th scope="row">2026-11-22</th>' in html
    assert "style=" not in html  # the CSP blocks style attributes


def test_an_admin_reads_any_region_and_the_rectification_list(ward, as_user, app, monkeypatch):
    monkeypatch.setitem(app.config, "RECTIFICATION_MIN_VISITS", 1)
    html = as_user(ward.admin).text(f"/console/reports/monthly?region={ward.district.id}&month=2026-11")
    assert ward.provider.name in html.split("整改名单")[1] and "核验率" in html


def test_another_streets_report_is_not_found(ward, as_user):
    console = as_user(ward.supervisor_a)
    assert console.get(f"/console/reports/monthly?region={ward.street_b.id}&month=2026-11").status_code == 404
    assert console.get(f"/console/reports/monthly.xlsx?region={ward.street_b.id}&month=2026-11").status_code == 404
    assert console.get(f"/console/reports/monthly?region={ward.street_a.id}&month=11-2026").status_code == 422


def test_the_report_downloads_in_three_formats(ward, as_user):
    console = as_user(ward.supervisor_a)
    query = f"?region={ward.street_a.id}&month=2026-11"
    csv = console.get("/console/reports/monthly.csv" + query)
    assert csv.content_type == "text/csv; charset=utf-8"
    assert "居家养老上门服务月报" in csv.get_data().decode("utf-8-sig")
    xlsx = console.get("/console/reports/monthly.xlsx" + query)
    assert "汇总" in load_workbook(io.BytesIO(xlsx.get_data())).sheetnames
    pdf = console.get("/console/reports/monthly.pdf" + query)
    assert pdf.content_type == "application/pdf" and pdf.get_data().startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]


def test_a_rejected_visit_and_call_back_satisfaction_show_on_the_page_and_in_the_pdf(ward, as_user, clock, tmp_path):
    reviews.decide(ward.a1_unverified, "rejected", "no_presence_evidence", None, by=ward.supervisor_a, at=clock())
    draw = CallbackDraw(month="2026-11", provider_id=ward.provider.id, round=1, seed=1, share=1.0, population=2,
                        population_digest="0" * 64, drawn_task_ids=[], drawn_at=clock())
    db.session.add(draw)
    db.session.flush()
    db.session.add(Callback(draw_id=draw.id, task_id=ward.a1_verified.id, status="done", is_confirmed=False,
                            satisfaction=2, attempts=1))
    db.session.commit()
    console = as_user(ward.supervisor_a)
    html = console.text(f"/console/reports/monthly?region={ward.street_a.id}&month=2026-11")
    assert "<dt>已完成</dt><dd>2</dd>" in html and "<dt>审核不通过</dt><dd>1</dd>" in html
    satisfaction = html.split("满意度：签退评价与电话回访")[1].split("</section>")[0]
    assert ward.provider.name in satisfaction and "100.0%" in satisfaction and "签退评价" in satisfaction
    pdf = console.get(f"/console/reports/monthly.pdf?region={ward.street_a.id}&month=2026-11").get_data()
    text = pdf_text(pdf, tmp_path)
    assert "审核不通过" in text and "满意度：签退评价与电话回访" in text and "回访未证实占比" in text
