"""The media folder: an upload read into a temporary file while it is hashed and size-checked,
then renamed into place under its hash (atomic: a reader sees the whole file or none).

Files are kept as `<folder>/<first two hex digits>/<sha256>`; the folder is MEDIA_FOLDER, by
default `media/` in the instance folder. A file is named by its content, so a second writer of
the same hash writes the same bytes and either rename wins.
"""

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from backend.errors import Problem
from schemas.media import MEDIA_TYPES

CHUNK = 64 * 1024
# Three fixed signatures (PNG, JFIF/EXIF JPEG, RIFF WebP) are all the content check needs; a
# general sniffing library would add a dependency to recognise hundreds of types we refuse.
HEAD = 12

# Reasons in problem answers (their Chinese is in backend/errors.py with marshmallow's).
TYPE_REFUSED = "Must be image/png, image/jpeg or image/webp."
NOT_OF_TYPE = "The bytes are not an image of the type in Content-Type."
HASH_MISMATCH = "Does not match the SHA-256 of the body."


def sniff(head: bytes) -> str | None:
    """The image type the first bytes announce, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass
class Received:
    """An upload held in a temporary file of the media folder, not yet in place."""

    sha256: str
    content_type: str
    size: int
    temp_path: Path


def folder() -> Path:
    configured = current_app.config.get("MEDIA_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "media"


def path_of(sha256: str) -> Path:
    return folder() / sha256[:2] / sha256


def receive(stream, *, sha256: str, declared_type: str | None, length: int | None, max_bytes: int) -> Received:
    """Read an upload from `stream` into a temporary file beside its final place.

    Raises unsupported_image_type (415) when the declared type is not an image we keep or the
    bytes are not of that type, payload_too_large (413) as soon as more than `max_bytes` are
    declared or read (nothing beyond is buffered), hash_mismatch (422) when the bytes' SHA-256
    is not the one named. The temporary file is removed on every refusal.
    """
    if declared_type not in MEDIA_TYPES:
        raise Problem("unsupported_image_type", errors={"Content-Type": [TYPE_REFUSED]})
    if length is not None and length > max_bytes:
        raise Problem("payload_too_large", max_bytes=max_bytes)
    shard = path_of(sha256).parent
    shard.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=shard, prefix=".upload-")
    temp = Path(name)
    try:
        digest, size, head = hashlib.sha256(), 0, b""
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise Problem("payload_too_large", max_bytes=max_bytes)
                if len(head) < HEAD:
                    head += chunk[:HEAD - len(head)]
                    if len(head) >= HEAD and sniff(head) != declared_type:
                        raise _wrong_content(declared_type)
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if sniff(head) != declared_type:
            raise _wrong_content(declared_type)
        if digest.hexdigest() != sha256:
            raise Problem("hash_mismatch", errors={"sha256": [HASH_MISMATCH]})
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return Received(sha256=sha256, content_type=declared_type, size=size, temp_path=temp)


def put_in_place(received: Received) -> None:
    """Rename the temporary file to the hash's name (an existing file of that hash holds the
    same bytes and stays), and make the rename durable."""
    final = path_of(received.sha256)
    if final.exists():
        received.temp_path.unlink(missing_ok=True)
        return
    os.chmod(received.temp_path, 0o640)
    os.replace(received.temp_path, final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _wrong_content(declared: str) -> Problem:
    return Problem("unsupported_image_type", errors={"body": [NOT_OF_TYPE]}, declared=declared)
