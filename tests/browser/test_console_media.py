"""A visit's signature image and photo, as a supervisor sees them on the visit's page."""

import hashlib
import io
from datetime import timedelta

from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.browser.conftest import release, shot
from tests.browser.test_console_evidence import sign_in


def signature_png() -> bytes:
    image = Image.new("RGB", (360, 140), "white")
    pen = ImageDraw.Draw(image)
    pen.line([(20, 100), (60, 40), (90, 110), (130, 30), (170, 100), (220, 60), (330, 90)], fill="navy", width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def photo_jpeg() -> bytes:
    image = Image.new("RGB", (400, 300), (200, 170, 120))
    ImageDraw.Draw(image).rectangle([140, 80, 260, 300], fill=(110, 70, 40))  # a door
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def upload(client, field, data, kind):
    digest = hashlib.sha256(data).hexdigest()
    response = client.put(f"/api/v1/media/{digest}", query_string={"task_id": field.task.id}, data=data,
                          headers={**field.phone.headers, "Content-Type": kind})
    assert response.status_code == 201, response.get_json()
    return digest


def test_the_visit_page_shows_the_signature_and_the_photo(page, live_server, client, field, city):
    signature, photo = signature_png(), photo_jpeg()
    signed = {"signer": "family", "confirmed": True, "image_sha256": hashlib.sha256(signature).hexdigest()}
    items = [
        field.phone.item("check_in", field.task.id, field.start, qr=field.qr, location=field.at_door),
        field.phone.item("check_out", field.task.id, field.start + timedelta(minutes=25), qr=field.qr,
                         location=field.at_door, services=[{"service_type": "meal", "outcome": "done", "reason": None}],
                         satisfaction=5, signature=signed),
    ]
    assert field.phone.push(items).status_code == 200
    upload(client, field, signature, "image/png")
    upload(client, field, photo, "image/jpeg")
    release()
    sign_in(page, live_server, city.supervisor_a)
    page.goto(f"{live_server}/console/visits/{field.task.id}")
    images = page.locator("#images")
    expect(images.get_by_role("heading")).to_have_text("签名与照片")
    expect(images.get_by_role("img", name="签名图片")).to_be_visible()
    expect(images.get_by_role("img", name="照片")).to_be_visible()
    # Visible is not loaded: on a busy machine the second image may still be arriving.
    page.wait_for_function("() => [...document.querySelectorAll('#images img')].every(i => i.complete)")
    loaded = page.evaluate("() => [...document.querySelectorAll('#images img')].map(i => i.naturalWidth)")
    assert loaded == [360, 400]
    images.scroll_into_view_if_needed()
    shot(page, "console-visit-media")
