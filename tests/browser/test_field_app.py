"""The field app at /app/ in a real browser: a caregiver's offline day with a camera filming the
door plate, a page closed mid-push, 501 items in batches, a welfare check shown first, English,
and a phone's narrow screen."""

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import func, select

from backend.extensions import db
from backend.followups.models import Followup
from backend.media.models import Media
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task
from backend.visits.models import VisitItem
from tests.browser.conftest import release, shot
from tests.browser.fieldapp import launch, outbox, phone_context, plate_video, sign_in, waiting


def items_of(task_id):
    db.session.rollback()  # read what the server thread committed
    query = select(VisitItem).where(VisitItem.task_id == task_id).order_by(VisitItem.seq)
    return db.session.execute(query).scalars().all()


def draw_signature(page):
    pad = page.locator("canvas.signature")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 60)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 30 + step * 20, box["y"] + 60 + (step % 3) * 25)
    page.mouse.up()


def media_rows(page) -> list[dict]:
    return page.evaluate("""() => new Promise((resolve) => { const o = indexedDB.open("carerounds-field");
      o.onsuccess = () => { const r = o.result.transaction("media").objectStore("media").getAll();
        r.onsuccess = () => resolve(r.result.map(({sha256, type, status}) => ({sha256, type, status}))); }; })""")


def test_a_caregiver_works_a_day_offline_with_the_camera_and_syncs_each_item_once(
        app, playwright_session, live_server, city, field, tmp_path):
    video = plate_video(field.qr, tmp_path / "plate.y4m")
    release()
    browser = launch(playwright_session, video)
    context = phone_context(browser, city.elder_a1)
    try:
        page = context.new_page()
        sign_in(page, live_server, city.caregiver)
        card = page.locator(f'#today [data-task-id="{field.task.id}"]')
        expect(card).to_contain_text(city.elder_a1.name)
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")

        context.set_offline(True)
        page.reload()  # the shell now comes from the service worker's cache
        expect(page.locator(".net.off")).to_be_visible()
        card.click()
        page.locator("#scan").click()
        expect(page.locator(".scan-state.ok")).to_contain_text(field.plate.plate_id, timeout=20_000)
        shot(page, "fieldapp-scanned")
        page.locator("#check-in").click()
        expect(page.locator("#check-out")).to_be_visible()
        assert waiting(page) == 1

        page.locator("#scan").click()
        expect(page.locator(".scan-state.ok")).to_be_visible(timeout=20_000)
        page.get_by_label("★★★★★", exact=True).check()
        page.get_by_label("确认人").select_option("family")
        draw_signature(page)
        shot(page, "fieldapp-check-out")
        page.locator("#check-out button[type=submit]").click()
        expect(page.locator(".done")).to_be_visible()
        expect(page.locator("#waiting")).to_have_attribute("data-count", "2")
        assert not items_of(field.task.id)  # nothing left the phone while offline

        context.set_offline(False)  # the app syncs by itself once the network is back
        expect(page.locator("#waiting")).to_have_attribute("data-count", "0", timeout=20_000)
        page.goto(f"{live_server}/app/#/outbox")
        expect(page.locator('#outbox .flag[data-flag="qr_verified"]')).to_have_count(2)
        shot(page, "fieldapp-outbox")
        media = media_rows(page)
        assert [m["type"] for m in media] == ["image/png"]  # the drawn signature, kept by its hash
        page.wait_for_function("""() => new Promise((resolve) => { const o = indexedDB.open("carerounds-field");
          o.onsuccess = () => { const r = o.result.transaction("media").objectStore("media").getAll();
            r.onsuccess = () => resolve(r.result.every((m) => m.status === "stored")); }; })""")
    finally:
        context.close()
        browser.close()

    stored = items_of(field.task.id)
    assert [item.type for item in stored] == ["check_in", "check_out"]
    assert all("qr_verified" in item.flags for item in stored), [item.flags for item in stored]
    signature = stored[1].payload["signature"]
    assert signature["signer"] == "family" and signature["image_sha256"] == media[0]["sha256"]
    uploaded = db.session.get(Media, media[0]["sha256"])  # the signature's bytes reached the server
    assert uploaded is not None and uploaded.content_type == "image/png"
    assert stored[1].payload["satisfaction"] == 5
    assert stored[0].accuracy_m == 10
    assert db.session.get(Task, field.task.id).status == "completed"
    assert db.session.scalar(select(func.count()).select_from(VisitItem)) == 2


