"""Media payloads: signature images and photos uploaded by content hash (PUT /api/v1/media/{sha256})."""

from schemas import fields
from schemas.common import Out, Strict

MEDIA_TYPES = ("image/png", "image/jpeg", "image/webp")
SHA256_PATTERN = r"^[0-9a-f]{64}$"


class MediaUploadArgs(Strict):
    task_id = fields.Integer(required=True, metadata={
        "description": "the task the image belongs to: one of the caller's own tasks"})


class MediaSchema(Out):
    sha256 = fields.String(metadata={"description": "64 lower-case hex digits: the SHA-256 of the bytes"})
    content_type = fields.String(metadata={"enum": list(MEDIA_TYPES)})
    size = fields.Integer(metadata={"description": "bytes"})
    uploaded_at = fields.AwareDateTime()
    task_ids = fields.List(fields.Integer(), metadata={
        "description": "the tasks that reference the image and the caller may see"})
