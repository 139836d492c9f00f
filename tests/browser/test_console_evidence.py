"""What was done on a visit, in words: a service visit with a refusal, a family signature and a
note; a patrol with observations, a gas hazard and a fall; the follow-ups they open. Every fact
reads as a labelled Chinese field or chip; the raw upload stays behind its toggle for auditors."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backend.extensions import db
from backend.followups.models import Followup
from backend.plates.services import issue_plate, plate_payload
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task
from tests.browser.conftest import release, shot
from tests.conftest import PASSWORD
from tests.visits.conftest import Phone

RAW_KEYS = ('"outcome"', '"services"', '"signature"', '"observations"', '"care_risk_events"', '"text"')
# The page's text as a reader sees it, with the raw uploads (closed or open) taken out.
OUTSIDE_RAW = """() => { const main = document.querySelector('main').cloneNode(true);
  main.querySelectorAll('details.raw').forEach(d => d.remove()); return main.innerText; }"""


def sign_in(page, live_server, user):
    page.goto(f"{live_server}/console/login")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("欢迎")


def assert_no_raw_keys_outside_the_raw_upload(page):
    text = page.evaluate(OUTSIDE_RAW)
    assert not [key for key in RAW_KEYS if key in text], text


@pytest.fixture
def service_visit(field):
    """Today's meal visit at elder_a1: QR at the door both ends, meal done, cleaning refused, the
    daughter signs, and a note."""
    phone, start = field.phone, field.start
    field.clock.set(start + timedelta(minutes=45))
    items = [
        phone.item("check_in", field.task.id, start, qr=field.qr, location=field.at_door),
        phone.item("note", field.task.id, start + timedelta(minutes=20), text="老人今天精神不错，午饭吃了大半碗"),
        phone.item("check_out", field.task.id, start + timedelta(minutes=35), qr=field.qr, location=field.at_door,
                   services=[{"service_type": "meal", "outcome": "done"},
                             {"service_type": "cleaning", "outcome": "refused", "reason": "老人说明天再打扫"}],
                   satisfaction=5, signature={"signer": "family", "confirmed": True}),
    ]
    response = phone.push(items)
    assert [r["status"] for r in response.get_json()["results"]] == ["accepted"] * 3, response.get_json()
    db.session.commit()
    return field.task


@pytest.fixture
def patrol(city, make_elder, make_patrol_plan, client, login, clock):
    """A weekly patrol of a solitary high-risk elder whose leg hurts more and whose heating is cold;
    the gas smells and she fell last night. A second such elder does not answer the door."""
    elder = make_elder(city.community_a1, "孙桂芳", risk_tier="high", categories=["solitary"],
                       emergency_contacts=[{"name": "孙建国", "relation": "儿子", "phone": "13800138000"}])
    quiet = make_elder(city.community_a1, "周玉珍", risk_tier="high", categories=["solitary"],
                       emergency_contacts=[{"name": "周明", "relation": "侄子", "phone": "13900139000"}])
    for someone in (elder, quiet):
        make_patrol_plan(someone, city.worker_a, tier="high")
    plate = issue_plate(elder, "static", by=None, at=clock())
    generate_tasks(now=clock() - timedelta(days=1), horizon_days=14)
    db.session.commit()

    def current(of):
        return db.session.execute(select(Task).where(
            Task.elder_id == of.id, Task.window_start_at <= clock(), Task.window_end_at > clock())).scalar_one()

    phone = Phone(client, login(city.worker_a, device_id="phone-W"), "phone-W", clock)
    task, unanswered = current(elder), current(quiet)
    door = {"lat": elder.lat, "lon": elder.lon, "accuracy_m": 10}
    yesterday = (clock() - timedelta(days=1)).date().isoformat()
    response = phone.push([
        phone.item("patrol_report", task.id, clock() - timedelta(minutes=5), qr=plate_payload(plate), location=door,
                   outcome="seen_needs_help", mode="door",
                   observations={"health": "腿疼加重，走路需要扶墙", "mental_state": "情绪低落，想念儿子",
                                 "living_conditions": "暖气不热", "needs": "希望有人帮忙买药",
                                 "safety": {"gas": "hazard", "water": "ok", "electricity": "ok"}},
                   care_risk_events=[{"kind": "fall", "occurred_on": yesterday, "note": "夜里起床摔倒，膝盖擦伤"}]),
        phone.item("patrol_report", unanswered.id, clock() - timedelta(minutes=1), outcome="no_answer",
                   mode="door", location=door),
    ])
    assert [r["status"] for r in response.get_json()["results"]] == ["accepted"] * 2, response.get_json()
    db.session.commit()
    return task, unanswered


def test_a_service_visit_reads_as_services_signature_and_note(page, live_server, city, service_visit):
    release()
    sign_in(page, live_server, city.supervisor_a)
    page.goto(f"{live_server}/console/visits/{service_visit.id}")
    evidence = page.locator("#evidence")
    expect(evidence).to_contain_text("服务项目")
    expect(evidence).to_contain_text("已完成")
    expect(evidence.locator(".flag.problem", has_text="老人拒绝")).to_be_visible()
    expect(evidence).to_contain_text("原因：老人说明天再打扫")
    expect(evidence.locator(".flag.good", has_text="家属签字")).to_be_visible()
    expect(evidence).to_contain_text("确认本次服务")
    expect(evidence).to_contain_text("老人今天精神不错，午饭吃了大半碗")
    expect(evidence).to_contain_text("满意度")
    expect(page.locator("dl.facts")).to_contain_text("护理员")
    expect(page.locator("ol.timeline .flag.good", has_text="二维码核验通过").first).to_be_visible()
    assert_no_raw_keys_outside_the_raw_upload(page)
    shot(page, "console-visit-service-evidence")

    raw = page.locator("ol.timeline details.raw").last
    raw.locator("summary").click()
    expect(raw).to_contain_text('"services"')  # auditors still have the upload as sent


def test_a_patrol_reads_as_outcome_observations_safety_and_a_fall(page, live_server, city, patrol):
    task, _ = patrol
    release()
    sign_in(page, live_server, city.supervisor_a)
    page.goto(f"{live_server}/console/visits/{task.id}")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("社区工作者")
    expect(facts).to_contain_text("上报时间")
    expect(facts).not_to_contain_text("签退")
    expect(facts).to_contain_text(" 至 ")  # the weekly window shows both its days
    evidence = page.locator("#evidence")
    expect(page.get_by_role("heading", name="巡访发现")).to_be_visible()
    expect(evidence.locator(".flag.problem", has_text="见到老人，需要帮助")).to_be_visible()
    for text in ("健康状况", "腿疼加重，走路需要扶墙", "精神状态", "居住条件", "暖气不热", "需求", "希望有人帮忙买药",
                 "安全检查", "照护风险事件", "夜里起床摔倒，膝盖擦伤"):
        expect(evidence).to_contain_text(text)
    expect(evidence.locator(".flag.problem", has_text="燃气：有隐患")).to_be_visible()
    expect(evidence.locator(".flag.good", has_text="用水：正常")).to_be_visible()
    expect(evidence.locator(".flag.problem", has_text="跌倒")).to_be_visible()
    assert_no_raw_keys_outside_the_raw_upload(page)
    shot(page, "console-visit-patrol-evidence")


def test_a_follow_up_reads_its_details_in_words(page, live_server, city, patrol):
    task, unanswered = patrol
    concern = db.session.execute(select(Followup).where(Followup.task_id == task.id,
                                                        Followup.kind == "patrol_concern")).scalar_one()
    welfare = db.session.execute(select(Followup).where(Followup.task_id == unanswered.id,
                                                        Followup.kind == "welfare_check")).scalar_one()
    release()
    sign_in(page, live_server, city.supervisor_a)
    page.goto(f"{live_server}/console/followups/{welfare.id}")
    details = page.locator("#followup-details")
    expect(details).to_contain_text("巡访结果")
    expect(details.locator(".flag", has_text="敲门无人应答")).to_be_visible()
    expect(details).to_contain_text("紧急联系人")
    expect(details).to_contain_text("周明（侄子）")
    expect(details.get_by_role("link", name="13900139000")).to_be_visible()
    assert_no_raw_keys_outside_the_raw_upload(page)
    shot(page, "console-followup-welfare-check")

    page.goto(f"{live_server}/console/followups/{concern.id}")
    details = page.locator("#followup-details")
    expect(details.locator(".flag.problem", has_text="燃气：有隐患")).to_be_visible()
    expect(details).to_contain_text("希望有人帮忙买药")
    assert_no_raw_keys_outside_the_raw_upload(page)
    shot(page, "console-followup-patrol-concern")


def test_the_visit_log_finds_todays_patrols_by_their_worker_on_the_visits_day(page, live_server, city, patrol, clock):
    task, unanswered = patrol
    today = (clock() + timedelta(hours=8)).date().isoformat()  # Shanghai's day: UTC+8, no summer time
    release()
    sign_in(page, live_server, city.supervisor_a)
    page.goto(f"{live_server}/console/visits")
    expect(page.locator("#date-hint")).to_contain_text("按签到或巡访上报的日期筛选")
    expect(page.locator("#f-caregiver_id option", has_text="wk_a")).to_have_count(0)
    page.get_by_label("开始日期").fill(today)
    page.get_by_label("结束日期").fill(today)
    page.get_by_label("社区工作者").select_option(label="wk_a")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("table.visits tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(" 至 ")
    expect(rows.first).to_contain_text("上报")
    shot(page, "console-visits-patrols-today")
