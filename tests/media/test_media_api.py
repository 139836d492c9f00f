"""PUT /api/v1/media/{sha256}: stored once by hash, type judged by the bytes, size limited while
read, scoped to the uploader's tasks; GET answers those who may see the visit and is audited."""

import io
from datetime import timedelta

from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.extensions import db
from backend.media import storage
from backend.media.models import Media, MediaTask
from backend.tasks.models import Task
from tests.api.conftest import assert_problem
from tests.media.conftest import jpeg, put, sha, webp


def test_an_image_is_stored_once_and_a_second_upload_is_answered_200(app, client, city, field, png):
    first = put(client, field.phone.headers, png, field.task.id)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["sha256"] == sha(png) and body["content_type"] == "image/png" and body["size"] == len(png)
    assert body["task_ids"] == [field.task.id]
    again = put(client, field.phone.headers, png, field.task.id)
    assert again.status_code == 200 and again.get_json()["task_ids"] == [field.task.id]
    with app.app_context():
        assert storage.path_of(sha(png)).read_bytes() == png
        assert not [p for p in storage.path_of(sha(png)).parent.iterdir() if p.name.startswith(".upload-")]
    [row] = db.session.execute(select(Media)).scalars().all()
    assert (row.uploaded_by_id, row.size) == (city.caregiver.id, len(png))


def test_the_same_image_for_a_second_task_is_linked_to_both(client, field, png):
    assert put(client, field.phone.headers, png, field.tasks[0].id).status_code == 201
    second = put(client, field.phone.headers, png, field.task.id)
    assert second.status_code == 200
    assert second.get_json()["task_ids"] == sorted([field.tasks[0].id, field.task.id])
    links = db.session.execute(select(MediaTask.task_id).order_by(MediaTask.task_id)).scalars().all()
    assert links == sorted([field.tasks[0].id, field.task.id])


def test_jpeg_and_webp_are_taken_by_their_bytes(client, field):
    for data, kind in ((jpeg(), "image/jpeg"), (webp(), "image/webp")):
        response = put(client, field.phone.headers, data, field.task.id, content_type=kind)
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["content_type"] == kind


def test_a_type_that_is_not_an_image_we_keep_is_415(client, field):
    data = b"GIF89a" + b"\x00" * 20
    response = put(client, field.phone.headers, data, field.task.id, content_type="image/gif")
    assert_problem(response, 415, "unsupported_image_type", "Content-Type")
    assert response.get_json()["errors"]["Content-Type"] == ["须为 image/png、image/jpeg 或 image/webp。"]


def test_bytes_that_are_not_the_declared_type_are_415(app, client, field, png):
    response = put(client, field.phone.headers, jpeg(), field.task.id, content_type="image/png")
    assert_problem(response, 415, "unsupported_image_type", "body")
    response = put(client, {**field.phone.headers, "Accept-Language": "en"}, b"<svg/>", field.task.id)
    body = assert_problem(response, 415, "unsupported_image_type", "body")
    assert body["title"] == "The image must be PNG, JPEG or WebP"
    assert db.session.execute(select(Media)).first() is None


def test_bytes_whose_hash_differs_from_the_path_are_422(client, field, png):
    response = put(client, field.phone.headers, png, field.task.id, digest=sha(b"something else"))
    body = assert_problem(response, 422, "hash_mismatch", "sha256")
    assert body["errors"]["sha256"] == ["与请求体的 SHA-256 不一致。"]
    response = put(client, field.phone.headers, png, field.task.id, digest="ABC")
    assert_problem(response, 422, "validation_failed", "sha256")
    assert db.session.execute(select(Media)).first() is None


def test_a_task_that_is_not_the_uploaders_is_404(client, city, field, png, login):
    other = put(client, login(city.worker_a, device_id="worker-phone"), png, field.task.id)
    assert_problem(other, 404, "not_found")
    assert_problem(put(client, field.phone.headers, png, 2_000_000), 404, "not_found")
    supervisor = put(client, login(city.supervisor_a), png, field.task.id)
    assert_problem(supervisor, 403, "forbidden")
    assert_problem(put(client, {}, png, field.task.id), 401, "unauthorized")


