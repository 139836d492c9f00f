"""The field app's shell as served: its page, manifest, service worker, policy, size, and the
console's link to it."""

import gzip
import json
import re
import shutil
import subprocess

import pytest

from backend.fieldapp.strings import STRINGS
from backend.fieldapp.views import STATIC, shell
from backend.security_headers import APP_POLICY
from tests.conftest import PASSWORD
from tests.console.conftest import ConsoleClient

SHELL_LIMIT = 150 * 1024  # gzipped, the QR decoder aside (issue 15, item 7)


@pytest.fixture
def get(client):
    """GET a file of the app, read it and let it go (a file response holds its file open)."""
    def do(path, **kwargs):
        response = client.get(path, **kwargs)
        response.get_data()
        response.close()
        return response
    return do


def test_the_app_page_runs_only_its_own_module_under_a_strict_policy(get):
    response = get("/app/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert policy == APP_POLICY
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "http" not in policy
    page = response.get_data(as_text=True)
    assert re.findall(r"<script\b[^>]*>", page) == ['<script type="module" src="js/app.js">']
    assert "</script>" in page and not re.search(r"<script[^>]*>[^<]+</script>", page)  # nothing inline
    assert ' style="' not in page and " on" not in page.split("<body>")[1].split(">")[0]


def test_every_script_of_the_shell_loads_only_files_of_this_origin():
    loads = re.compile(r"(?:\bfrom|\bimport\(|importScripts\(|new Worker\(|fetch\()\s*['\"`]([^'\"`]+)")
    for path in sorted(STATIC.rglob("*.js")):
        for target in loads.findall(path.read_text()):
            assert not re.match(r"(https?:)?//", target), (path, target)


def test_the_manifest_installs_the_app_standalone_with_its_icons(get):
    response = get("/app/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["name"] == "关爱巡访" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert get("/app/" + icon["src"]).status_code == 200


def test_the_service_worker_carries_the_shells_version_and_files(get):
    response = get("/app/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    _, files = shell()
    assert re.search(r'const VERSION = "[0-9a-f]{16}";', body)
    assert "__SHELL" not in body and "skipWaiting()" not in body  # a new shell waits for the next start
    for name in ("./", "strings.js", "js/app.js", "js/sync.js", "css/app.css", "manifest.webmanifest",
                 "vendor/jsqr-1.4.0/jsQR.js", "js/qr-worker.js"):
        assert f'"{name}"' in body
    for name in files:
        assert get("/app/" + name).status_code == 200, name
    assert get("/app/sw.template.js").status_code == 404


def test_the_apps_words_come_from_the_babel_catalogue_in_both_languages(get):
    response = get("/app/strings.js")
    assert response.mimetype == "text/javascript"
    words = json.loads(response.get_data(as_text=True).removeprefix("export default ").rstrip().rstrip(";"))
    zh, en = words["zh"], words["en"]
    assert zh["app_name"] == "关爱巡访" and en["app_name"] == "CareRounds field"
    assert zh["flag_qr_missing"] == "未扫门牌" and zh["service_meal"] == "助餐" and en["service_meal"] == "Meals"
    assert set(zh) == set(en) >= set(STRINGS)
    assert not [key for key, msgid in STRINGS.items() if zh[key] == msgid]  # every word has its Chinese


def test_the_shell_is_under_150_kb_gzipped_without_the_decoder():
    _, files = shell()
    size = sum(len(gzip.compress((STATIC / name).read_bytes(), 9)) for name in files if not name.startswith("vendor/"))
    assert 0 < size < SHELL_LIMIT


def test_the_vendored_decoder_keeps_its_licence_beside_it():
    folder = STATIC / "vendor" / "jsqr-1.4.0"
    assert "Apache License" in (folder / "LICENSE").read_text()
    assert "1.4.0" in (folder / "README").read_text()


def console_at(app, user, base_url):
    """A console signed in at that address (its session cookie belongs to that host)."""
    console = ConsoleClient(app.test_client())
    console.get("/console/login", base_url=base_url)
    console.post("/console/login", {"username": user.username, "password": PASSWORD}, base_url=base_url,
                 headers={"Referer": base_url + "/console/login"})  # CSRF over https checks the referrer
    return console


def test_the_console_home_links_the_app_with_a_qr_code(app, city):
    page = console_at(app, city.supervisor_a, "http://127.0.0.1:8000").text("/console/", base_url="http://127.0.0.1:8000")
    assert "手机端：关爱巡访" in page
    assert 'href="http://127.0.0.1:8000/app/"' in page
    assert 'src="data:image/png;base64,' in page
    assert "不加密的 HTTP" not in page  # loopback is a secure context for browsers


@pytest.mark.parametrize(("base_url", "warned"), [
    ("http://192.168.1.20:8000", True), ("http://care.example.org", True), ("https://care.example.org", False),
    ("http://localhost:8000", False), ("http://[::1]:8000", False)])
def test_the_console_warns_when_phones_would_reach_the_app_over_plain_http(app, city, base_url, warned):
    page = console_at(app, city.supervisor_a, base_url).text("/console/", base_url=base_url)
    assert ("不加密的 HTTP" in page) is warned


def test_the_plain_http_warning_in_english(app, city):
    base_url = "http://192.168.1.20:8000"
    page = console_at(app, city.supervisor_a, base_url).text("/console/?lang=en", base_url=base_url,
                                                            headers={"Accept-Language": "en"})
    assert "plain HTTP" in page and "The field app for phones" in page


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_every_module_of_the_shell_parses():
    for path in sorted((STATIC / "js").glob("*.js")):
        done = subprocess.run(["node", "--input-type=module", "--check"], input=path.read_bytes(),
                              capture_output=True, timeout=60)
        assert done.returncode == 0, (path.name, done.stderr.decode()[-2000:])
