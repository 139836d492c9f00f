"""A supervisor signs in to the console in a real browser, by keyboard, in Chinese."""

from playwright.sync_api import expect

from tests.browser.conftest import release, shot
from tests.conftest import PASSWORD


def test_a_supervisor_signs_in_with_the_keyboard(page, live_server, city):
    username = city.supervisor_a.username
    release()
    page.goto(f"{live_server}/console/")
    assert "/console/login" in page.url
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("欢迎")
    assert page.url == f"{live_server}/console/"
    expect(page.get_by_text("管辖范围")).to_be_visible()
    shot(page, "console-home")


def test_a_wrong_password_is_announced_to_assistive_technology(page, live_server, city):
    username = city.supervisor_a.username
    release()
    page.goto(f"{live_server}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    shot(page, "console-login-error")