def test_a_page_closed_after_its_push_was_sent_resends_it_on_reopening_and_gets_duplicate(
        browser, live_server, city, field):
    release()
    context = phone_context(browser, city.elder_a1, service_workers="block")
    try:
        page = context.new_page()
        sign_in(page, live_server, city.caregiver)
        sent = []

        def lose_the_answer(route):
            sent.append(route.request.post_data_json)
            route.fetch()  # the server stores the batch and answers; the page never hears it

        context.route("**/api/v1/sync/push", lose_the_answer)
        page.locator(f'#today [data-task-id="{field.task.id}"]').click()
        page.locator("#check-in").click()
        for _ in range(100):
            if items_of(field.task.id):
                break
            page.wait_for_timeout(100)
        assert len(items_of(field.task.id)) == 1  # stored by the server ...
        page.close()  # ... while the page waited for the answer
        context.unroute("**/api/v1/sync/push")

        page = context.new_page()
        page.goto(f"{live_server}/app/#/outbox")
        expect(page.locator('#outbox [data-status="duplicate"]')).to_have_count(1)
        assert waiting(page) == 0
        resent = outbox(page)[0]["item"]
        assert resent == sent[0]["items"][0]  # the identical item, byte for byte as stored
    finally:
        context.close()
    assert len(items_of(field.task.id)) == 1


def test_501_queued_items_go_up_in_batches_under_the_limit_halving_after_a_413(browser, live_server, city, field):
    release()
    context = phone_context(browser, city.elder_a1, service_workers="block")
    try:
        page = context.new_page()
        sign_in(page, live_server, city.caregiver)
        context.set_offline(True)
        page.evaluate("""async (taskId) => {
          const {record} = await import("/app/js/sync.js");
          for (let i = 0; i < 501; i++) await record("note", taskId, {text: `记录 ${i}`});
        }""", field.task.id)
        # The bar was drawn before these were recorded: redraw it, so that "0 waiting" below can
        # only mean the outbox has gone up, not that the bar had not yet counted it.
        page.evaluate("async () => (await import('/app/js/app.js')).drawBar()")
        expect(page.locator("#waiting")).to_have_attribute("data-count", "501")
        batches = []

        def count(route):
            items = route.request.post_data_json["items"]
            batches.append(len(items))
            if len(batches) == 1:  # as a proxy with a smaller body limit would
                route.fulfill(status=413, content_type="application/problem+json",
                              body='{"status": 413, "code": "payload_too_large", "title": "too large"}')
            else:
                route.continue_()

        context.route("**/api/v1/sync/push", count)
        context.set_offline(False)
        expect(page.locator("#waiting")).to_have_attribute("data-count", "0", timeout=30_000)
        assert batches[0] == 100 and all(size == 50 for size in batches[1:-1]) and batches[-1] == 1, batches
        assert sum(batches[1:]) == 501
    finally:
        context.close()
    assert len(items_of(field.task.id)) == 501


def test_a_community_workers_no_answer_patrol_shows_its_welfare_check_first(
        browser, live_server, city, make_elder, make_patrol_plan, clock):
    elder = make_elder(city.community_a1, "周玉珍", risk_tier="high", categories=["solitary"],
                       emergency_contacts=[{"name": "周明", "relation": "侄子", "phone": "13900139000"}])
    make_patrol_plan(elder, city.worker_a, tier="high")
    generate_tasks(now=clock() - timedelta(days=1), horizon_days=14)
    release()
    context = phone_context(browser, elder, service_workers="block")
    try:
        page = context.new_page()
        sign_in(page, live_server, city.worker_a)
        task = db.session.execute(select(Task).where(
            Task.elder_id == elder.id, Task.window_start_at <= clock(), Task.window_end_at > clock())).scalar_one()
        page.goto(f"{live_server}/app/#/task/{task.id}")
        page.locator("#patrol select[name=outcome]").select_option("no_answer")
        page.locator("#patrol button[type=submit]").click()
        expect(page.locator(".done")).to_be_visible()  # recorded; then pushed
        expect(page.locator("#waiting")).to_have_attribute("data-count", "0")
        page.goto(f"{live_server}/app/#/")
        first = page.locator("main > *").first
        expect(first).to_have_attribute("id", "followups")
        urgent = first.locator(".followup").first
        expect(urgent).to_have_class("followup urgent")
        expect(urgent).to_contain_text("紧急")
        expect(urgent).to_contain_text("周玉珍")
        expect(urgent.locator("a.tel")).to_contain_text("13900139000")
        shot(page, "fieldapp-welfare-check-first")
    finally:
        context.close()
    db.session.rollback()
    kinds = db.session.execute(select(Followup.kind).where(Followup.elder_id == elder.id)).scalars().all()
    assert "welfare_check" in kinds  # beside it, an unverified_visit: no plate was scanned


