"""Issue 13's walk-through on the demo city, in the console and in Chinese: a supervisor issues
last month's statement of a provider, the provider's manager disputes one payable line, the
supervisor rejects that visit on review and approves the statement, and this month's draft shows
the clawback of what was paid for it."""

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from backend.clock import local_today, utcnow
from backend.demo import DEMO_PASSWORD, seed_demo
from backend.extensions import db
from backend.providers.models import Provider
from backend.settlement.models import Statement, StatementLine
from tests.browser.conftest import release, shot


def console(browser, live_server, username):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("欢迎")
    return page


def test_a_disputed_line_rejected_on_review_is_clawed_back_on_the_next_months_draft(app, browser, live_server):
    assert seed_demo() is True
    provider = db.session.execute(select(Provider).order_by(Provider.id)).scalars().first()
    today = local_today(utcnow())
    last_month = f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"
    release()

    supervisor = console(browser, live_server, "supervisor1")
    supervisor.goto(f"{live_server}/console/statements?provider_id={provider.id}&month={last_month}")
    expect(supervisor.get_by_text("草稿：每次查看时按服务记录重新计算")).to_be_visible()
    with supervisor.expect_navigation():
        supervisor.get_by_role("button", name="出具结算单").click()
    statement_id = int(re.search(r"/statements/(\d+)", supervisor.url).group(1))
    expect(supervisor.get_by_text("结算单已出具")).to_be_visible()

    manager = console(browser, live_server, "manager1")
    manager.goto(f"{live_server}/console/statements/{statement_id}?state=payable")
    box = manager.locator('input[name="line_ids"]').first
    line = db.session.get(StatementLine, int(box.get_attribute("value")))
    paid = line.amount_fen
    assert line.state == "payable" and paid > 0
    box.check()
    manager.get_by_label("异议理由").fill("老人说这天没有来过")
    with manager.expect_navigation():
        manager.get_by_role("button", name="对勾选的明细提出异议").click()
    expect(manager.get_by_text("异议已记录。")).to_be_visible()
    shot(manager, "statement-disputed")

    supervisor.goto(f"{live_server}/console/visits/{line.task_id}")
    supervisor.select_option("#f-decision", "rejected")
    code = supervisor.locator('#f-reason_code optgroup[data-decision="rejected"] option').first.get_attribute("value")
    supervisor.select_option("#f-reason_code", code)
    with supervisor.expect_navigation():
        supervisor.locator("#review-form button[type=submit]").click()
    expect(supervisor.get_by_text("审核结论已记录。")).to_be_visible()
    supervisor.goto(f"{live_server}/console/statements/{statement_id}")
    with supervisor.expect_navigation():
        supervisor.get_by_role("button", name="审批并锁定").click()
    db.session.rollback()
    assert db.session.get(Statement, statement_id).status == "locked"

    supervisor.goto(f"{live_server}/console/statements?provider_id={provider.id}&month={today:%Y-%m}&state=adjustment")
    row = supervisor.locator("tbody tr", has_text="收回")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"-{paid // 100}.{paid % 100:02d}")
    expect(supervisor.get_by_role("button", name="出具结算单")).to_have_count(0)  # a month in progress
    shot(supervisor, "statement-clawback")
