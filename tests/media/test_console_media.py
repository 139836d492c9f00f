"""The console shows a visit's signature image and photos on its page, each look audited."""

from datetime import timedelta

from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.extensions import db
from tests.media.conftest import jpeg, put, sha


def visit_with_signature(field, signature_sha):
    signature = {"signer": "elder", "confirmed": True, "image_sha256": signature_sha}
    items = [
        field.phone.item("check_in", field.task.id, field.start, qr=field.qr, location=field.at_door),
        field.phone.item("check_out", field.task.id, field.start + timedelta(minutes=25), qr=field.qr,
                         location=field.at_door, services=[{"service_type": "meal", "outcome": "done", "reason": None}],
                         satisfaction=5, signature=signature),
    ]
    response = field.phone.push(items)
    assert response.status_code == 200 and {r["status"] for r in response.get_json()["results"]} == {"accepted"}


def test_the_visit_page_shows_the_signature_and_a_photo_and_each_look_is_audited(client, field, city, png, as_user):
    visit_with_signature(field, sha(png))
    assert put(client, field.phone.headers, png, field.task.id).status_code == 201
    photo = jpeg(b"door")
    assert put(client, field.phone.headers, photo, field.task.id, content_type="image/jpeg").status_code == 201
    console = as_user(city.supervisor_a)
    html = console.text(f"/console/visits/{field.task.id}")
    section = html.split('id="images"')[1].split("</section>")[0]
    assert "签名与照片" in html and 'alt="签名图片"' in section and 'alt="照片"' in section
    assert f'src="/console/media/{sha(png)}"' in section and f'src="/console/media/{sha(photo)}"' in section
    assert 'id="signature-missing"' not in html
    with console.get(f"/console/media/{sha(photo)}") as image:
        assert image.status_code == 200 and image.mimetype == "image/jpeg" and image.data == photo
    entry = db.session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
    assert entry.user_id == city.supervisor_a.id and entry.changes[0]["action"] == "read_media"
    reads = console.text("/console/reads")
    assert "服务记录的签名图片或照片" in reads and str(field.task.id) in reads


def test_a_signature_not_uploaded_yet_is_said_and_another_street_sees_no_image(client, field, city, png, as_user):
    visit_with_signature(field, sha(png))
    html = as_user(city.supervisor_a).text(f"/console/visits/{field.task.id}")
    assert 'id="signature-missing"' in html and "签退记录中有签名图片，但图片尚未上传" in html
    put(client, field.phone.headers, png, field.task.id)
    assert as_user(city.supervisor_b).get(f"/console/media/{sha(png)}").status_code == 404
