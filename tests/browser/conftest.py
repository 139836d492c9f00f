"""Browser tests: the real app served on loopback, driven by headless Chromium through Playwright.

Chromium comes from Debian (`apt-get install chromium`, done by .ci/run); Playwright never
downloads a browser of its own. Screenshots land in tests/screenshots/ for people to look at.
"""

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.console.conftest import ward  # noqa: F401  (yesterday's visits in both streets)
from tests.visits.conftest import field  # noqa: F401  (a caregiver's phone pushing real visits)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")


@pytest.fixture
def live_server(app):
    """The app on 127.0.0.1 in a thread; each request gets its own app context, as in production."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture(scope="session")
def playwright_session():
    """One Playwright driver for the run: its sync API allows only one at a time. Tests that need
    a browser launched with other flags (a fake camera) launch it from here."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session):
    browser = playwright_session.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"])
    yield browser
    browser.close()


@pytest.fixture
def page(browser, db_committed):
    context = browser.new_context(accept_downloads=True, locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def db_committed():
    """The server thread reads through its own connections: the test's data must be committed."""
    from backend.extensions import db

    db.session.commit()
    yield
    db.session.rollback()


def release():
    """End the test's own transaction before the browser acts: the server thread sees only
    committed rows, and would wait on the row locks of anything the test wrote and kept open."""
    from backend.extensions import db

    db.session.commit()


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
