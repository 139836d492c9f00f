"""Helpers for the field app's browser tests: a browser whose camera films a door plate, a phone
context (geolocation, camera, a phone's viewport), signing in, waiting for the outbox to drain."""

import io
from pathlib import Path

from playwright.sync_api import expect

from sync.plates import qr_png
from tests.browser.conftest import CHROMIUM
from tests.conftest import PASSWORD

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def plate_video(payload: str, path: Path, frames: int = 10) -> Path:
    """A .y4m clip of the plate's real PNG held up to the camera, as Chromium's fake camera reads it."""
    from PIL import Image

    plate = Image.open(io.BytesIO(qr_png(payload))).convert("RGB")
    frame = Image.new("RGB", (640, 480), "white")
    plate.thumbnail((440, 440))
    frame.paste(plate, ((640 - plate.width) // 2, (480 - plate.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    # 4:2:0: the chroma planes at half size each way (C420jpeg: full-range, centred samples).
    planes = y.tobytes() + cb.resize((320, 240)).tobytes() + cr.resize((320, 240)).tobytes()
    with path.open("wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(frames):
            out.write(b"FRAME\n" + planes)
    return path


def launch(playwright, video: Path | None = None):
    args = list(BROWSER_ARGS)
    if video is not None:
        args += ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                 f"--use-file-for-fake-video-capture={video}"]
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)


def phone_context(browser, elder=None, locale="zh-CN", viewport=None, **options):
    """A phone at the elder's door (its GPS fix 10 m accurate), camera and location allowed."""
    geolocation = {"latitude": elder.lat, "longitude": elder.lon, "accuracy": 10} if elder else None
    context = browser.new_context(locale=locale, viewport=viewport or {"width": 412, "height": 860},
                                  geolocation=geolocation, permissions=["geolocation", "camera"],
                                  timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(15_000)
    return context


def sign_in(page, live_server, user, *, username_label="用户名", password_label="密码", button="登录"):
    page.goto(f"{live_server}/app/")
    page.get_by_label(username_label).fill(user.username)
    page.get_by_label(password_label).fill(PASSWORD)
    page.get_by_role("button", name=button).click()
    expect(page.locator("#today")).to_be_visible()
    expect(page.locator("#last-sync[data-at]")).to_be_attached()


def waiting(page) -> int:
    return int(page.locator("#waiting").get_attribute("data-count"))


def outbox(page) -> list[dict]:
    """The app's outbox as it stands in IndexedDB."""
    return page.evaluate("""() => new Promise((resolve, reject) => {
      const open = indexedDB.open("carerounds-field");
      open.onsuccess = () => { const r = open.result.transaction("outbox").objectStore("outbox").getAll();
        r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); };
      open.onerror = () => reject(open.error); })""")
