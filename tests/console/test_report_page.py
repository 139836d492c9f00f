"""The monthly report page: figures, charts as accessible inline SVG, downloads, and scope."""

import io

from openpyxl import load_workbook


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
