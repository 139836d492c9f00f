"""A supervisor confirms, in a real browser, that an elder a patrol reported deceased has died:
the elder's page shows the report and its forms, and after confirming it the elder's status and
the cancelled visits. Screenshots at each step."""

from datetime import timedelta

from playwright.sync_api import expect

from backend.register.services import report_status
from backend.tasks.generation import generate_tasks
from tests.browser.conftest import release, shot
from tests.conftest import PASSWORD

MEAL = {"freq": "daily", "start": "17:00", "end": "18:00"}


def test_a_supervisor_confirms_a_deceased_report_on_the_elders_page(page, live_server, city, make_care_plan,
                                                                     clock):
    make_care_plan(city.elder_a1, city.provider, [("meal", MEAL, 20, city.caregiver)],
                   revised_at=clock() - timedelta(days=1))
    generate_tasks(now=clock(), horizon_days=5)
    report_status(city.elder_a1, "deceased", by=city.worker_a, at=clock(), occurred_on=clock().date(),
                  note="邻居告知老人已于昨夜去世")
    elder_id, username = city.elder_a1.id, city.supervisor_a.username
    release()

    page.goto(f"{live_server}/console/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("欢迎")
    page.goto(f"{live_server}/console/elders/{elder_id}")
    register = page.locator("#register")
    expect(register).to_contain_text("待核实")
    expect(register).to_contain_text("邻居告知老人已于昨夜去世")
    shot(page, "console-register-pending")

    register.get_by_label("备注").fill("已与家属电话核实")
    register.get_by_role("button", name="确认报告").click()
    expect(page.locator(".flash")).to_contain_text("报告已确认")
    expect(page.get_by_role("heading", level=1)).to_contain_text("已去世")
    expect(page.locator("#status-reports")).to_contain_text("已取消 5 次上门")
    expect(page.locator("#register")).not_to_contain_text("报告变更")
    shot(page, "console-register-confirmed")
