"""The same report as CSV, XLSX and a printable PDF."""

import csv
import io
import pickle
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from backend.clock import local_today
from backend.extensions import db
from backend.rectifications import services as rectifications
from backend.reports import services
from sync.fonts import cjk_font
from tests.poppler import pdf_fonts, pdf_info, pdf_text, pdf_words, without_fonts


def test_csv_holds_every_section_in_chinese_with_a_byte_order_mark(world, report):
    response = report(world.admin, world.district, ext=".csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="report-' in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["清河区 2026年11月 居家养老上门服务月报"]
    titles = [row[0] for row in rows if row and row[0].startswith("# ")]
    assert titles == ["# 汇总", "# 分区域", "# 服务机构", "# 服务类型时长", "# 人员", "# 每日完成", "# 整改名单",
                      "# 人员与持证", "# 逾期未整改", "# 指标说明"]
    regions = rows[rows.index(["# 分区域"]) + 1:]
    heading, street_b, street_a, total = regions[:4]
    assert heading[:5] == ["区域编号", "名称", "层级", "计划", "完成"]
    assert street_a[1:5] == ["长青街道", "街道/乡镇", "8", "6"]
    assert total[1:5] == ["合计（清河区）", "区/县", "11", "8"]


def test_xlsx_opens_with_a_sheet_per_section(world, report):
    response = report(world.admin, world.district, ext=".xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames == ["汇总", "分区域", "服务机构", "服务类型时长", "人员", "每日完成", "整改名单",
                               "人员与持证", "逾期未整改", "指标说明"]
    providers = list(book["服务机构"].iter_rows(values_only=True))
    assert providers[0][:4] == ("机构编号", "名称", "计划", "完成")
    assert providers[1][:4] == (world.other_provider.id, "暖阳养老服务有限公司", 3, 3)
    days = list(book["每日完成"].iter_rows(values_only=True))
    assert len(days) == 1 + 30
    book.close()


def test_pdf_is_a4_with_pages_and_an_embedded_chinese_font(world, report, app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "RECTIFICATION_MIN_VISITS", 2)  # a rectification section with rows
    response = report(world.admin, world.district, ext=".pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b", response.data)) >= 1
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in response.data
    fonts = pdf_fonts(response.data, tmp_path)
    assert fonts and all((font["type"], font["emb"], font["uni"]) == ("TrueType", "yes", "yes") for font in fonts)
    assert pdf_info(response.data, tmp_path)["Creator"] == f"CareRounds; {cjk_font().describe()}"
    text = pdf_text(response.data, tmp_path)
    assert "清河区 2026年11月 居家养老上门服务月报" in text and "暖阳养老服务有限公司" in text


def test_pdf_made_where_no_font_is_installed_carries_the_bundled_subset(world, tmp_path):
    report = services.monthly_report(world.district, date(2026, 11, 1), now=datetime(2026, 12, 2, tzinfo=UTC))
    (tmp_path / "report.pickle").write_bytes(pickle.dumps(report))
    # The words come from the catalogue, so the PDF is written in an app (with no database reached).
    script = ("import pickle, sys; from backend import create_app; from backend.reports.pdf import to_pdf; "
              "app = create_app({'SQLALCHEMY_DATABASE_URI': 'postgresql+psycopg://unused@127.0.0.1:1/none'}); "
              "ctx = app.test_request_context(); ctx.push(); "
              f"sys.stdout.buffer.write(to_pdf(pickle.loads(open({str(tmp_path / 'report.pickle')!r}, 'rb').read())))")
    pdf = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True,
                         env=without_fonts(tmp_path)).stdout
    # reportlab embeds a TrueType font in subsets of 256 glyphs: a page of Chinese may need several.
    assert {(f["name"].split("+")[1], f["emb"]) for f in pdf_fonts(pdf, tmp_path)} == {
        ("WenQuanYiMicroHeiGB2312", "yes")}
    text = pdf_text(pdf, tmp_path)
    assert "居家养老上门服务月报" in text and "各服务机构核验率" in text and "颐康" in text


FINDINGS = "回访满意度偏低 <未整改> & 需复查：" + "护理员未按时到岗，服务时长不足，" * 5


@pytest.fixture
def overdue_order(world, clock):
    """颐康 has one certified caregiver of one, and an order past its deadline with findings typed
    with reportlab's markup characters."""
    world.caregiver.certificate_no = "YL2023000001"
    order = rectifications.issue(provider_id=world.provider.id, findings=FINDINGS,
                                 by=world.supervisor_a, at=clock() - timedelta(days=10),
                                 due_on=local_today(clock()) - timedelta(days=1))
    db.session.commit()
    return order