NO_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth"


def test_the_app_in_english_on_a_360_by_640_screen_never_scrolls_sideways(browser, live_server, city, field):
    release()
    context = phone_context(browser, city.elder_a1, locale="en-US", viewport={"width": 360, "height": 640},
                            service_workers="block")
    try:
        page = context.new_page()
        sign_in(page, live_server, city.caregiver, username_label="Username", password_label="Password",
                button="Sign in")
        expect(page.get_by_role("heading", name="Today's tasks")).to_be_visible()
        expect(page.locator("#waiting")).to_have_text("0 waiting to sync")
        assert page.evaluate(NO_OVERFLOW)
        shot(page, "fieldapp-en-360-today")
        page.locator(f'#today [data-task-id="{field.task.id}"]').click()
        expect(page.locator("#scan")).to_have_text("Scan door plate")
        expect(page.locator(".scan-state")).to_contain_text("No plate scanned")
        page.locator("#check-in").click()
        expect(page.get_by_role("heading", name="Check out")).to_be_visible()
        assert page.evaluate(NO_OVERFLOW)
        shot(page, "fieldapp-en-360-check-out")
        page.locator("#check-out").get_by_label("Refused").check()
        page.locator("#check-out button[type=submit]").click()
        expect(page.locator("#check-out .error")).to_have_text("Give a reason for “Meals”.")
        page.goto(f"{live_server}/app/#/outbox")
        expect(page.locator("#outbox .item").first).to_contain_text("Check-in")
        expect(page.locator('#outbox .flag[data-flag="qr_missing"]')).to_have_text("no plate scanned")
        assert page.evaluate(NO_OVERFLOW)
        shot(page, "fieldapp-en-360-outbox")
    finally:
        context.close()


def test_an_expired_token_is_refreshed_once_and_the_identical_batch_sent_again(browser, live_server, city, field):
    release()
    context = phone_context(browser, city.elder_a1, service_workers="block")
    try:
        page = context.new_page()
        sign_in(page, live_server, city.caregiver)
        pushes, refreshes = [], []
        context.on("request", lambda request: refreshes.append(1) if request.url.endswith("/auth/refresh") else None)

        def expire_once(route):
            pushes.append((route.request.post_data_json["items"], route.request.headers.get("authorization")))
            if len(pushes) == 1:
                route.fulfill(status=401, content_type="application/problem+json",
                              body='{"status": 401, "code": "token_expired", "title": "expired"}')
            else:
                route.continue_()

        context.route("**/api/v1/sync/push", expire_once)
        page.locator(f'#today [data-task-id="{field.task.id}"]').click()
        page.locator("#check-in").click()
        expect(page.locator("#check-out")).to_be_visible()  # recorded; then pushed
        expect(page.locator("#waiting")).to_have_attribute("data-count", "0")
        assert len(pushes) == 2 and len(refreshes) == 1
        assert pushes[0][0] == pushes[1][0]  # the identical items, sent again after one refresh
    finally:
        context.close()
    assert len(items_of(field.task.id)) == 1


def test_signing_out_with_unsent_items_warns_and_keeps_them_for_the_next_sign_in(browser, live_server, city, field):
    release()
    context = phone_context(browser, city.elder_a1, service_workers="block")
    try:
        page = context.new_page()
        sign_in(page, live_server, city.caregiver)
        context.set_offline(True)
        page.locator(f'#today [data-task-id="{field.task.id}"]').click()
        page.locator("#check-in").click()
        expect(page.locator("#waiting")).to_have_attribute("data-count", "1")
        page.goto(f"{live_server}/app/#/")
        warnings = []
        page.on("dialog", lambda dialog: (warnings.append(dialog.message), dialog.accept()))
        page.locator("#sign-out").click()
        expect(page.locator("#bar .message")).to_contain_text("1 条记录尚未同步")
        assert "还有 1 条记录没有同步" in warnings[0]
        assert not items_of(field.task.id)

        context.set_offline(False)
        sign_in(page, live_server, city.caregiver)
        expect(page.locator("#waiting")).to_have_attribute("data-count", "0")
    finally:
        context.close()
    assert [item.type for item in items_of(field.task.id)] == ["check_in"]
