"""Media endpoints: a phone uploads a signature image or photo by its hash; those who may see one
of its visits read it back.

PUT is for caregivers and community workers, scoped to their own tasks (404 otherwise); GET is
for everyone, scoped by the tasks referencing the image (404 when none is visible), and each
GET is recorded in the audit trail as a read of the visit's evidence.
"""

import re

from flask import Response, current_app, g, request, send_file

from backend.api import Blueprint
from backend.auth.access import roles
from backend.clock import utcnow
from backend.errors import NotFound, Problem
from backend.extensions import db
from backend.media import services, storage
from backend.media.models import Media
from schemas.media import MEDIA_TYPES, SHA256_PATTERN, MediaSchema, MediaUploadArgs

blp = Blueprint("media", __name__, url_prefix="/api/v1/media",
                description="Signature images and photos of visits, by content hash (图片)")
BINARY = {"type": "string", "format": "binary"}
SHA256 = re.compile(SHA256_PATTERN)
HASH_FORMAT = "Must be 64 lower-case hexadecimal digits."


@blp.put("/<sha256>")
@roles("caregiver", "community_worker")
@blp.arguments(MediaUploadArgs, location="query")
@blp.doc(requestBody={"required": True, "content": {kind: {"schema": BINARY} for kind in MEDIA_TYPES}})
@blp.response(201, MediaSchema, description="stored")
@blp.alt_response(200, schema=MediaSchema, description="already held; the task now references it too")
# Refused: 404 a task not the caller's, 413 payload_too_large (with max_bytes), 415 unsupported_image_type,
# 422 hash_mismatch or validation_failed (docs/sync-protocol.md 6.8 says what a phone does with each).
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def upload(args, sha256):
    """Upload an image by its SHA-256: idempotent, its type checked by its bytes, its size limited."""
    _check_hash(sha256)
    task = services.uploader_task(args["task_id"], g.user)
    # A request run again after a lost transaction (backend/retries.py) finds the body read.
    received = request.environ.get("carerounds.media")
    if received is None:
        limit = current_app.config["MEDIA_MAX_BYTES"]
        request.max_content_length = limit
        received = request.environ["carerounds.media"] = storage.receive(
            request.stream, sha256=sha256, declared_type=request.mimetype or None,
            length=request.content_length, max_bytes=limit)
        storage.put_in_place(received)
    created = services.record_upload(received, task, by=g.user, at=utcnow())
    db.session.commit()
    # The task uploaded for is named even when reassigned away since its visit (no longer listed).
    tasks = {t.id: t for t in services.visible_tasks(sha256, g.user)} | {task.id: task}
    return _represent(db.session.get(Media, sha256), sorted(tasks.values(), key=lambda t: t.id)), \
        201 if created else 200


@blp.get("/<sha256>")
@blp.response(200, BINARY, content_type="image/png", description="the image, in its own type "
              "(image/png, image/jpeg or image/webp)")
@blp.alt_response(404, response="NOT_FOUND")
def read(sha256):
    """The image, to anyone who may see one of the tasks referencing it; the read is audited."""
    _check_hash(sha256)
    return image_response(sha256, g.user)


def image_response(sha256: str, viewer) -> Response:
    """The image for `viewer` (404 unless they may see a task referencing it), its read audited
    and committed; the API's GET and the console's visit page both answer with this."""
    media, _tasks = services.read(sha256, viewer)
    path = storage.path_of(media.sha256)
    if not path.is_file():
        raise NotFound("media")
    db.session.commit()
    response = send_file(path, mimetype=media.content_type, etag=media.sha256, max_age=0, conditional=True)
    response.headers["Cache-Control"] = "private, no-cache"  # revalidated, so every look is audited
    return response


def _check_hash(sha256: str) -> None:
    if not SHA256.fullmatch(sha256):
        raise Problem("validation_failed", errors={"sha256": [HASH_FORMAT]})


def _represent(media, tasks) -> dict:
    return {"sha256": media.sha256, "content_type": media.content_type, "size": media.size,
            "uploaded_at": media.uploaded_at, "task_ids": [task.id for task in tasks]}