def test_pdf_shows_the_providers_workforce_and_their_overdue_orders(world, report, overdue_order, tmp_path):
    pdf = report(world.admin, world.district, ext=".pdf").data
    text = pdf_text(pdf, tmp_path)
    workforce = text[text.index("十、人员与持证：持证上岗率（目标 90.0%）"):text.index("十一、逾期未整改")]
    yikang = next(line for line in workforce.splitlines() if "颐康" in line)
    assert "在岗护理员" in workforce and "持证上岗率" in workforce
    nuanyang = next(line for line in workforce.splitlines() if "暖阳" in line)
    assert yikang.split()[-4:-1] == ["1", "1", "100.0%"] and nuanyang.split()[-4:-1] == ["0", "0.0%", "未达标"]
    overdue = text[text.index("十一、逾期未整改"):text.index("指标说明")]
    assert "回访满意度偏低 <未整改> & 需复查" in overdue and str(overdue_order.due_on) in overdue
    # The findings wrap in their column: nothing on their page is drawn past the right margin (15 mm).
    words = pdf_words(pdf, tmp_path)
    page = next(word["page"] for word in words if word["text"].startswith("十一、逾期未整改"))
    assert max(word["x_max"] - word["page_width"] for word in words if word["page"] == page) <= -15 * 72 / 25.4 + 0.5


def test_pdf_says_so_when_no_order_is_overdue(world, report, tmp_path):
    text = pdf_text(report(world.admin, world.district, ext=".pdf").data, tmp_path)
    assert "没有逾期未整改的整改通知。" in text


def test_pdf_of_an_empty_month_still_renders(world, report):
    response = report(world.admin, world.community_b1, month="2027-03", ext=".pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")


def test_the_csv_says_when_it_was_made_in_local_time_and_defines_its_figures_in_chinese(world, client, login, clock):
    response = client.get("/api/v1/reports/monthly.csv", query_string={"region": world.district.id, "month": "2026-11"},
                          headers=login(world.admin))
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    made = dict(row for row in rows if len(row) == 2)["生成时间"]
    assert made == f"{clock.now.astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M}"
    definitions = dict(row for row in rows[rows.index(["# 指标说明"]) + 2:] if len(row) == 2)
    coverage = definitions["巡访覆盖率"]
    assert coverage.startswith("本区域在册的覆盖人群老人中") and "100%" in coverage
    assert definitions["低分占比"] == "其中评分不高于 2 分的占比。"


def test_the_workbook_and_the_pdf_read_in_english_on_request(world, client, login, tmp_path):
    query = {"region": world.district.id, "month": "2026-11"}
    headers = {**login(world.admin), "Accept-Language": "en"}
    book = load_workbook(io.BytesIO(client.get("/api/v1/reports/monthly.xlsx", query_string=query,
                                               headers=headers).data), read_only=True)
    assert book.sheetnames[:2] == ["Summary", "By region"] and book.sheetnames[-1] == "How each figure is defined"
    assert list(book["Providers"].iter_rows(values_only=True))[0][:3] == ("Provider ID", "Name", "Planned")
    book.close()
    text = pdf_text(client.get("/api/v1/reports/monthly.pdf", query_string=query, headers=headers).data, tmp_path)
    assert "How each figure is defined" in text and "4. Rectification list" in text and "指标说明" not in text
    assert "10. Workforce: certified caregivers (target 90.0%)" in text
    assert "11. Rectification orders past their deadline, unanswered" in text and "No rectification order" in text


def test_the_pdf_defines_its_figures_in_chinese(world, report, tmp_path):
    text = pdf_text(report(world.admin, world.district, ext=".pdf").data, tmp_path)
    assert "指标说明" in text and "已取消的任务。" in text and "Tasks cancelled" not in text


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_report_column_and_definition_reads_in_both_languages(app, locale):
    """A column or definition added without its translation fails here."""
    from flask_babel import force_locale

    from backend.reports import figures, pdf, render

    cjk = re.compile(r"[\u4e00-\u9fff]")
    columns = {name for module in (render, pdf) for attr, value in vars(module).items()
               if attr.endswith("_COLUMNS") for name in value}
    with app.test_request_context(), force_locale(locale):
        assert columns - set(render.LABELS) == set()
        for key in render.LABELS:
            assert bool(cjk.search(render.heading(key))) == (locale == "zh"), key
        for key, text in services.definitions().items():
            assert bool(cjk.search(text)) == (locale == "zh"), key
        assert set(services.definitions()) == set(figures.DEFINITIONS)
