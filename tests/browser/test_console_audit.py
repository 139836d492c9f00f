"""A supervisor's morning in a real browser: sign in, find yesterday's unverified visits, export
them to XLSX, review one, and read the monthly report with its charts. Screenshots at each step."""

from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from backend.extensions import db
from backend.reviews.models import Review
from tests.browser.conftest import release, shot
from tests.conftest import PASSWORD


def test_a_supervisor_finds_exports_reviews_and_reads_the_report(page, live_server, ward, tmp_path):
    username, visit_id, elder = ward.supervisor_a.username, ward.a1_unverified.id, ward.elder_a1.name
    release()

    page.goto(f"{live_server}/console/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("欢迎")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="服务记录").click()
    expect(page.get_by_label("开始日期")).to_have_value("2026-11-22")  # yesterday by default
    page.get_by_label("核验", exact=True).select_option("unverified")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("table.visits tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(elder)
    expect(rows.first).to_contain_text("未扫码")
    shot(page, "console-visits-unverified")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="导出 XLSX").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    sheet = load_workbook(saved, read_only=True).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [visit_id]
    head, first = list(sheet.iter_rows(max_row=2, values_only=True))
    assert sheet.title == "服务记录" and head[:3] == ("任务编号", "类型", "服务项目代码")
    assert dict(zip(head, first, strict=True))["异常标记"] == "未扫码"

    rows.first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(elder)
    page.get_by_label("审核结论").select_option("approved")
    expect(page.locator('#f-reason_code option[value="wrong_elder"]')).to_be_disabled()  # another decision's
    page.get_by_label("原因").select_option("confirmed_by_elder")
    page.get_by_label("备注").fill("电话联系老人，确认护理员当天上门送餐")
    shot(page, "console-visit-review-form")
    page.get_by_role("button", name="提交审核结论").click()
    expect(page.get_by_role("status")).to_contain_text("审核结论已记录")
    expect(page.locator("ol.timeline")).to_contain_text("老人或家属确认")
    shot(page, "console-visit-decided")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="月报").click()
    chart = page.get_by_role("img", name="2026-11 每日计划与完成服务次数")
    expect(chart).to_be_visible()
    expect(page.locator("svg#chart-verification rect").first).to_be_visible()
    shot(page, "console-report")
    page.get_by_text("各项指标的定义").click()
    expect(page.locator("dl.facts")).to_contain_text("巡访覆盖率")
    expect(page.locator("dl.facts")).to_contain_text("本月未取消的任务。")
    shot(page, "console-report-definitions")

    review = db.session.execute(select(Review).where(Review.task_id == visit_id)).scalar_one()
    assert (review.decision, review.reason_code, review.decided_by_id) == \
        ("approved", "confirmed_by_elder", ward.supervisor_a.id)