def test_a_missing_task_id_is_422(client, field, png):
    response = client.put(f"/api/v1/media/{sha(png)}", data=png,
                          headers={**field.phone.headers, "Content-Type": "image/png"})
    assert_problem(response, 422, "validation_failed", "task_id")


def test_an_image_over_the_limit_is_refused_as_declared_and_as_read(app, client, field, png, monkeypatch,
                                                                     media_folder):
    monkeypatch.setitem(app.config, "MEDIA_MAX_BYTES", len(png) - 1)
    assert_problem(put(client, field.phone.headers, png, field.task.id), 413, "payload_too_large")
    # Sent without a length (chunked, as gunicorn hands it on): refused once the limit is passed.
    chunked = client.put(f"/api/v1/media/{sha(png)}", query_string={"task_id": field.task.id},
                         input_stream=io.BytesIO(png), environ_overrides={"wsgi.input_terminated": True},
                         headers={**field.phone.headers, "Content-Type": "image/png", "Transfer-Encoding": "chunked"})
    assert_problem(chunked, 413, "payload_too_large")
    assert [path for path in media_folder.rglob("*") if path.is_file()] == []
    monkeypatch.setitem(app.config, "MEDIA_MAX_BYTES", len(png))
    assert put(client, field.phone.headers, png, field.task.id).status_code == 201


def test_a_supervisor_in_scope_reads_the_image_and_the_read_is_audited(client, city, field, png, login):
    put(client, field.phone.headers, png, field.task.id)
    response = client.get(f"/api/v1/media/{sha(png)}", headers=login(city.supervisor_a))
    assert response.status_code == 200 and response.mimetype == "image/png" and response.data == png
    response.close()
    entry = db.session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
    [change] = entry.changes
    assert entry.user_id == city.supervisor_a.id
    assert change == {"table": "media", "action": "read_media", "ids": [sha(png)], "rows": 1,
                      "tasks": [field.task.id], "regions": [field.task.community_id]}


def test_an_image_is_not_found_outside_the_readers_scope(client, city, field, png, login):
    put(client, field.phone.headers, png, field.task.id)
    assert_problem(client.get(f"/api/v1/media/{sha(png)}", headers=login(city.supervisor_b)), 404, "not_found")
    assert_problem(client.get(f"/api/v1/media/{sha(b'never uploaded')}", headers=login(city.admin)), 404, "not_found")
    with client.get(f"/api/v1/media/{sha(png)}", headers=login(city.admin)) as response:
        assert response.status_code == 200


def test_an_image_larger_than_a_sync_push_is_taken_up_to_the_media_limit(app, client, field):
    photo = jpeg(b"\x00" * (3 * 1024 * 1024))  # above MAX_CONTENT_LENGTH (2 MiB), below 5 MiB
    assert len(photo) > app.config["MAX_CONTENT_LENGTH"] and len(photo) < app.config["MEDIA_MAX_BYTES"]
    response = put(client, field.phone.headers, photo, field.task.id, content_type="image/jpeg")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["size"] == len(photo)


def test_a_visit_reassigned_away_afterwards_still_takes_its_images(client, city, field, png):
    signature = {"signer": "elder", "confirmed": True, "image_sha256": sha(png)}
    items = [field.phone.item("check_in", field.task.id, field.start, qr=field.qr, location=field.at_door),
             field.phone.item("check_out", field.task.id, field.start + timedelta(minutes=25), qr=field.qr,
                              location=field.at_door, services=[{"service_type": "meal", "outcome": "done",
                                                                 "reason": None}], signature=signature)]
    assert field.phone.push(items).status_code == 200
    task = db.session.get(Task, field.task.id)
    task.assignee_id = city.caregiver_other.id
    db.session.commit()
    response = put(client, field.phone.headers, png, field.task.id)
    assert response.status_code == 201 and response.get_json()["task_ids"] == [field.task.id]
