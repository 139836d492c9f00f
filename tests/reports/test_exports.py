"""The same report as CSV, XLSX and a printable PDF."""

import csv
import io
import re

from openpyxl import load_workbook


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
                      "# 指标说明"]
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
    assert book.sheetnames == ["汇总", "分区域", "服务机构", "服务类型时长", "人员", "每日完成", "整改名单", "指标说明"]
    providers = list(book["服务机构"].iter_rows(values_only=True))
    assert providers[0][:4] == ("机构编号", "名称", "计划", "完成")
    assert providers[1][:4] == (world.other_provider.id, "暖阳养老服务有限公司", 3, 3)
    days = list(book["每日完成"].iter_rows(values_only=True))
    assert len(days) == 1 + 30
    book.close()


def test_pdf_is_a4_with_pages_and_chinese_font(world, report, app, monkeypatch):
    monkeypatch.setitem(app.config, "RECTIFICATION_MIN_VISITS", 2)  # a rectification section with rows
    response = report(world.admin, world.district, ext=".pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b", response.data)) >= 1
    assert b"STSong-Light" in response.data
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in response.data


def test_pdf_of_an_empty_month_still_renders(world, report):
    response = report(world.admin, world.community_b1, month="2027-03", ext=".pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
